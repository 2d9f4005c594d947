# ruff: noqa: PT009, PT027 - trial's unittest-style assertions are the subject here
"""
The assertion methods trial test cases have beyond :mod:`unittest`'s, with
Twisted's names and aliases, and the synchronous Deferred inspectors
(``successResultOf``, ``failureResultOf``, ``assertNoResult``).
"""

from __future__ import annotations

import inspect
import unittest as pyunit
import warnings
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, NoReturn, TypeVar, cast

from fw.internet.defer import Deferred, ensureDeferred
from fw.python.failure import Failure

__all__ = ["FailTest", "_Assertions"]

# unittest leaves this module's frames out of the tracebacks it prints.
__unittest = True

_T = TypeVar("_T")
_E = TypeVar("_E", bound=BaseException)


class FailTest(AssertionError):
    """Raised by a failed assertion: the test failed (as opposed to erred)."""


_NO_RESULT: Any = object()


def _currentResult(deferred: Deferred[Any] | Coroutine[Any, Any, Any]) -> Any:
    """
    The result a Deferred has now (:data:`_NO_RESULT` if none), without
    waiting.  A coroutine is run as a Deferred first.  A failure result is
    handled (the Deferred then holds ``None``), so it is not logged as
    unhandled later.
    """
    if inspect.iscoroutine(deferred):
        deferred = ensureDeferred(deferred)
    results: list[Any] = []
    cast(Deferred[Any], deferred).addBoth(results.append)
    if not results:
        return _NO_RESULT
    result = results[0]
    if not isinstance(result, Failure):
        # Put the value back for any callback added after us.
        cast(Deferred[Any], deferred).addCallback(lambda _: result)
    return result


