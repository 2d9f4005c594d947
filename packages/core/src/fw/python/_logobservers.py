"""Classic observers and files of :mod:`fw.python.log`, and starting to log."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fw.logger._interfaces import TextWriter
from fw.logger._io import LoggingFile
from fw.logger._legacy import publishToNewObserver
from fw.logger._stdlib import STDLibLogObserver
from fw.python import _log
from fw.python._log import EventDict, LegacyObserver, _safeFormat, msg, textFromEventDict

__all__ = [
    "FileLogObserver",
    "NullFile",
    "PythonLoggingObserver",
    "StdioOnnaStick",
    "addObserver",
    "removeObserver",
    "startLogging",
    "startLoggingWithObserver",
]


def addObserver(observer: LegacyObserver) -> None:
    """Add a classic observer to the process's log (see :class:`~fw.python.log.ILogObserver`)."""
    _log.theLogPublisher.addObserver(observer)


def removeObserver(observer: LegacyObserver) -> None:
    """Remove a classic observer from the process's log."""
    _log.theLogPublisher.removeObserver(observer)


class _GlobalStartStopObserver:
    """A classic observer object with ``emit``, ``start`` and ``stop``."""

    def emit(self, eventDict: EventDict) -> None:
        """Handle one classic event."""
        raise NotImplementedError()

    def start(self) -> None:
        """Start observing the process's log."""
        addObserver(self.emit)

    def stop(self) -> None:
        """Stop observing the process's log."""
        removeObserver(self.emit)


class FileLogObserver(_GlobalStartStopObserver):
    """Writes classic log lines to a file.

    Each event is one line, ``2026-01-01 12:00:00+0000 [system] message``,
    with the continuation lines of multi-line messages starting with a tab.

    Args:
        f: a text file.

    Attributes:
        timeFormat: a :meth:`~datetime.datetime.strftime` format for the
            time, or ``None`` for the format above.
    """

    timeFormat: str | None = None

    def __init__(self, f: TextWriter) -> None:
        self.write: Callable[[str], object] = f.write
        self.flush: Callable[[], object] = getattr(f, "flush", lambda: None)

    def getTimezoneOffset(self, when: float) -> int:
        """Return the local time zone's offset west of UTC at ``when``, in seconds."""
        offset = datetime.fromtimestamp(when).astimezone().utcoffset()
        return -int(offset.total_seconds()) if offset is not None else 0

    def formatTime(self, when: float) -> str:
        """Render ``when`` (seconds since the epoch) in local time."""
        local = datetime.fromtimestamp(when).astimezone()
        if self.timeFormat is not None:
            return local.strftime(self.timeFormat)
        return local.strftime("%Y-%m-%d %H:%M:%S%z")

    def emit(self, eventDict: EventDict) -> None:
        """Write one event."""
        text = textFromEventDict(eventDict)
        if text is None:
            return
        timeStr = self.formatTime(eventDict["time"])
        fmtDict = {"system": eventDict.get("system", "-"), "text": text.replace("\n", "\n\t")}
        self.write(timeStr + " " + _safeFormat("[%(system)s] %(text)s\n", fmtDict))
        self.flush()


class PythonLoggingObserver(_GlobalStartStopObserver):
    """Sends classic events to a :mod:`logging` logger.

    The level is the ``logLevel`` (a stdlib level) given to :func:`msg`, if
    any, else critical for errors and info for the rest.

    Args:
        loggerName: the stdlib logger's name.
    """

    def __init__(self, loggerName: str = "fw") -> None:
        self._newObserver = STDLibLogObserver(loggerName)
        self.logger = self._newObserver.logger

    def emit(self, eventDict: EventDict) -> None:
        """Send one event to the stdlib logger."""
        if "log_format" in eventDict:
            publishToNewObserver(self._newObserver, dict(eventDict), textFromEventDict)


class StdioOnnaStick:
    """A write-only file that logs each line written to it with :func:`msg`.

    Events get ``printed=1`` and ``isError`` as given here.

    Args:
        isError: log the lines as errors.
        encoding: the file's ``encoding`` attribute.
    """

    closed = 0
    softspace = 0
    mode = "w"
    name = "<stdio (log)>"

    def __init__(self, isError: int = 0, encoding: str | None = None) -> None:
        self.isError = isError
        self.encoding = sys.getdefaultencoding() if encoding is None else encoding
        self.buf = ""

    def close(self) -> None:
        """Do nothing."""

    def fileno(self) -> int:
        """Return ``-1``: there is no file descriptor."""
        return -1

    def flush(self) -> None:
        """Do nothing: lines are logged when complete."""

    def isatty(self) -> bool:
        """Return ``False``."""
        return False

    def read(self, *args: object) -> str:
        """Raise: the file is write-only.

        Raises:
            OSError: always.
        """
        raise OSError("can't read this")

    readline = readlines = seek = tell = read

    def write(self, data: str | bytes) -> None:
        """Log each complete line written so far."""
        if isinstance(data, bytes):
            data = data.decode(self.encoding, "replace")
        lines = (self.buf + data).split("\n")
        self.buf = lines.pop()
        for line in lines:
            msg(line, printed=1, isError=self.isError)

    def writelines(self, lines: Iterable[str]) -> None:
        """Log each of ``lines`` as a message."""
        for line in lines:
            msg(line, printed=1, isError=self.isError)


class NullFile:
    """A file that discards everything written to it."""

    softspace = 0

    def read(self) -> str:
        """Return ``""``."""
        return ""

    def write(self, data: object) -> None:
        """Discard ``data``."""

    def flush(self) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def startLoggingWithObserver(observer: LegacyObserver, setStdout: bool | int = 1) -> None:
    """Start logging to a classic observer.

    The events logged before (the last
    :data:`~fw.logger._global.DEFAULT_BUFFER_SIZE`) are passed to it first,
    then ``"Log opened."``.

    Args:
        observer: the classic observer.
        setStdout: also log what is written to standard output and error.
    """
    _log.theLogPublisher._startLogging(observer, bool(setStdout))
    msg("Log opened.")


def startLogging(file: TextWriter, *args: Any, **kw: Any) -> FileLogObserver | None:
    """Start logging to a text file in the classic format (see :class:`FileLogObserver`).

    Args:
        file: the file; logging to a file that is itself the log
            (standard output, once redirected) does nothing.
        args: passed to :func:`startLoggingWithObserver` (``setStdout``).
        kw: likewise.

    Returns:
        the observer, or ``None`` if ``file`` is the log.
    """
    if isinstance(file, (LoggingFile, StdioOnnaStick)):
        return None
    observer = FileLogObserver(file)
    startLoggingWithObserver(observer.emit, *args, **kw)
    return observer
