"""
:class:`ClientService`: a service that keeps one client connection open,
reconnecting with a back-off policy when it is lost or cannot be made.

The service is a small state machine; the states and what moves between
them::

    STOPPED --startService--> CONNECTING
    CONNECTING --connected (and prepared)--> CONNECTED
    CONNECTING --failed--> WAITING
    WAITING --delay elapsed--> CONNECTING
    CONNECTED --connection lost--> WAITING
    CONNECTING/WAITING --stopService--> STOPPED
    CONNECTED --stopService--> DISCONNECTING --connection lost--> STOPPED

Public names are re-exported by :mod:`fw.application.internet`.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from typing import Any

from fw.application.service import Service
from fw.internet.defer import CancelledError, Deferred, maybeDeferred
from fw.internet.protocol import Factory
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["ClientService", "backoffPolicy"]

_log = Logger(namespace="fw.application.internet.ClientService")


def backoffPolicy(
    initialDelay: float = 1.0,
    maxDelay: float = 60.0,
    factor: float = 1.5,
    jitter: Callable[[], float] = random.random,
) -> Callable[[int], float]:
    """
    A retry policy: how long to wait after a number of failed attempts.

    The delay grows geometrically, ``initialDelay * factor ** attempts``, up
    to ``maxDelay``, plus ``jitter()`` seconds so that many clients cut off
    at once do not all come back at the same moment.

    Args:
        initialDelay: the delay after the first failure, before jitter.
        maxDelay: the longest delay, before jitter.
        factor: how much each failure multiplies the delay by.
        jitter: returns the random seconds to add (0 to 1 by default).

    Returns:
        A function of the number of consecutive failed attempts (1 or more)
        that returns the seconds to wait.
    """

    def policy(attempt: int) -> float:
        # The exponent is capped so that a long outage cannot overflow a float.
        exponent = min(max(attempt - 1, 0), 100)
        try:
            delay = initialDelay * factor**exponent
        except OverflowError:
            delay = maxDelay
        return min(delay, maxDelay) + jitter()

    return policy


_defaultPolicy = backoffPolicy()


class _State(enum.Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    WAITING = "waiting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"


class _NotifyingFactory(Factory):
    """Builds the real factory's protocols, and tells the service when one is lost."""

    def __init__(self, factory: Any, lost: Callable[[Any, Failure], None]) -> None:
        self._factory = factory
        self._lost = lost

    def doStart(self) -> None:
        self._factory.doStart()

    def doStop(self) -> None:
        self._factory.doStop()

    def buildProtocol(self, addr: Any) -> Any:
        protocol = self._factory.buildProtocol(addr)
        if protocol is None:
            return None
        original = protocol.connectionLost
        lost = self._lost

        def connectionLost(reason: Failure) -> None:
            try:
                original(reason)
            finally:
                lost(protocol, reason)

        protocol.connectionLost = connectionLost
        return protocol


