"""The global log publisher, and the start of logging."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable
from typing import IO, Any, Final, TextIO

from fw.logger._buffer import LimitedHistoryLogObserver
from fw.logger._file import FileLogObserver
from fw.logger._filter import FilteringLogObserver, LogLevelFilterPredicate
from fw.logger._format import eventAsText
from fw.logger._interfaces import LogEvent, ObserverCallable, TextWriter
from fw.logger._io import LoggingFile
from fw.logger._levels import LogLevel
from fw.logger._logger import Logger
from fw.logger._observer import LogPublisher, globalLogPublisher
from fw.python.reflect import qual

__all__ = ["DEFAULT_BUFFER_SIZE", "LogBeginner", "globalLogBeginner", "globalLogPublisher"]

#: How many events a :class:`LogBeginner` keeps until logging begins.
#: Start-up usually logs a few dozen; the bound keeps a program that never
#: begins logging from growing without limit (Twisted keeps the same number).
DEFAULT_BUFFER_SIZE: Final = 200


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing."""

    def write(self, text: str) -> None:
        sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _criticalText(event: LogEvent) -> str:
    return eventAsText(event, includeTimestamp=False, includeSystem=False) + "\n"


class LogBeginner:
    """Handles the time before, and the moment when, a program starts logging.

    Until :meth:`beginLoggingTo` is called, the publisher's events are kept
    in a ring buffer of the last ``initialBufferSize`` events, and critical
    ones are also written to ``errorStream`` so a crash during start-up is
    not silent.  :meth:`beginLoggingTo` adds the program's observers, hands
    them the buffered events, routes :mod:`warnings` to the log, and
    (optionally) makes standard output and error log their lines.

    Args:
        publisher: the publisher whose start this manages.
        errorStream: where critical events go before logging begins; by
            default whatever ``sys.stderr`` is at the time.
        stdio: the object whose ``stdout`` and ``stderr`` are redirected
            (the :mod:`sys` module).
        warningsModule: the object whose ``showwarning`` is replaced (the
            :mod:`warnings` module).
        initialBufferSize: how many events to keep until logging begins;
            by default :data:`DEFAULT_BUFFER_SIZE`.
    """

    _DEFAULT_BUFFER_SIZE: Final = DEFAULT_BUFFER_SIZE

    def __init__(
        self,
        publisher: LogPublisher,
        errorStream: TextWriter | None,
        stdio: Any,
        warningsModule: Any,
        initialBufferSize: int | None = None,
    ) -> None:
        if initialBufferSize is None:
            initialBufferSize = self._DEFAULT_BUFFER_SIZE
        self._initialBuffer = LimitedHistoryLogObserver(size=initialBufferSize)
        self._publisher = publisher
        self._log = Logger(observer=publisher)
        self._stdio = stdio
        self._warningsModule = warningsModule
        stream: Any = _CurrentStderr() if errorStream is None else errorStream
        self._temporaryObserver: LogPublisher | None = LogPublisher(
            self._initialBuffer,
            FilteringLogObserver(
                FileLogObserver(stream, _criticalText),
                [LogLevelFilterPredicate(defaultLogLevel=LogLevel.critical)],
            ),
        )
        self._previousBegin: tuple[str, int] = ("", 0)
        publisher.addObserver(self._temporaryObserver)

    def beginLoggingTo(
        self,
        observers: Iterable[ObserverCallable],
        discardBuffer: bool = False,
        redirectStandardIO: bool = True,
    ) -> None:
        """Start logging to ``observers``.

        The observers are added to the publisher and (unless
        ``discardBuffer``) are handed the buffered events, oldest first;
        buffering and the writing of critical events to the error stream
        stop; :func:`warnings.showwarning` is replaced by :meth:`showwarning`.
        Meant to be called once; later calls add their observers and log a
        warning naming both call sites.

        Args:
            observers: the observers to log to.
            discardBuffer: drop the buffered events instead.
            redirectStandardIO: replace ``stdout`` and ``stderr`` by
                :class:`LoggingFile` objects logging at info and error level
                in the namespaces ``"stdout"`` and ``"stderr"``.
        """
        caller = sys._getframe(1)
        here = (caller.f_code.co_filename, caller.f_lineno)
        observers = list(observers)
        for observer in observers:
            self._publisher.addObserver(observer)
        if self._temporaryObserver is not None:
            self._publisher.removeObserver(self._temporaryObserver)
            if not discardBuffer and observers:
                # Only the new observers: those added earlier saw these events.
                self._initialBuffer.replayTo(LogPublisher(*observers))
            self._initialBuffer = LimitedHistoryLogObserver(0)
            self._temporaryObserver = None
            self._warningsModule.showwarning = self.showwarning
        else:
            previousFile, previousLine = self._previousBegin
            self._log.warn(
                "Warning: beginLoggingTo() called at <{fileNow}:{lineNow}>, but logging "
                "already began at <{fileThen}:{lineThen}>; remove one of the calls.",
                fileNow=here[0],
                lineNow=here[1],
                fileThen=previousFile,
                lineThen=previousLine,
            )
        self._previousBegin = here
        if redirectStandardIO:
            for name, level in (("stdout", LogLevel.info), ("stderr", LogLevel.error)):
                oldStream = getattr(self._stdio, name)
                if isinstance(oldStream, LoggingFile):
                    continue
                setattr(
                    self._stdio,
                    name,
                    LoggingFile(
                        Logger(namespace=name, observer=self._publisher),
                        level,
                        getattr(oldStream, "encoding", None),
                    ),
                )

    def showwarning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: IO[str] | TextIO | None = None,
        line: str | None = None,
    ) -> None:
        """Log a warning (the replacement of :func:`warnings.showwarning`).

        A warning shown to a given ``file`` is written there, as
        :func:`warnings.showwarning` does.
        """
        if file is None:
            self._log.warn(
                "{filename}:{lineno}: {category}: {warning}",
                warning=message,
                category=qual(category),
                filename=filename,
                lineno=lineno,
            )
        else:
            text = warnings.formatwarning(message, category, filename, lineno, line)
            try:
                file.write(text)
            except OSError:
                # The file is gone (a closed pipe): warnings are not worth dying for.
                pass


#: Starts logging for the process: ``globalLogBeginner.beginLoggingTo([observer])``.
globalLogBeginner: Final = LogBeginner(globalLogPublisher, None, sys, warnings)
