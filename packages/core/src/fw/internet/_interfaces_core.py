"""
Interfaces of the reactor core: time, the event loop, file descriptor sets,
threads, name resolution, and the descriptors and producers/consumers the
reactor drives.

Public names are re-exported by :mod:`fw.internet.interfaces`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    from fw.internet.defer import Deferred
    from fw.python.failure import Failure

__all__ = [
    "IAddress",
    "IConsumer",
    "IDelayedCall",
    "IFileDescriptor",
    "IHalfCloseableDescriptor",
    "IHostResolution",
    "IHostnameResolver",
    "ILoggingContext",
    "IProducer",
    "IPullProducer",
    "IPushProducer",
    "IReactorCore",
    "IReactorDaemonize",
    "IReactorFDSet",
    "IReactorFromThreads",
    "IReactorInThreads",
    "IReactorPluggableNameResolver",
    "IReactorPluggableResolver",
    "IReactorThreads",
    "IReactorTime",
    "IReadDescriptor",
    "IReadWriteDescriptor",
    "IResolutionReceiver",
    "IResolverSimple",
    "ISystemHandle",
    "IWriteDescriptor",
]


class IAddress(Interface):
    """
    The address of one end of a connection or of a listening port.

    A marker interface: concrete address classes (``IPv4Address``,
    ``UNIXAddress``...) carry the fields that make sense for their family.
    """


# -- time -------------------------------------------------------------------


class IDelayedCall(Interface):
    """
    A call scheduled with :meth:`IReactorTime.callLater`, not yet run.

    A delayed call is *active* until it runs or is cancelled; after that,
    changing it raises ``AlreadyCalled`` or ``AlreadyCancelled``.
    """

    def getTime() -> float:
        """
        Return the time, in the reactor's :meth:`IReactorTime.seconds` clock,
        at which the call is due.
        """

    def cancel() -> None:
        """
        Unschedule the call so that it never runs.

        Raises:
            AlreadyCancelled: it was cancelled before.
            AlreadyCalled: it has already run.
        """

    def delay(secondsLater: float) -> None:
        """
        Postpone the call by ``secondsLater`` seconds from its current due
        time.

        Raises:
            AlreadyCancelled: it was cancelled before.
            AlreadyCalled: it has already run.
        """

    def reset(secondsFromNow: float) -> None:
        """
        Reschedule the call to be due ``secondsFromNow`` seconds from now.

        Raises:
            AlreadyCancelled: it was cancelled before.
            AlreadyCalled: it has already run.
        """

    def active() -> bool:
        """Return whether the call is still pending (neither run nor cancelled)."""


class IReactorTime(Interface):
    """
    Scheduling calls for later.  Implemented by every reactor and by
    :class:`fw.internet.task.Clock`, the deterministic clock for tests.
    """

    def seconds() -> float:
        """
        Return the current time in seconds, on the clock this provider
        schedules by (``time.time()`` for a real reactor).
        """

    def callLater(
        delay: float, callable: Callable[..., object], /, *args: object, **kwargs: object
    ) -> IDelayedCall:
        """
        Call ``callable(*args, **kwargs)`` once, ``delay`` seconds from now.

        Args:
            delay: how many seconds from now; ``0`` means at the next
                opportunity, after what is already due.
            callable: the function to call; its return value is ignored.

        Returns:
            The scheduled call, which can be cancelled or rescheduled.
        """

    def getDelayedCalls() -> Sequence[IDelayedCall]:
        """Return every delayed call that is still pending, in no set order."""


# -- the event loop ---------------------------------------------------------


class IReactorCore(Interface):
    """
    The event loop itself: running, stopping, and system event triggers.

    System events (``"startup"``, ``"shutdown"``, ``"persist"``) each run
    in three phases: ``"before"``, ``"during"`` and ``"after"``.  A
    ``"before"`` trigger may return a Deferred; the ``"during"`` phase waits
    for every such Deferred to fire.
    """

    running: bool = Attribute(
        "True from the moment the reactor has started (the 'startup' event's "
        "'during' phase) until it has been stopped."
    )

    def resolve(name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """
        Look up the IPv4 address of a host name.

        Args:
            name: the host name.
            timeout: the successive retry timeouts, in seconds.

        Returns:
            A Deferred that fires with the dotted-quad address, or fails with
            ``DNSLookupError``.
        """

    def run() -> None:
        """
        Fire the ``"startup"`` system event, then run the event loop until
        :meth:`stop` or :meth:`crash` is called.
        """

    def stop() -> None:
        """
        Stop the event loop after firing the ``"shutdown"`` system event.

        Raises:
            ReactorNotRunning: the reactor is not running.
        """

    def crash() -> None:
        """
        Stop the event loop at once, without firing ``"shutdown"``.  For
        tests and extreme cases; ``stop`` is almost always what is wanted.
        """

    def iterate(delay: float = 0) -> None:
        """
        Run one pass of the event loop, waiting at most ``delay`` seconds for
        I/O.  Meant for tests and for embedding in another loop.
        """

    def fireSystemEvent(eventType: str) -> None:
        """Run every phase of the named system event's triggers."""

    def addSystemEventTrigger(
        phase: str,
        eventType: str,
        callable: Callable[..., Any],
        /,
        *args: object,
        **kwargs: object,
    ) -> Any:
        """
        Register ``callable(*args, **kwargs)`` to run in one phase of a
        system event.

        Args:
            phase: ``"before"``, ``"during"`` or ``"after"``.
            eventType: ``"startup"``, ``"shutdown"``, ``"persist"``, or any
                other event name used with :meth:`fireSystemEvent`.
            callable: the trigger.

        Returns:
            An opaque identifier for :meth:`removeSystemEventTrigger`.

        Raises:
            KeyError: ``phase`` is not one of the three phases.
        """

    def removeSystemEventTrigger(triggerID: Any) -> None:
        """
        Unregister a trigger added with :meth:`addSystemEventTrigger`.

        Raises:
            ValueError: the identifier is unknown or was already removed.
        """

    def callWhenRunning(
        callable: Callable[..., Any], /, *args: object, **kwargs: object
    ) -> Any | None:
        """
        Call ``callable(*args, **kwargs)`` as soon as the reactor is running:
        now if it already is, else during startup.

        Returns:
            ``None`` when called at once, else a trigger identifier for
            :meth:`removeSystemEventTrigger`.
        """


