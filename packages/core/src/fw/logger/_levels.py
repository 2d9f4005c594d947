"""Log levels: how important an event is."""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum

__all__ = ["InvalidLogLevelError", "LogLevel"]


class InvalidLogLevelError(Exception):
    """Something that is not a :class:`LogLevel` was used as one.

    Attributes:
        level: the offending value.
    """

    def __init__(self, level: object) -> None:
        super().__init__(f"Invalid log level: {level!r}")
        self.level = level


class LogLevel(Enum):
    """The importance of a log event, from least to most important.

    Levels are ordered (``LogLevel.debug < LogLevel.info``), so an observer
    can keep the events at or above a threshold.

    The levels:

    - ``debug``: information for someone debugging the program, too noisy to
      keep when nothing is wrong.
    - ``info``: normal operation worth recording.
    - ``warn``: something looks wrong, but the program carries on as intended.
    - ``error``: something went wrong; the program recovers, but someone
      should look at it.
    - ``critical``: something went wrong and the program cannot recover from
      it by itself.
    """

    debug = 0
    info = 1
    warn = 2
    error = 3
    critical = 4

    @classmethod
    def levelWithName(cls, name: str) -> LogLevel:
        """Return the level called ``name`` (``"info"``).

        Raises:
            InvalidLogLevelError: no level has that name.
        """
        try:
            return cls[name]
        except KeyError:
            raise InvalidLogLevelError(name) from None

    @classmethod
    def lookupByName(cls, name: str) -> LogLevel:
        """Return the level called ``name``; a synonym of :meth:`levelWithName`."""
        return cls.levelWithName(name)

    @classmethod
    def iterconstants(cls) -> Iterator[LogLevel]:
        """Iterate over the levels, least important first."""
        return iter(cls)

    def __repr__(self) -> str:
        return f"<LogLevel={self.name}>"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return self.value < other.value

    def __le__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return self.value <= other.value

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return self.value > other.value

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return self.value >= other.value