class _Assertions(pyunit.TestCase):
    """Trial's assertions, mixed into :class:`~fw.trial.unittest.SynchronousTestCase`."""

    failureException: type[BaseException] = FailTest

    def fail(self, msg: object = None) -> NoReturn:
        """Fail the test with ``msg``."""
        raise self.failureException(msg)

    def assertFalse(self, condition: object, msg: object = None) -> Any:
        """Fail if ``condition`` is true; return ``condition``."""
        if condition:
            raise self.failureException(msg if msg is not None else f"{condition!r} is true")
        return condition

    def assertTrue(self, condition: object, msg: object = None) -> Any:
        """Fail unless ``condition`` is true; return ``condition``."""
        if not condition:
            raise self.failureException(msg if msg is not None else f"{condition!r} is false")
        return condition

    def assertRaises(self, exception: Any, f: Any = None, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """
        Fail unless ``f(*args, **kwargs)`` raises ``exception``; return the
        exception raised.  Without ``f``, a context manager as in
        :mod:`unittest`.
        """
        if f is None:
            return super().assertRaises(exception, **kwargs)
        try:
            result = f(*args, **kwargs)
        except exception as e:
            return e
        except BaseException as e:
            raise self.failureException(f"{exception!r} raised instead of {type(e)!r}") from e
        raise self.failureException(f"{exception!r} not raised ({result!r} returned)")

    def assertEqual(self, first: Any, second: Any, msg: object = None) -> Any:
        """Fail unless ``first == second``; return ``first``."""
        super().assertEqual(first, second, msg)
        return first

    def assertNotEqual(self, first: Any, second: Any, msg: object = None) -> Any:
        """Fail if ``first == second``; return ``first``."""
        if not first != second:
            raise self.failureException(msg if msg is not None else f"{first!r} == {second!r}")
        return first

    def assertIs(self, first: Any, second: Any, msg: object = None) -> Any:
        """Fail unless ``first is second``; return ``first``."""
        if first is not second:
            raise self.failureException(msg if msg is not None else f"{first!r} is not {second!r}")
        return first

    def assertIsNot(self, first: Any, second: Any, msg: object = None) -> Any:
        """Fail if ``first is second``; return ``first``."""
        if first is second:
            raise self.failureException(msg if msg is not None else f"{first!r} is {second!r}")
        return first

    def assertIn(self, containee: Any, container: Any, msg: object = None) -> Any:
        """Fail unless ``containee in container``; return ``containee``."""
        if containee not in container:
            raise self.failureException(
                msg if msg is not None else f"{containee!r} not in {container!r}"
            )
        return containee

    def assertNotIn(self, containee: Any, container: Any, msg: object = None) -> Any:
        """Fail if ``containee in container``; return ``containee``."""
        if containee in container:
            raise self.failureException(
                msg if msg is not None else f"{containee!r} in {container!r}"
            )
        return containee

    def assertApproximates(
        self, first: Any, second: Any, tolerance: Any, msg: object = None
    ) -> Any:
        """Fail unless ``abs(first - second) <= tolerance``; return ``first``."""
        if abs(first - second) > tolerance:
            raise self.failureException(msg if msg is not None else f"{first!r} ~== {second!r}")
        return first

    def assertAlmostEqual(  # type: ignore[override]
        self, first: Any, second: Any, places: int = 7, msg: object = None, delta: Any = None
    ) -> Any:
        """Fail unless ``first`` and ``second`` agree to ``places`` decimals; return ``first``."""
        super().assertAlmostEqual(
            first, second, places=None if delta else places, msg=msg, delta=delta
        )
        return first

    def assertNotAlmostEqual(  # type: ignore[override]
        self, first: Any, second: Any, places: int = 7, msg: object = None, delta: Any = None
    ) -> Any:
        """Fail if ``first`` and ``second`` agree to ``places`` decimals; return ``first``."""
        super().assertNotAlmostEqual(
            first, second, places=None if delta else places, msg=msg, delta=delta
        )
        return first

    def assertSubstring(self, substring: Any, astring: Any, msg: object = None) -> None:
        """Fail unless ``substring`` occurs in ``astring``."""
        self.assertIn(substring, astring, msg)

    def assertNotSubstring(self, substring: Any, astring: Any, msg: object = None) -> None:
        """Fail if ``substring`` occurs in ``astring``."""
        self.assertNotIn(substring, astring, msg)

    def assertIsInstance(self, instance: Any, classOrTuple: Any, message: object = None) -> None:
        """Fail unless ``isinstance(instance, classOrTuple)``."""
        if not isinstance(instance, classOrTuple):
            raise self.failureException(
                message
                if message is not None
                else f"{instance!r} is not an instance of {classOrTuple}"
            )

    def assertNotIsInstance(
        self, instance: Any, classOrTuple: Any, message: object = None
    ) -> None:
        """Fail if ``isinstance(instance, classOrTuple)``."""
        if isinstance(instance, classOrTuple):
            raise self.failureException(
                message
                if message is not None
                else f"{instance!r} is an instance of {classOrTuple}"
            )

    def assertWarns(self, category: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """
        Twisted's form, ``assertWarns(category, message, filename, f, *args)``:
        fail unless calling ``f`` emits one warning of ``category`` with that
        message from ``filename``; return what ``f`` returned.  Any other form
        is :meth:`unittest.TestCase.assertWarns`.
        """
        if len(args) < 3 or not isinstance(args[0], str) or not callable(args[2]):
            return super().assertWarns(category, *args, **kwargs)
        message, filename, f, *rest = args
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = f(*rest, **kwargs)
        if not caught:
            raise self.failureException("No warnings emitted")
        first = caught[0]
        for other in caught[1:]:
            if (str(other.message), other.category) != (str(first.message), first.category):
                raise self.failureException("Can't handle different warnings")
        self.assertEqual(first.category, category)
        self.assertEqual(str(first.message), message)
        self.assertTrue(
            first.filename.startswith(filename.rsplit(".py", 1)[0]),
            f"warning in {first.filename!r}, not {filename!r}",
        )
        return result

    # -- Deferreds

    def assertFailure(
        self, deferred: Deferred[Any], *expectedFailures: type[BaseException]
    ) -> Deferred[Any]:
        """
        Fail unless ``deferred`` fails with one of ``expectedFailures``.

        Returns:
            ``deferred``, which then fires with the exception, or fails the
            test (return it from the test).
        """

        def succeeded(result: object) -> NoReturn:
            raise self.failureException(f"did not catch an error, instead got {result!r}")

        def failed(failure: Failure) -> BaseException:
            if failure.check(*expectedFailures):
                return failure.value
            raise self.failureException(f"\nExpected: {expectedFailures!r}\nGot:\n{failure}")

        return deferred.addCallbacks(succeeded, failed)

    def successResultOf(self, deferred: Deferred[_T] | Coroutine[Any, Any, _T]) -> _T:
        """
        Return the result ``deferred`` has already succeeded with.

        Raises:
            FailTest: it has no result yet, or it has failed.
        """
        result = _currentResult(deferred)
        if result is _NO_RESULT:
            self.fail(f"Success result expected on {deferred!r}, found no result instead")
        if isinstance(result, Failure):
            self.fail(
                f"Success result expected on {deferred!r}, found failure result "
                f"instead:\n{result.getTraceback()}"
            )
        return cast(_T, result)

    def failureResultOf(
        self,
        deferred: Deferred[Any] | Coroutine[Any, Any, Any],
        *expectedExceptionTypes: type[BaseException],
    ) -> Failure:
        """
        Return the failure ``deferred`` has already failed with (one of
        ``expectedExceptionTypes``, when given).  The failure is handled.

        Raises:
            FailTest: it has no result yet, has succeeded, or failed with
                another exception.
        """
        result = _currentResult(deferred)
        if result is _NO_RESULT:
            self.fail(f"Failure result expected on {deferred!r}, found no result instead")
        if not isinstance(result, Failure):
            self.fail(
                f"Failure result expected on {deferred!r}, found success result "
                f"({result!r}) instead"
            )
        if expectedExceptionTypes and not result.check(*expectedExceptionTypes):
            expected = " or ".join(
                f"{t.__module__}.{t.__qualname__}" for t in expectedExceptionTypes
            )
            self.fail(
                f"Failure of type ({expected}) expected on {deferred!r}, found type "
                f"{result.type!r} instead: {result.getTraceback()}"
            )
        return result

    def assertNoResult(self, deferred: Deferred[Any]) -> None:
        """
        Fail if ``deferred`` has a result already.  A failure result is
        handled, so it is not logged as unhandled.
        """
        result = _currentResult(deferred)
        if result is not _NO_RESULT:
            if isinstance(result, Failure):
                deferred.addBoth(lambda _: None)
            self.fail(f"No result expected on {deferred!r}, found {result!r} instead")

    # Twisted's aliases.
    assertEquals = assertEqual
    failUnlessEqual = assertEqual
    failUnlessEquals = assertEqual
    assertNotEquals = assertNotEqual
    failIfEqual = assertNotEqual
    failIfEquals = assertNotEqual
    assertIdentical = assertIs
    failUnlessIdentical = assertIs
    assertNotIdentical = assertIsNot
    failIfIdentical = assertIsNot
    failUnlessIn = assertIn
    failIfIn = assertNotIn
    failUnless = assertTrue  # type: ignore[assignment]
    assert_ = assertTrue  # type: ignore[assignment]
    failIf = assertFalse  # type: ignore[assignment]
    failUnlessRaises = assertRaises  # type: ignore[assignment]
    failUnlessApproximates = assertApproximates
    assertAlmostEquals = assertAlmostEqual  # type: ignore[assignment]
    failUnlessAlmostEqual = assertAlmostEqual  # type: ignore[assignment]
    assertNotAlmostEquals = assertNotAlmostEqual  # type: ignore[assignment]
    failIfAlmostEqual = assertNotAlmostEqual  # type: ignore[assignment]
    failUnlessSubstring = assertSubstring
    failIfSubstring = assertNotSubstring
    failUnlessFailure = assertFailure


def _functionRange(f: Callable[..., object]) -> tuple[str, int, int] | None:
    """The file and first and last line of a function or method's code."""
    code = getattr(getattr(f, "__func__", f), "__code__", None)
    if code is None:
        return None
    lines = [line for _, _, line in code.co_lines() if line is not None]
    first = code.co_firstlineno
    return code.co_filename, first, max([first, *lines])


def _matchesAny(filename: str, lineno: int, ranges: Iterable[tuple[str, int, int] | None]) -> bool:
    return any(r is not None and r[0] == filename and r[1] <= lineno <= r[2] for r in ranges)
