"""Implementation of :mod:`fw.python.logfile`: log files that rotate."""

from __future__ import annotations

import glob
import os
import stat
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, BinaryIO, TypeVar

__all__ = ["BaseLogFile", "DailyLogFile", "LogFile", "LogReader"]

_Self = TypeVar("_Self", bound="BaseLogFile")

DateTuple = tuple[int, int, int]


class LogReader:
    """Reads the lines of a log file.

    Args:
        name: the file's path.
    """

    def __init__(self, name: str) -> None:
        self._file = open(name, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed by close()

    def readLines(self, lines: int = 10) -> list[str]:
        """Return up to ``lines`` more lines (with their newlines); ``[]`` at the end."""
        result = []
        for _ in range(lines):
            line = self._file.readline()
            if not line:
                break
            result.append(line)
        return result

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(
        self,
        excType: type[BaseException] | None,
        excValue: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class BaseLogFile:
    """A log file that rotates: the common part of :class:`LogFile` and :class:`DailyLogFile`.

    Writes are unbuffered (each reaches the operating system at once) and,
    with rotation, serialised by a lock, so several threads may share one
    log file.

    Args:
        name: the file's name.
        directory: the directory it is in.
        defaultMode: the permissions of the file, set when it is opened;
            by default those of the existing file, or the umask's for a new
            one.
    """

    def __init__(self, name: str, directory: str, defaultMode: int | None = None) -> None:
        self.directory = directory
        self.name = name
        self.path = os.path.join(directory, name)
        if defaultMode is None and os.path.exists(self.path):
            self.defaultMode: int | None = stat.S_IMODE(os.stat(self.path).st_mode)
        else:
            self.defaultMode = defaultMode
        self._lock = threading.RLock()
        self.closed = True
        self._file: BinaryIO
        self._openFile()

    @classmethod
    def fromFullPath(cls: type[_Self], filename: str, *args: Any, **kwargs: Any) -> _Self:
        """Make a log file from its full path rather than a name and directory.

        Args:
            filename: the path.
            args: the other arguments of the constructor.
            kwargs: likewise.
        """
        logPath = os.path.abspath(filename)
        return cls(os.path.basename(logPath), os.path.dirname(logPath), *args, **kwargs)

    def shouldRotate(self) -> bool:
        """Return whether the file is due to be rotated before the next write."""
        raise NotImplementedError()

    def _openFile(self) -> None:
        """Open (creating it if needed) the file, for appending."""
        mode = 0o666 if self.defaultMode is None else self.defaultMode
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
        self._file = open(fd, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        self.closed = False
        if self.defaultMode is not None:
            try:
                os.chmod(self.path, self.defaultMode)
            except OSError:
                # Someone else's file, on a file system that refuses: keep going.
                pass

    def write(self, data: str | bytes) -> None:
        """Write ``data`` (text is encoded as UTF-8), rotating first if due."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            if self.shouldRotate():
                self.flush()
                self.rotate()
            self._file.write(data)
            self._written(len(data))

    def _written(self, size: int) -> None:
        """Note that ``size`` bytes were written."""

    def rotate(self) -> None:
        """Move the current file aside and start a new one."""
        raise NotImplementedError()

    def flush(self) -> None:
        """Flush the file (writes are unbuffered; kept for the file interface)."""
        with self._lock:
            self._file.flush()

    def close(self) -> None:
        """Close the file; :meth:`reopen` opens it again."""
        with self._lock:
            self.closed = True
            self._file.close()

    def reopen(self) -> None:
        """Close and open the file again, under its name.

        For a file that was moved away by another program (``logrotate``):
        call this on ``SIGHUP``.
        """
        with self._lock:
            self.close()
            self._openFile()

    def getCurrentLog(self) -> LogReader:
        """Return a reader of the current file."""
        return LogReader(self.path)

    def _canRotate(self) -> bool:
        return os.access(self.directory, os.W_OK) and os.access(self.path, os.W_OK)


class LogFile(BaseLogFile):
    """A log file that rotates when it reaches a size.

    Rotation renames ``name`` to ``name.1``, ``name.1`` to ``name.2`` and so
    on; with ``maxRotatedFiles``, the oldest beyond that number are deleted.

    Args:
        name: the file's name.
        directory: the directory it is in.
        rotateLength: rotate before a write once the file has this many
            bytes; ``0`` or ``None`` never rotates.
        defaultMode: the file's permissions (see :class:`BaseLogFile`).
        maxRotatedFiles: how many rotated files to keep; ``None`` keeps all.
    """

    def __init__(
        self,
        name: str,
        directory: str,
        rotateLength: int | None = 1000000,
        defaultMode: int | None = None,
        maxRotatedFiles: int | None = None,
    ) -> None:
        self.size = 0
        super().__init__(name, directory, defaultMode)
        self.rotateLength = rotateLength
        self.maxRotatedFiles = maxRotatedFiles

    def _openFile(self) -> None:
        super()._openFile()
        self.size = os.fstat(self._file.fileno()).st_size

    def shouldRotate(self) -> bool:
        """Return whether the file has reached :attr:`rotateLength` bytes."""
        return bool(self.rotateLength) and self.size >= (self.rotateLength or 0)

    def _written(self, size: int) -> None:
        self.size += size

    def getLog(self, identifier: int) -> LogReader:
        """Return a reader of rotated file number ``identifier`` (``name.identifier``).

        Raises:
            ValueError: there is no such file.
        """
        filename = f"{self.path}.{int(identifier)}"
        if not os.path.exists(filename):
            raise ValueError("no such logfile exists")
        return LogReader(filename)

    def listLogs(self) -> list[int]:
        """Return the numbers of the rotated files, in increasing order."""
        result = []
        for name in glob.glob(f"{glob.escape(self.path)}.*"):
            suffix = name.rsplit(".", 1)[-1]
            if suffix.isdigit() and int(suffix) > 0:
                result.append(int(suffix))
        return sorted(result)

    def rotate(self) -> None:
        """Rotate the file now (nothing happens if the directory or file is read-only)."""
        with self._lock:
            if not self._canRotate():
                return
            for number in reversed(self.listLogs()):
                older = f"{self.path}.{number}"
                if self.maxRotatedFiles is not None and number >= self.maxRotatedFiles:
                    os.remove(older)
                else:
                    os.rename(older, f"{self.path}.{number + 1}")
            self._file.close()
            os.rename(self.path, f"{self.path}.1")
            self._openFile()


class DailyLogFile(BaseLogFile):
    """A log file that rotates when the (local) day changes.

    The rotated file is named after the day it holds: ``name.2026_1_31``.

    Args:
        name: the file's name.
        directory: the directory it is in.
        defaultMode: the file's permissions (see :class:`BaseLogFile`).
        now: returns the current time in seconds since the epoch (tests pass
            a fake clock, like ``Clock().seconds``).
    """

    def __init__(
        self,
        name: str,
        directory: str,
        defaultMode: int | None = None,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._now = now
        super().__init__(name, directory, defaultMode)

    def _openFile(self) -> None:
        existed = os.path.exists(self.path) and os.path.getsize(self.path) > 0
        super()._openFile()
        if existed:
            self.lastDate = self.toDate(os.stat(self.path).st_mtime)
        else:
            self.lastDate = self.toDate()

    def toDate(self, when: float | None = None) -> DateTuple:
        """Return the local date (year, month, day) at ``when``, by default now."""
        local = time.localtime(self._now() if when is None else when)
        return (local.tm_year, local.tm_mon, local.tm_mday)

    def suffix(self, tupledate: DateTuple | float) -> str:
        """Return the file name suffix of a date, or of the date at a time."""
        if isinstance(tupledate, tuple):
            return "_".join(str(part) for part in tupledate)
        return self.suffix(self.toDate(tupledate))

    def shouldRotate(self) -> bool:
        """Return whether the day changed since the last write."""
        return self.toDate() > self.lastDate

    def _written(self, size: int) -> None:
        self.lastDate = max(self.lastDate, self.toDate())

    def getLog(self, identifier: DateTuple) -> LogReader:
        """Return a reader of the file of day ``identifier`` (the current one for today).

        Raises:
            ValueError: there is no such file.
        """
        day = (int(identifier[0]), int(identifier[1]), int(identifier[2]))
        if self.toDate() == day:
            return self.getCurrentLog()
        filename = f"{self.path}.{self.suffix(day)}"
        if not os.path.exists(filename):
            raise ValueError("no such logfile exists")
        return LogReader(filename)

    def listLogs(self) -> list[DateTuple]:
        """Return the days of the rotated files, in increasing order."""
        result = []
        for name in glob.glob(f"{glob.escape(self.path)}.*"):
            parts = name.rsplit(".", 1)[-1].split("_")
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                result.append((int(parts[0]), int(parts[1]), int(parts[2])))
        return sorted(result)

    def rotate(self) -> None:
        """Move the file aside under the name of its day and start a new one.

        Nothing happens if the directory or file is read-only or a file for
        that day already exists.
        """
        with self._lock:
            if not self._canRotate():
                return
            newPath = f"{self.path}.{self.suffix(self.lastDate)}"
            if os.path.exists(newPath):
                return
            self._file.close()
            os.rename(self.path, newPath)
            self._openFile()
