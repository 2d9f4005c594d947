# ruff: noqa: PT009 - trial's unittest-style assertions are the subject here
"""
One test per outcome, each with a single outcome.  Expected counts
(trial / pytest): successes 9 / passed 9, failures 3 + errors 10 / failed 13,
skips 4 / skipped 4, expected failures 1 / xfailed 1, unexpected successes
1 / xpassed 1.
"""

from fw.internet import defer, protocol, reactor, task
from fw.python import log
from fw.trial import unittest


def later(value=None, delay=0.0):
    return task.deferLater(reactor, delay, lambda: value)


class Passing(unittest.TestCase):
    def test_synchronous(self):
        self.assertEqual(1 + 1, 2)

    def test_deferred(self):
        return later(3).addCallback(self.assertEqual, 3)

    async def test_coroutine(self):
        value = await later(4, 0.001)
        self.assertEqual(value, 4)

    def test_asyncFixtures(self):
        self.addCleanup(later)

    def test_flushedLoggedError(self):
        log.err(ValueError("expected"))
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_listenAndClose(self):
        port = reactor.listenTCP(0, protocol.Factory(), interface="127.0.0.1")
        return port.stopListening()


class AsyncSetUp(unittest.TestCase):
    async def setUp(self):
        self.value = await later(5)

    def tearDown(self):
        return later()

    def test_setUpRan(self):
        self.assertEqual(self.value, 5)


class Synchronous(unittest.SynchronousTestCase):
    def test_successResultOf(self):
        self.assertEqual(self.successResultOf(defer.succeed(6)), 6)

    def test_failureResultOf(self):
        self.failureResultOf(defer.fail(ValueError()), ValueError)


class Failing(unittest.TestCase):
    def test_assertion(self):
        self.assertEqual(1, 2)

    def test_fail(self):
        self.fail("failed on purpose")

    def test_deferredFailure(self):
        return later().addCallback(lambda _: self.fail("failed later"))


class Erroring(unittest.TestCase):
    def test_exception(self):
        raise RuntimeError("erred on purpose")

    async def test_coroutineException(self):
        await later()
        raise RuntimeError("erred later")

    def test_loggedError(self):
        log.err(ValueError("logged, not flushed"))

    def test_tearDownError(self):
        self.addCleanup(lambda: 1 / 0)


class SetUpError(unittest.TestCase):
    def setUp(self):
        raise RuntimeError("set-up failed")

    def test_neverRuns(self):
        raise AssertionError("not reached")


class TimingOut(unittest.TestCase):
    timeout = 0.05

    def test_deferredNeverFires(self):
        return defer.Deferred()

    async def test_coroutineNeverFinishes(self):
        await defer.Deferred()


class Dirty(unittest.TestCase):
    def test_pendingDelayedCall(self):
        reactor.callLater(100, lambda: None)

    def test_openPort(self):
        reactor.listenTCP(0, protocol.Factory(), interface="127.0.0.1")


class Skipped(unittest.TestCase):
    def test_skipAttribute(self):
        raise AssertionError("not reached")

    test_skipAttribute.skip = "skipped by attribute"

    def test_skipTest(self):
        raise unittest.SkipTest("skipped by exception")


class SkippedClass(unittest.SynchronousTestCase):
    skip = "the whole class is skipped"

    def test_one(self):
        raise AssertionError("not reached")

    def test_two(self):
        raise AssertionError("not reached")


class Todos(unittest.TestCase):
    def test_expectedFailure(self):
        self.assertEqual(1, 2)

    test_expectedFailure.todo = "not done yet"

    def test_unexpectedSuccess(self):
        pass

    test_unexpectedSuccess.todo = "surprisingly done"

    def test_otherError(self):
        raise TypeError("not the error expected")

    test_otherError.todo = (ValueError, "expects a ValueError")