class IReactorDaemonize(Interface):
    """Hooks a reactor runs around the fork that daemonizes the process."""

    def beforeDaemonize() -> None:
        """Called before the process forks into the background."""

    def afterDaemonize() -> None:
        """Called in the child process after it has daemonized."""


# -- descriptors ------------------------------------------------------------


class ILoggingContext(Interface):
    """Something that names itself in log messages it causes."""

    def logPrefix() -> str:
        """Return the prefix for log messages about this object."""


class IFileDescriptor(ILoggingContext):
    """An object with an operating-system file descriptor that a reactor watches."""

    def fileno() -> int:
        """
        Return the file descriptor number.  ``-1`` means the descriptor is
        closed and the reactor should forget this object.
        """

    def connectionLost(reason: Failure) -> None:
        """
        The descriptor has been closed or removed from the reactor, for the
        given reason (a ``ConnectionDone`` failure for a clean close).
        """


class IReadDescriptor(IFileDescriptor):
    """A file descriptor a reactor watches for readability."""

    def doRead() -> Failure | BaseException | None:
        """
        Some data can be read.

        Returns:
            ``None`` normally; a Failure or an exception (such as
            ``ConnectionDone``) describing why the descriptor should be
            disconnected.
        """


class IWriteDescriptor(IFileDescriptor):
    """A file descriptor a reactor watches for writability."""

    def doWrite() -> Failure | BaseException | None:
        """
        Some data can be written.

        Returns:
            ``None`` normally; a Failure or an exception (such as
            ``ConnectionDone``) describing why the descriptor should be
            disconnected.
        """


class IReadWriteDescriptor(IReadDescriptor, IWriteDescriptor):
    """A file descriptor watched both for reading and for writing."""


class IHalfCloseableDescriptor(Interface):
    """A descriptor whose two directions can be closed separately."""

    def writeConnectionLost(reason: Failure) -> None:
        """The write direction has been closed."""

    def readConnectionLost(reason: Failure) -> None:
        """The read direction has been closed."""


class ISystemHandle(Interface):
    """An object wrapping a platform-specific handle."""

    def getHandle() -> object:
        """
        Return the underlying handle (a socket object, for socket
        transports).  Using it directly can confuse the reactor.
        """


class IReactorFDSet(Interface):
    """Direct management of the descriptors a reactor watches."""

    def addReader(reader: IReadDescriptor) -> None:
        """Start watching ``reader`` for readability."""

    def addWriter(writer: IWriteDescriptor) -> None:
        """Start watching ``writer`` for writability."""

    def removeReader(reader: IReadDescriptor) -> None:
        """Stop watching ``reader``; a no-op if it was not watched."""

    def removeWriter(writer: IWriteDescriptor) -> None:
        """Stop watching ``writer``; a no-op if it was not watched."""

    def removeAll() -> list[IReadDescriptor | IWriteDescriptor]:
        """
        Stop watching every descriptor except the reactor's internal ones.

        Returns:
            The descriptors that were being watched.
        """

    def getReaders() -> list[IReadDescriptor]:
        """Return the descriptors currently watched for reading."""

    def getWriters() -> list[IWriteDescriptor]:
        """Return the descriptors currently watched for writing."""


# -- threads ----------------------------------------------------------------


class IReactorFromThreads(Interface):
    """Handing work from other threads to the reactor thread."""

    def callFromThread(callable: Callable[..., Any], /, *args: object, **kwargs: object) -> None:
        """
        Run ``callable(*args, **kwargs)`` in the reactor thread at its next
        iteration.  Safe to call from any thread, and the only reactor method
        that is.
        """


