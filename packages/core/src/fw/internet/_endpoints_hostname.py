"""
:class:`HostnameEndpoint`: connect to a host name, racing its addresses as
RFC 8305 ("Happy Eyeballs Version 2") describes.

Private: :mod:`fw.internet.endpoints` is the public module.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from typing import TYPE_CHECKING, Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._endpoints_basic import (
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    _nameResolverOf,
)
from fw.internet._interfaces_core import IResolutionReceiver
from fw.internet._interfaces_protocol import IProtocol, IProtocolFactory, IStreamClientEndpoint
from fw.internet.abstract import isIPv6Address
from fw.internet.address import HostnameAddress, IPv4Address, IPv6Address
from fw.internet.defer import Deferred, fail
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress, IDelayedCall, IHostResolution

__all__ = ["HostnameEndpoint"]

_IPAddress = IPv4Address | IPv6Address

# RFC 8305 section 3: when IPv4 addresses arrive first, wait this long for
# IPv6 ones before connecting ("The recommended value for the Resolution
# Delay is 50 milliseconds").
RESOLUTION_DELAY = 0.05


def _describe(address: _IPAddress) -> str:
    if isinstance(address, IPv6Address):
        return f"[{address.host}]:{address.port}"
    return f"{address.host}:{address.port}"


def _hostForms(host: str | bytes) -> tuple[bool, bytes, str]:
    """
    Return ``(valid, asBytes, asText)`` for a host name given as text or
    bytes: the bytes IDNA-encoded, the text as given (NFC-normalised).
    """
    if isinstance(host, bytes):
        try:
            text = host.decode("idna")
        except UnicodeError:
            text = host.decode("charmap")
            if not isIPv6Address(text):
                escaped = text.encode("ascii", "backslashreplace")
                return False, escaped, escaped.decode("ascii")
        return True, host, text
    text = unicodedata.normalize("NFC", host)
    if isIPv6Address(text):
        return True, text.encode("ascii"), text
    try:
        return True, text.encode("idna"), text
    except UnicodeError:
        escaped = text.encode("ascii", "backslashreplace")
        return False, escaped, escaped.decode("ascii")


@implementer(IStreamClientEndpoint)
class HostnameEndpoint:
    """
    A TCP client endpoint for a host name (or an IPv4 or IPv6 address),
    connecting over IPv6 and IPv4 as RFC 8305, "Happy Eyeballs", describes:

    - the name is resolved with the reactor's ``nameResolver``, into
      addresses of both families;
    - connection attempts start as soon as an IPv6 address is known (or an
      IPv4 one, after a 50 ms wait for IPv6 ones or once resolution is
      complete); they go to an IPv6 address first when one is known, then
      alternate between the families, each family's addresses in the
      resolver's order;
    - a new attempt starts every ``attemptDelay`` seconds while none has
      succeeded, or at once when the latest one fails, and addresses
      resolved late join the race;
    - the first attempt to connect wins and every other one is cancelled.

    If every attempt fails, the Deferred fails with the last attempt's error
    type (as in Twisted), its message listing every address and why it
    failed; the last error is its ``__cause__``.  A name with no address
    fails with :class:`~fw.internet.error.DNSLookupError`.  Cancelling the
    Deferred stops the resolution and every attempt, and fails it with
    :class:`~fw.internet.error.ConnectingCancelledError`.

    Args:
        reactor: an ``IReactorTCP`` and ``IReactorTime`` with a
            ``nameResolver``.
        host: the host name (text or IDNA bytes) or IP address.
        port: the port to connect to.
        timeout: seconds each attempt may take before it fails.
        bindAddress: the local address to connect from: ``(host, port)``, or
            a host alone (any port).
        attemptDelay: seconds between the starts of two attempts (RFC 8305
            section 5's "Connection Attempt Delay"; 0.3 by default, as in
            Twisted).
    """

    _DEFAULT_ATTEMPT_DELAY = 0.3

    def __init__(
        self,
        reactor: Any,
        host: str | bytes,
        port: int,
        timeout: float = 30,
        bindAddress: tuple[str | bytes, int] | str | bytes | None = None,
        attemptDelay: float | None = None,
    ) -> None:
        self._reactor = reactor
        self._valid, self._hostBytes, self._hostText = _hostForms(host)
        self._port = port
        self._timeout = timeout
        if isinstance(bindAddress, (str, bytes)):
            bindAddress = (bindAddress, 0)
        if bindAddress is not None and isinstance(bindAddress[0], bytes):
            bindAddress = (bindAddress[0].decode("ascii"), bindAddress[1])
        self._bindAddress: tuple[str, int] | None = bindAddress  # type: ignore[assignment]
        if attemptDelay is None:
            attemptDelay = self._DEFAULT_ATTEMPT_DELAY
        self._attemptDelay = attemptDelay

    def __repr__(self) -> str:
        if not self._valid:
            host = self._hostText
        elif isIPv6Address(self._hostText):
            host = f"[{self._hostText}]"
        else:
            # The IDNA form: what a person can paste into other tools.
            host = self._hostBytes.decode("ascii")
        return f"<HostnameEndpoint {host}:{self._port}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Resolve the host and race connections to its addresses.

        Returns:
            A Deferred firing with the protocol of the first connection made
            (see the class's description for its failures); cancel it to
            abandon the whole attempt.
        """
        if not self._valid:
            return fail(ValueError(f"invalid hostname: {self._hostText}"))
        return _Race(self, protocolFactory).start()


