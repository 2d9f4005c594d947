"""Telnet's exceptions: negotiation results (Twisted's names) and peer protocol violations."""

from __future__ import annotations

__all__ = [
    "AlreadyDisabled",
    "AlreadyEnabled",
    "AlreadyNegotiating",
    "NegotiationError",
    "OptionRefused",
    "TelnetError",
    "TelnetProtocolError",
]


class TelnetError(Exception):
    """The base of every telnet error."""


class NegotiationError(TelnetError):
    """
    An option negotiation started by this side did not enable or disable
    the option.  ``args[0]`` is the option byte.
    """

    def __str__(self) -> str:
        cls = type(self)
        return f"{cls.__module__}.{cls.__name__}:{self.args[0]!r}"


class OptionRefused(NegotiationError):
    """The peer refused to enable the option (it answered ``WONT`` or ``DONT``)."""


class AlreadyEnabled(NegotiationError):
    """The option is already enabled on the side asked to enable it."""


class AlreadyDisabled(NegotiationError):
    """The option is already disabled on the side asked to disable it."""


class AlreadyNegotiating(NegotiationError):
    """A negotiation about the option on that side is already in progress."""


class TelnetProtocolError(TelnetError):
    """
    The peer broke the telnet protocol (a malformed command, an oversized
    subnegotiation): the connection cannot go on and is closed.
    """
