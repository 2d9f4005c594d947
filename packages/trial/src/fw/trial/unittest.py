"""
Trial's test cases: :class:`TestCase` for asynchronous code (Deferreds and
coroutines, on the reactor) and :class:`SynchronousTestCase` for code that
needs no running reactor.  Port a Twisted test by renaming
``twisted.trial.unittest`` to ``fw.trial.unittest``.
"""

from unittest import TestSuite

from fw.trial._assertions import FailTest
from fw.trial._asynctest import TestCase
from fw.trial._synctest import SkipTest, SynchronousTestCase, Todo, makeTodo

__all__ = [
    "FailTest",
    "SkipTest",
    "SynchronousTestCase",
    "TestCase",
    "TestSuite",
    "Todo",
    "makeTodo",
]
