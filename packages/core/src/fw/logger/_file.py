"""Observers that write events to files."""

from __future__ import annotations

from collections.abc import Callable

from zope.interface import implementer

from fw.logger._format import formatEventAsClassicLogText, formatTime, timeFormatRFC3339
from fw.logger._interfaces import ILogObserver, LogEvent, TextWriter

__all__ = ["FileLogObserver", "textFileLogObserver"]


@implementer(ILogObserver)
class FileLogObserver:
    """Writes the text of each event to a file, and flushes it.

    Args:
        outFile: a text file (anything with ``write(str)``; ``flush()`` is
            called if it has one).
        formatEvent: renders an event as the exact text to write (with its
            newline); an event it renders as ``None`` or ``""`` is skipped.
    """

    def __init__(self, outFile: TextWriter, formatEvent: Callable[[LogEvent], str | None]) -> None:
        self._write = outFile.write
        self._flush: Callable[[], object] | None = getattr(outFile, "flush", None)
        self.formatEvent = formatEvent

    def __call__(self, event: LogEvent) -> None:
        """Write ``event``."""
        text = self.formatEvent(event)
        if text:
            self._write(text)
            if self._flush is not None:
                self._flush()


def textFileLogObserver(
    outFile: TextWriter, timeFormat: str | None = timeFormatRFC3339
) -> FileLogObserver:
    """Return an observer writing events to ``outFile`` in the classic text format.

    One line per event, ``2026-01-01T12:00:00+0000 [system] message``, with
    the continuation lines of multi-line messages starting with a tab.

    Args:
        outFile: the text file.
        timeFormat: the :meth:`~datetime.datetime.strftime` format of the
            time, or ``None`` for ``-``.
    """

    def formatTimeWith(when: float | None) -> str:
        return formatTime(when, timeFormat)

    def formatEvent(event: LogEvent) -> str | None:
        return formatEventAsClassicLogText(event, formatTime=formatTimeWith)

    return FileLogObserver(outFile, formatEvent)
