"""
Write a test suite for the ``trial_serial`` and ``trial_j2`` benchmarks.

``python suite.py DIRECTORY FRAMEWORK`` writes the package ``benchsuite``
into ``DIRECTORY``, importing from ``FRAMEWORK`` (``fw`` or ``twisted``):
the same tests for both, so that fw's ``trial`` and Twisted's run the same
work.  Each module holds trial test cases of three kinds, about ten
milliseconds each: a CPU-bound synchronous test, a test whose Deferred
fires from a timer after CPU work, and a chain of Deferred callbacks.
"""

from __future__ import annotations

import sys
from pathlib import Path

MODULES = 10
TESTS_PER_KIND = 15  # per module and kind: 10 * 3 * 15 = 450 tests

TEMPLATE = """\
from {framework}.internet import defer, reactor, task
from {framework}.trial import unittest


def work(n=150000):
    total = 0
    for i in range(n):
        total += i * i
    return total


class Synchronous(unittest.SynchronousTestCase):
{synchronous}


class Timers(unittest.TestCase):
{timers}


class Chains(unittest.TestCase):
{chains}
"""

SYNCHRONOUS = """    def test_{i}(self):
        self.assertEqual(work() % 7, {expected})
"""
TIMER = """    def test_{i}(self):
        return task.deferLater(reactor, 0.001, work).addCallback(
            lambda total: self.assertEqual(total % 7, {expected})
        )
"""
CHAIN = """    def test_{i}(self):
        d = defer.Deferred()
        for _ in range(2000):
            d.addCallback(lambda x: x + 1)
        d.callback(0)
        return d.addCallback(self.assertEqual, 2000)
"""


def write(directory: Path, framework: str) -> int:
    """Write the suite; return how many tests it has."""
    package = directory / "benchsuite"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    expected = sum(i * i for i in range(150000)) % 7
    for m in range(MODULES):
        kinds = {
            name: "\n".join(template.format(i=i, expected=expected) for i in range(TESTS_PER_KIND))
            for name, template in (
                ("synchronous", SYNCHRONOUS),
                ("timers", TIMER),
                ("chains", CHAIN),
            )
        }
        (package / f"test_m{m}.py").write_text(TEMPLATE.format(framework=framework, **kinds))
    return MODULES * 3 * TESTS_PER_KIND


if __name__ == "__main__":
    print(write(Path(sys.argv[1]), sys.argv[2]))