class ClientService(Service):
    """
    Keeps a client connection made through ``endpoint`` open while running.

    When a connection attempt fails, or an established connection is lost,
    the service waits ``retryPolicy(failedAttempts)`` seconds and tries
    again.  :meth:`whenConnected` gives the current protocol, or waits for
    the next one.

    Args:
        endpoint: the client endpoint to connect with.
        factory: builds the protocol of each connection.
        retryPolicy: seconds to wait given the number of consecutive failed
            attempts; :func:`backoffPolicy` by default.
        clock: the reactor's time (for tests, a
            :class:`~fw.internet.task.Clock`); the global reactor by default.
        prepareConnection: called with each new protocol; the connection is
            handed out by :meth:`whenConnected` only once this returns (or its
            Deferred or coroutine fires).  If it fails, the connection is
            dropped and another one attempted.
    """

    def __init__(
        self,
        endpoint: Any,
        factory: Any,
        retryPolicy: Callable[[int], float] | None = None,
        clock: Any = None,
        prepareConnection: Callable[[Any], object] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._factory = factory
        self._retryPolicy = retryPolicy if retryPolicy is not None else _defaultPolicy
        self._clock = clock
        self._prepareConnection = prepareConnection
        self._state = _State.STOPPED
        self._failedAttempts = 0
        self._lastFailure: Failure | None = None
        self._attempt: Deferred[Any] | None = None
        self._retryCall: Any = None
        self._protocol: Any = None
        self._waiters: list[tuple[Deferred[Any], int | None]] = []
        self._stopWaiters: list[Deferred[None]] = []
        self._restartAfterDisconnect = False

    def _reactor(self) -> Any:
        if self._clock is None:
            from fw.internet import reactor

            self._clock = reactor
        return self._clock

    # -- public API

    def whenConnected(self, failAfterFailures: int | None = None) -> Deferred[Any]:
        """
        A Deferred firing with the connected protocol: now if there is one,
        else when the next connection is made (and prepared).

        Args:
            failAfterFailures: fail the Deferred with the connection error
                once this many consecutive attempts have failed (counting
                only attempts made from now on), instead of waiting
                forever.  ``None`` waits until connected or stopped.

        Returns:
            A Deferred of the protocol; it fails with
            :class:`~fw.internet.defer.CancelledError` when the service is
            stopped first.  Cancelling it stops this wait only.
        """
        if self._state is _State.CONNECTED:
            d: Deferred[Any] = Deferred()
            d.callback(self._protocol)
            return d

        def cancel(d: Deferred[Any]) -> None:
            self._waiters = [(w, n) for (w, n) in self._waiters if w is not d]
            # The Deferred fails with CancelledError by itself.

        waiter: Deferred[Any] = Deferred(cancel)
        limit = None if failAfterFailures is None else self._failedAttempts + failAfterFailures
        self._waiters.append((waiter, limit))
        return waiter

    def startService(self) -> None:
        """Start connecting."""
        if self.running:
            return
        super().startService()
        self._failedAttempts = 0
        if self._state is _State.DISCONNECTING:
            self._restartAfterDisconnect = True
            return
        self._connect()

    def stopService(self) -> Deferred[None]:
        """
        Stop: cancel a pending attempt or retry, close the connection.

        Returns:
            A Deferred that fires once the connection, if any, is closed.
            Pending :meth:`whenConnected` Deferreds fail with
            :class:`~fw.internet.defer.CancelledError`.
        """
        super().stopService()
        self._restartAfterDisconnect = False
        done: Deferred[None] = Deferred()
        state = self._state
        if state is _State.CONNECTING and self._protocol is not None:
            # Connected, but prepareConnection has not finished: close it.
            self._state = _State.DISCONNECTING
            self._stopWaiters.append(done)
            self._protocol.transport.loseConnection()
        elif state is _State.CONNECTING:
            self._state = _State.STOPPED
            attempt, self._attempt = self._attempt, None
            if attempt is not None:
                attempt.cancel()
            done.callback(None)
        elif state is _State.WAITING:
            self._state = _State.STOPPED
            call, self._retryCall = self._retryCall, None
            if call is not None and call.active():
                call.cancel()
            done.callback(None)
        elif state is _State.CONNECTED:
            self._state = _State.DISCONNECTING
            self._stopWaiters.append(done)
            self._protocol.transport.loseConnection()
        elif state is _State.DISCONNECTING:
            self._stopWaiters.append(done)
        else:
            done.callback(None)
        self._failWaiters(Failure(CancelledError("the ClientService was stopped")))
        return done

    # -- the machine

    def _connect(self) -> None:
        self._state = _State.CONNECTING
        factory = _NotifyingFactory(self._factory, self._connectionLost)
        try:
            attempt = self._endpoint.connect(factory)
        except Exception:  # noqa: BLE001 - an endpoint raising is a failed attempt
            attempt = Deferred()
            attempt.errback(Failure())
        self._attempt = attempt
        attempt.addCallbacks(self._connected, self._connectFailed)

    def _connected(self, protocol: Any) -> None:
        if self._attempt is None or self._state is not _State.CONNECTING:
            # Stopped meanwhile (a cancelled attempt may still connect).
            protocol.transport.loseConnection()
            return
        self._attempt = None
        if self._prepareConnection is None:
            self._ready(protocol)
            return
        self._protocol = protocol
        preparing = maybeDeferred(self._prepareConnection, protocol)

        def prepared(_: object) -> None:
            if self._state is _State.CONNECTING and self._protocol is protocol:
                self._ready(protocol)

        def notPrepared(failure: Failure) -> None:
            _log.failure("prepareConnection failed; dropping the connection", failure)
            if self._protocol is protocol and self._state is _State.CONNECTING:
                self._lastFailure = failure
                self._preparationFailed = True
                protocol.transport.loseConnection()

        preparing.addCallbacks(prepared, notPrepared)

    def _ready(self, protocol: Any) -> None:
        self._state = _State.CONNECTED
        self._protocol = protocol
        self._failedAttempts = 0
        waiters, self._waiters = self._waiters, []
        for waiter, _limit in waiters:
            waiter.callback(protocol)

    def _connectFailed(self, failure: Failure) -> None:
        if self._state is not _State.CONNECTING:
            return
        self._attempt = None
        self._failed(failure)

    def _failed(self, failure: Failure) -> None:
        self._failedAttempts += 1
        self._lastFailure = failure
        expired = [
            (w, n) for (w, n) in self._waiters if n is not None and self._failedAttempts >= n
        ]
        self._waiters = [(w, n) for (w, n) in self._waiters if (w, n) not in expired]
        for waiter, _limit in expired:
            waiter.errback(failure)
        self._wait()

    def _wait(self) -> None:
        self._state = _State.WAITING
        delay = self._retryPolicy(max(self._failedAttempts, 1))
        _log.info("scheduling a retry in {delay:.2f} seconds", delay=delay)
        self._retryCall = self._reactor().callLater(delay, self._retry)

    def _retry(self) -> None:
        self._retryCall = None
        if self._state is _State.WAITING:
            self._connect()

    def _connectionLost(self, protocol: Any, reason: Failure) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        state = self._state
        if state is _State.DISCONNECTING:
            self._state = _State.STOPPED
            stopWaiters, self._stopWaiters = self._stopWaiters, []
            for d in stopWaiters:
                d.callback(None)
            if self._restartAfterDisconnect:
                self._restartAfterDisconnect = False
                self._connect()
        elif state is _State.CONNECTED:
            # A connection that was up and is lost: retry at once-ish, as the
            # first failure.
            self._failedAttempts = 0
            self._failed(reason)
        elif state is _State.CONNECTING:
            # prepareConnection failed (or the connection dropped meanwhile).
            why = self._lastFailure if self._preparationFailed else None
            self._failed(why if why is not None else reason)
            self._preparationFailed = False

    _preparationFailed = False

    def _failWaiters(self, failure: Failure) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter, _limit in waiters:
            waiter.errback(failure)
