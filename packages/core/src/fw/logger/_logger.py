"""The :class:`Logger`: what code emits events with."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Protocol, cast

from fw.logger._interfaces import LogTrace, ObserverCallable
from fw.logger._levels import InvalidLogLevelError, LogLevel
from fw.logger._observer import globalLogPublisher
from fw.python.failure import Failure

__all__ = ["Logger", "Operation", "_loggerFor"]


class Operation(Protocol):
    """How the code in a :meth:`Logger.failuresHandled` block went."""

    @property
    def succeeded(self) -> bool:
        """True once the block completed without raising."""

    @property
    def failure(self) -> Failure | None:
        """The failure the block raised, or ``None``."""

    @property
    def failed(self) -> bool:
        """True once the block raised."""


class _Operation:
    """The context manager of :meth:`Logger.failuresHandled`, and its :class:`Operation`."""

    __slots__ = ("_args", "_format", "_level", "_logger", "failure", "succeeded")

    def __init__(
        self, logger: Logger, format: str, level: LogLevel, args: dict[str, object]
    ) -> None:
        self._logger = logger
        self._format = format
        self._level = level
        self._args = args
        self.succeeded = False
        self.failure: Failure | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def __enter__(self) -> _Operation:
        return self

    def __exit__(
        self,
        excType: type[BaseException] | None,
        excValue: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> bool:
        if excValue is None:
            self.succeeded = True
            return False
        if not isinstance(excValue, Exception):
            return False
        self.failure = Failure(excValue, excType, traceback)
        self._logger.failure(self._format, self.failure, self._level, **self._args)
        return True


class _FailureHandler:
    """The reusable context manager of :meth:`Logger.failureHandler`."""

    __slots__ = ("_format", "_level", "_logger")

    def __init__(self, logger: Logger, format: str, level: LogLevel) -> None:
        self._logger = logger
        self._format = format
        self._level = level

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        excType: type[BaseException] | None,
        excValue: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> bool:
        if excValue is None or not isinstance(excValue, Exception):
            return False
        self._logger.failure(self._format, Failure(excValue, excType, traceback), self._level)
        return True


class Logger:
    """Emits log events to an observer.

    Make one per module (``log = Logger()``) or per class, as a class
    attribute: read through an instance or class, a class attribute gives a
    logger whose namespace is ``"module.ClassName"`` and whose source is that
    instance or class::

        class Server:
            log = Logger()

            def start(self) -> None:
                self.log.info("Listening on {port}", port=self.port)

    Each event is a dict of the keyword arguments plus ``log_logger``,
    ``log_level``, ``log_namespace``, ``log_source``, ``log_format`` and
    ``log_time`` (see :data:`~fw.logger.LogEvent`).  The format is a
    :pep:`3101` string rendered with the event's fields only if an observer
    wants text, so pass values as fields rather than formatting them first.

    Args:
        namespace: the namespace of the events; by default the name of the
            calling module.
        source: the object the events are about, or ``None``.
        observer: where events go; by default
            :data:`~fw.logger.globalLogPublisher`.
    """

    __slots__ = ("namespace", "observer", "source")

    def __init__(
        self,
        namespace: str | None = None,
        source: object = None,
        observer: ObserverCallable | None = None,
    ) -> None:
        if namespace is None:
            namespace = self._namespaceFromCallingContext()
        self.namespace: str = namespace
        self.source: object = source
        self.observer: ObserverCallable = globalLogPublisher if observer is None else observer

    @staticmethod
    def _namespaceFromCallingContext() -> str:
        """The ``__name__`` of the module that called ``Logger()``."""
        try:
            return str(sys._getframe(2).f_globals["__name__"])
        except (ValueError, KeyError):
            return "<unknown>"

    def __get__(self, instance: object, owner: type[Any] | None = None) -> Logger:
        if owner is None:
            owner = type(instance)
        source: object = owner if instance is None else instance
        return self.__class__(f"{owner.__module__}.{owner.__name__}", source, self.observer)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.namespace!r}>"

    def emit(self, level: LogLevel, format: str | None = None, **kwargs: object) -> None:
        """Emit an event at ``level``.

        Args:
            level: the event's level.  Anything else is reported as a
                critical event about the invalid level instead.
            format: the :pep:`3101` format of the message, rendered with the
                event's fields, or ``None`` for an event without one.
            kwargs: the event's fields.  Observers may keep the event, so do
                not change values after logging them.
        """
        if not isinstance(cast(object, level), LogLevel):
            self.failure(
                "Got invalid log level {invalidLevel!r} in {logger}.emit().",
                Failure(InvalidLogLevelError(level)),
                invalidLevel=level,
                logger=self,
            )
            return
        event = kwargs
        event["log_logger"] = self
        event["log_level"] = level
        event["log_namespace"] = self.namespace
        event["log_source"] = self.source
        event["log_format"] = format
        event["log_time"] = time.time()
        if "log_trace" in event:
            trace: LogTrace = event["log_trace"]  # type: ignore[assignment]
            trace.append((self, self.observer))
        self.observer(event)

    def failure(
        self,
        format: str,
        failure: Failure | None = None,
        level: LogLevel = LogLevel.critical,
        **kwargs: object,
    ) -> None:
        """Emit an event about a failure, with its traceback, as ``log_failure``::

            try:
                frob(knob)
            except Exception:
                log.failure("While frobbing {knob}", knob=knob)

        Args:
            format: the message format.
            failure: the failure; by default the exception being handled.
            level: the event's level.
            kwargs: the event's fields.

        Raises:
            NoCurrentExceptionError: ``failure`` is ``None`` outside an
                ``except`` block.
        """
        if failure is None:
            failure = Failure()
        self.emit(level, format, log_failure=failure, **kwargs)

    def failuresHandled(
        self, format: str, level: LogLevel = LogLevel.critical, **kwargs: object
    ) -> _Operation:
        """Return a context manager that logs, and swallows, an exception from its block::

            with log.failuresHandled("While frobbing {knob}", knob=knob) as op:
                frob(knob)
            if op.succeeded:
                log.info("Frobbed {knob}", knob=knob)

        Exceptions that are not :class:`Exception` (``KeyboardInterrupt``,
        ``SystemExit``, cancellation) pass through unlogged.

        Args:
            format: the message format of the failure event.
            level: its level.
            kwargs: its fields.

        Returns:
            a context manager whose ``as`` value is an :class:`Operation`.
        """
        return _Operation(self, format, level, kwargs)

    def failureHandler(
        self, staticMessage: str, level: LogLevel = LogLevel.critical
    ) -> _FailureHandler:
        """Return a reusable context manager that logs, and swallows, exceptions.

        The cheap form of :meth:`failuresHandled` for hot code: make it once
        and enter it many times.  Exceptions that are not
        :class:`Exception` pass through.
        """
        return _FailureHandler(self, staticMessage, level)

    def debug(self, format: str | None = None, **kwargs: object) -> None:
        """Emit an event at :attr:`LogLevel.debug` (see :meth:`emit`)."""
        self.emit(LogLevel.debug, format, **kwargs)

    def info(self, format: str | None = None, **kwargs: object) -> None:
        """Emit an event at :attr:`LogLevel.info` (see :meth:`emit`)."""
        self.emit(LogLevel.info, format, **kwargs)

    def warn(self, format: str | None = None, **kwargs: object) -> None:
        """Emit an event at :attr:`LogLevel.warn` (see :meth:`emit`)."""
        self.emit(LogLevel.warn, format, **kwargs)

    def error(self, format: str | None = None, **kwargs: object) -> None:
        """Emit an event at :attr:`LogLevel.error` (see :meth:`emit`)."""
        self.emit(LogLevel.error, format, **kwargs)

    def critical(self, format: str | None = None, **kwargs: object) -> None:
        """Emit an event at :attr:`LogLevel.critical` (see :meth:`emit`)."""
        self.emit(LogLevel.critical, format, **kwargs)


def _loggerFor(obj: object) -> Logger:
    """Return a logger for ``obj``: namespace ``"module.ClassName"``, source ``obj``."""
    cls = type(obj)
    return Logger(f"{cls.__module__}.{cls.__name__}", obj)