class IReactorInThreads(Interface):
    """Running work in a thread pool managed by the reactor."""

    def callInThread(callable: Callable[..., Any], /, *args: object, **kwargs: object) -> None:
        """Run ``callable(*args, **kwargs)`` in a thread of the reactor's pool."""


class IReactorThreads(IReactorFromThreads, IReactorInThreads):
    """A reactor that owns a thread pool."""

    def getThreadPool() -> Any:
        """
        Return the reactor's thread pool (a ``fw.python.threadpool.ThreadPool``),
        creating it on first use.
        """

    def suggestThreadPoolSize(size: int) -> None:
        """Ask for the thread pool's maximum size to be ``size`` threads."""


# -- name resolution --------------------------------------------------------


class IResolverSimple(Interface):
    """The oldest and simplest resolver: one name to one IPv4 address."""

    def getHostByName(name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """
        Resolve ``name`` to one IPv4 address.

        Args:
            name: the host name.
            timeout: the successive retry timeouts, in seconds.

        Returns:
            A Deferred firing with the dotted-quad address, or failing with
            ``DNSLookupError`` or ``TimeoutError``.
        """


class IHostResolution(Interface):
    """One host name resolution in progress."""

    name: str = Attribute("The host name being resolved.")

    def cancel() -> None:
        """Stop the resolution; the receiver hears no more about it."""


class IResolutionReceiver(Interface):
    """
    Receives the results of a host name resolution, in this order:
    ``resolutionBegan -> addressResolved* -> resolutionComplete``.
    """

    def resolutionBegan(resolutionInProgress: IHostResolution) -> None:
        """The resolution has started."""

    def addressResolved(address: IAddress) -> None:
        """One address was found (called once per address)."""

    def resolutionComplete() -> None:
        """No more addresses will be reported."""


class IHostnameResolver(Interface):
    """A resolver that finds every address of a host name, of any family."""

    def resolveHostName(
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """
        Start resolving ``hostName``, reporting to ``resolutionReceiver``.

        Args:
            resolutionReceiver: told about the resolution and its results.
            hostName: the name to resolve.
            portNumber: the port the resulting addresses should carry.
            addressTypes: the address classes wanted (``IPv4Address``,
                ``IPv6Address``), or ``None`` for every kind.
            transportSemantics: ``"TCP"`` or ``"UDP"``.

        Returns:
            The resolution in progress, which can be cancelled.
        """


class IReactorPluggableResolver(Interface):
    """A reactor whose :class:`IResolverSimple` can be replaced."""

    def installResolver(resolver: IResolverSimple) -> IResolverSimple:
        """
        Use ``resolver`` from now on.

        Returns:
            The resolver previously installed.
        """


class IReactorPluggableNameResolver(Interface):
    """A reactor whose :class:`IHostnameResolver` can be replaced."""

    nameResolver: IHostnameResolver = Attribute("The reactor's current host name resolver.")

    def installNameResolver(resolver: IHostnameResolver) -> IHostnameResolver:
        """
        Use ``resolver`` from now on.

        Returns:
            The resolver previously installed.
        """


# -- producers and consumers ------------------------------------------------


class IProducer(Interface):
    """
    A source of data for an :class:`IConsumer`.  See :class:`IPushProducer`
    and :class:`IPullProducer` for the two kinds.
    """

    def stopProducing() -> None:
        """
        Stop producing for good: the consumer is going away.  After this the
        producer must not write to the consumer again.
        """


class IPushProducer(IProducer):
    """
    A producer that writes whenever it has data (a *streaming* producer),
    until its consumer pauses it.
    """

    def pauseProducing() -> None:
        """Stop writing until :meth:`resumeProducing` is called."""

    def resumeProducing() -> None:
        """Start writing again after a :meth:`pauseProducing`."""


class IPullProducer(IProducer):
    """A producer that writes only when its consumer asks it to (non-streaming)."""

    def resumeProducing() -> None:
        """Write one chunk of data to the consumer, now."""


class IConsumer(Interface):
    """
    A destination for data, which can throttle a producer registered with it.
    """

    def registerProducer(producer: IProducer, streaming: bool) -> None:
        """
        Register the producer that feeds this consumer.

        Args:
            producer: the producer.
            streaming: ``True`` for an :class:`IPushProducer`, which the
                consumer pauses and resumes; ``False`` for an
                :class:`IPullProducer`, whose ``resumeProducing`` the consumer
                calls each time it wants more.

        Raises:
            RuntimeError: a producer is already registered.
        """

    def unregisterProducer() -> None:
        """Forget the registered producer."""

    def write(data: bytes) -> None:
        """
        Accept ``data``.  The consumer buffers what it cannot pass on yet and
        pauses a streaming producer when the buffer gets large.
        """
