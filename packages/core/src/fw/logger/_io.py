"""A file-like object that logs what is written to it: for standard output and error."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import Any, NoReturn

from fw.logger._levels import LogLevel
from fw.logger._logger import Logger

__all__ = ["LoggingFile"]


class LoggingFile:
    """A write-only text file that emits an event for each line written to it.

    ``sys.stdout = LoggingFile(Logger(namespace="stdout"))`` makes every
    ``print`` a log event.  Each complete line becomes one event at
    ``level``, with the line (without its newline) as ``log_io`` and the
    format ``"{log_io}"``; text after the last newline waits for the rest of
    its line.

    Args:
        logger: emits the events.
        level: their level.
        encoding: decodes bytes written to the file; by default the
            interpreter's default encoding.
    """

    softspace = 0
    mode = "w"
    newlines = None

    def __init__(
        self, logger: Logger, level: LogLevel = LogLevel.info, encoding: str | None = None
    ) -> None:
        self.level = level
        self.log = logger
        self._encoding = sys.getdefaultencoding() if encoding is None else encoding
        self._buffer = ""
        self._closed = False
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def encoding(self) -> str:
        """The encoding that bytes written to this file are decoded with."""
        return self._encoding

    @property
    def name(self) -> str:
        """A description of the file, for ``repr()`` and error messages."""
        return f"<{type(self).__name__} {self.log.namespace}#{self.level.name}>"

    def __repr__(self) -> str:
        return self.name

    def close(self) -> None:
        """Close the file; text not yet ended by a newline is dropped."""
        self._closed = True

    def flush(self) -> None:
        """Do nothing: complete lines are logged as soon as they are written."""

    def fileno(self) -> int:
        """Return ``-1``: there is no file descriptor."""
        return -1

    def isatty(self) -> bool:
        """Return ``False``."""
        return False

    def readable(self) -> bool:
        """Return ``False``."""
        return False

    def writable(self) -> bool:
        """Return ``True``."""
        return True

    def seekable(self) -> bool:
        """Return ``False``."""
        return False

    def write(self, message: str | bytes) -> int:
        """Log each complete line of what was written so far.

        Returns:
            the length of ``message``.

        Raises:
            ValueError: the file is closed.
        """
        if self._closed:
            raise ValueError("I/O operation on closed file")
        text = message.decode(self._encoding) if isinstance(message, bytes) else message
        with self._lock:
            lines = (self._buffer + text).split("\n")
            self._buffer = lines.pop()
        for line in lines:
            self.log.emit(self.level, "{log_io}", log_io=line)
        return len(message)

    def writelines(self, lines: Iterable[str | bytes]) -> None:
        """Write each of ``lines`` (which carry their own newlines)."""
        for line in lines:
            self.write(line)

    def _unsupported(self, *args: Any) -> NoReturn:
        raise OSError("unsupported operation")

    read = readline = readlines = seek = tell = truncate = _unsupported
    __next__ = _unsupported