@implementer(IResolutionReceiver)
class _Race:
    """
    One :meth:`HostnameEndpoint.connect`: the resolution, the attempts, the
    timers, and the Deferred of the outcome.

    The rules, applied by :meth:`_advance` whenever something happens:

    1. Before the first attempt: start it when an IPv6 address is known,
       when resolution is complete, or when the Resolution Delay that began
       with the first (IPv4) address has passed (RFC 8305 section 3).
    2. Afterwards: start the next attempt when the Connection Attempt Delay
       since the latest one has passed, or that one failed, and an address
       is waiting (section 5).  Addresses alternate between the families,
       IPv6 first (sections 3 and 4), each family in the resolver's order.
    3. The first attempt to succeed wins; the others, the timers and the
       resolution are cancelled.
    4. When resolution is complete, no address is waiting and no attempt is
       in flight, the race is lost.
    """

    def __init__(self, endpoint: HostnameEndpoint, protocolFactory: IProtocolFactory) -> None:
        self._endpoint = endpoint
        self._reactor = endpoint._reactor
        self._factory = protocolFactory
        self._deferred: Deferred[IProtocol] = Deferred(self._cancel)
        self._ipv6: deque[IPv6Address] = deque()
        self._ipv4: deque[IPv4Address] = deque()
        self._nextIsIPv6 = True
        self._seen: set[_IPAddress] = set()
        self._resolution: IHostResolution | None = None
        self._resolved = False
        self._resolutionTimer: IDelayedCall | None = None
        self._resolutionDelayOver = False
        self._attemptTimer: IDelayedCall | None = None
        self._attempts: dict[Deferred[IProtocol], _IPAddress] = {}
        self._latest: Deferred[IProtocol] | None = None
        self._failures: list[tuple[_IPAddress, Failure]] = []
        self._done = False

    def start(self) -> Deferred[IProtocol]:
        endpoint = self._endpoint
        try:
            # The resolver may report everything before returning.
            _nameResolverOf(self._reactor).resolveHostName(
                self, endpoint._hostBytes.decode("ascii"), endpoint._port
            )
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            self._finish(Failure())
        return self._deferred

    # -- IResolutionReceiver

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        """Remember the resolution, to cancel it if the race ends first."""
        self._resolution = resolutionInProgress

    def addressResolved(self, address: IAddress) -> None:
        """Queue ``address`` for an attempt (repeated and non-IP addresses are ignored)."""
        if self._done:
            return
        if not isinstance(address, (IPv4Address, IPv6Address)) or address in self._seen:
            return
        self._seen.add(address)
        if isinstance(address, IPv6Address):
            self._ipv6.append(address)
        else:
            self._ipv4.append(address)
        self._advance()

    def resolutionComplete(self) -> None:
        """No more addresses will come."""
        self._resolved = True
        self._advance()

    # -- the race

    def _advance(self) -> None:
        if self._done:
            return
        if not (self._ipv6 or self._ipv4):
            if self._resolved and not self._attempts:
                self._lost()
            return
        if self._latest is None:
            if self._ipv6 or self._resolved or self._resolutionDelayOver:
                self._startNext()
            elif self._resolutionTimer is None:
                self._resolutionTimer = self._reactor.callLater(
                    RESOLUTION_DELAY, self._resolutionDelayElapsed
                )
        elif self._attemptTimer is None:
            self._startNext()

    def _resolutionDelayElapsed(self) -> None:
        self._resolutionTimer = None
        self._resolutionDelayOver = True
        self._advance()

    def _attemptDelayElapsed(self) -> None:
        self._attemptTimer = None
        self._advance()

    def _popAddress(self) -> _IPAddress:
        address: _IPAddress
        if (self._nextIsIPv6 and self._ipv6) or not self._ipv4:
            address = self._ipv6.popleft()
            self._nextIsIPv6 = False
        else:
            address = self._ipv4.popleft()
            self._nextIsIPv6 = True
        return address

    def _startNext(self) -> None:
        if self._resolutionTimer is not None:
            self._resolutionTimer.cancel()
            self._resolutionTimer = None
        endpoint = self._endpoint
        address = self._popAddress()
        kind = TCP6ClientEndpoint if isinstance(address, IPv6Address) else TCP4ClientEndpoint
        attempt = kind(
            self._reactor, address.host, address.port, endpoint._timeout, endpoint._bindAddress
        ).connect(self._factory)
        self._attempts[attempt] = address
        self._latest = attempt
        if self._attemptTimer is not None:
            self._attemptTimer.cancel()
        self._attemptTimer = self._reactor.callLater(
            endpoint._attemptDelay, self._attemptDelayElapsed
        )
        # Last: the attempt may have finished already.
        attempt.addCallbacks(
            self._succeeded, self._failed, callbackArgs=(attempt,), errbackArgs=(attempt,)
        )

    def _succeeded(self, protocol: IProtocol, attempt: Deferred[IProtocol]) -> None:
        del self._attempts[attempt]
        if self._done:
            # Cancelling the losers should make this impossible; never leak one.
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                transport.loseConnection()
            return
        self._finish(protocol)

    def _failed(self, reason: Failure, attempt: Deferred[IProtocol]) -> None:
        address = self._attempts.pop(attempt)
        if self._done:
            return
        self._failures.append((address, reason))
        if attempt is self._latest and self._attemptTimer is not None:
            # RFC 8305 section 5: no need to wait for the delay to run out.
            self._attemptTimer.cancel()
            self._attemptTimer = None
        self._advance()

    def _lost(self) -> None:
        endpoint = self._endpoint
        if not self._failures:
            self._finish(
                Failure(
                    error.DNSLookupError(
                        f"no addresses for host name {endpoint._hostText!r} "
                        f"(port {endpoint._port})"
                    )
                )
            )
            return
        last = self._failures[-1][1]
        value = last.value
        if len(self._failures) == 1 or not isinstance(value, error.ConnectError):
            self._finish(last)
            return
        details = ", ".join(
            f"{_describe(address)} ({_reason(failure)})" for address, failure in self._failures
        )
        summary = (
            f"all {len(self._failures)} attempts to connect to "
            f"{endpoint._hostText}:{endpoint._port} failed: {details}"
        )
        try:
            combined = type(value)(None, summary)
        except TypeError:
            # A ConnectError subclass with a constructor of its own.
            self._finish(last)
            return
        combined.__cause__ = value
        self._finish(Failure(combined))

    def _finish(self, result: IProtocol | Failure) -> None:
        self._done = True
        self._stopEverything()
        if isinstance(result, Failure):
            self._deferred.errback(result)
        else:
            self._deferred.callback(result)

    def _stopEverything(self) -> None:
        for timer in (self._resolutionTimer, self._attemptTimer):
            if timer is not None and timer.active():
                timer.cancel()
        self._resolutionTimer = self._attemptTimer = None
        if not self._resolved and self._resolution is not None:
            self._resolution.cancel()
        for attempt in list(self._attempts):
            attempt.cancel()

    def _cancel(self, deferred: Deferred[IProtocol]) -> None:
        self._done = True
        self._stopEverything()
        endpoint = self._endpoint
        deferred.errback(
            error.ConnectingCancelledError(HostnameAddress(endpoint._hostBytes, endpoint._port))
        )


def _reason(failure: Failure) -> str:
    value = failure.value
    if isinstance(value, error.ConnectError) and value.args and value.args[0]:
        return str(value.args[0])
    return failure.getErrorMessage()
