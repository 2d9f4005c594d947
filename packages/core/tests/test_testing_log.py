"""Tests for fw.internet.testing.EventLoggingObserver."""

from __future__ import annotations

import unittest

from zope.interface.verify import verifyObject

from fw.internet.testing import EventLoggingObserver
from fw.logger import ILogObserver, Logger, LogPublisher


def test_collects_events_as_a_sequence() -> None:
    observer = EventLoggingObserver()
    assert verifyObject(ILogObserver, observer)
    assert len(observer) == 0
    publisher = LogPublisher(observer)
    log = Logger(observer=publisher)
    log.info("one {x}", x=1)
    log.error("two")
    assert len(observer) == 2
    assert observer[0]["x"] == 1
    assert observer[1]["log_format"] == "two"
    assert [e["log_format"] for e in observer] == ["one {x}", "two"]
    assert [e["log_format"] for e in observer[1:]] == ["two"]


def test_create_with_cleanup() -> None:
    publisher = LogPublisher()
    seen: list[EventLoggingObserver] = []

    class Case(unittest.TestCase):
        def runTest(self) -> None:
            observer = EventLoggingObserver.createWithCleanup(self, publisher)
            seen.append(observer)
            publisher({"log_format": "during"})
            assert len(observer) == 1

    result = unittest.TestResult()
    Case().run(result)
    assert result.wasSuccessful(), result.failures + result.errors
    publisher({"log_format": "after"})
    assert [e["log_format"] for e in seen[0]] == ["during"]
