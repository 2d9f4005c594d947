"""
Interfaces of protocols, protocol factories and endpoints.

Public names are re-exported by :mod:`fw.internet.interfaces`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zope.interface import Attribute, Interface

from fw.internet._interfaces_core import IAddress
from fw.internet._interfaces_transport import IListeningPort, IProcessTransport, ITransport
from fw.plugin import declarePluginGroup

if TYPE_CHECKING:
    from fw.internet.defer import Deferred
    from fw.python.failure import Failure

__all__ = [
    "IFileDescriptorReceiver",
    "IHalfCloseableProtocol",
    "IHandshakeListener",
    "IProcessProtocol",
    "IProtocol",
    "IProtocolFactory",
    "IProtocolNegotiationFactory",
    "IStreamClientEndpoint",
    "IStreamClientEndpointStringParserWithReactor",
    "IStreamServerEndpoint",
    "IStreamServerEndpointStringParser",
]


class IProtocol(Interface):
    """
    The receiving half of a stream connection.

    Calls arrive in this order::

        makeConnection -> connectionMade -> dataReceived* -> connectionLost
    """

    def dataReceived(data: bytes) -> None:
        """
        Some bytes arrived.  They may be any part of what the peer sent:
        message boundaries are not kept, so parse incrementally.
        """

    def connectionLost(reason: Failure) -> None:
        """
        The connection is closed: cleanly (``ConnectionDone``) or not
        (``ConnectionLost`` and others).  Nothing more arrives.
        """

    def makeConnection(transport: ITransport) -> None:
        """Attach the protocol to its transport, then call :meth:`connectionMade`."""

    def connectionMade() -> None:
        """The connection is established and ``self.transport`` is set."""


class IProcessProtocol(Interface):
    """
    The receiving half of a connection to a child process.

    Calls arrive in this order::

        makeConnection -> (childDataReceived | childConnectionLost)*
            -> processExited -> processEnded

    ``processExited`` may come before the last pipe closes; ``processEnded``
    always comes last.
    """

    def makeConnection(process: IProcessTransport) -> None:
        """The child process has been started."""

    def childDataReceived(childFD: int, data: bytes) -> None:
        """The child wrote ``data`` to its file descriptor ``childFD``."""

    def childConnectionLost(childFD: int) -> None:
        """The pipe to the child's file descriptor ``childFD`` was closed."""

    def processExited(reason: Failure) -> None:
        """
        The child exited (``ProcessDone`` for status 0, else
        ``ProcessTerminated``); some pipes may still be open.
        """

    def processEnded(reason: Failure) -> None:
        """The child exited and every pipe to it is closed."""


class IHalfCloseableProtocol(Interface):
    """
    A protocol told about each direction of its connection closing.

    When a protocol provides this, closing the read direction calls
    :meth:`readConnectionLost` instead of ending the whole connection.
    """

    def readConnectionLost() -> None:
        """The peer has finished sending; writing is still possible."""

    def writeConnectionLost() -> None:
        """This side can no longer write; reading is still possible."""


class IHandshakeListener(Interface):
    """A protocol over TLS that wants to know when the handshake is done."""

    def handshakeCompleted() -> None:
        """The TLS handshake finished; the peer certificate can now be inspected."""


class IFileDescriptorReceiver(Interface):
    """A protocol over a UNIX socket that accepts file descriptors sent by its peer."""

    def fileDescriptorReceived(descriptor: int) -> None:
        """
        A file descriptor arrived; the protocol now owns it and must close it.
        It is delivered before the bytes sent with it.
        """


class IProtocolFactory(Interface):
    """Makes a protocol for each new connection."""

    def buildProtocol(addr: IAddress) -> IProtocol | None:
        """
        Return a protocol for a connection with the peer at ``addr``, or
        ``None`` to refuse the connection (it is closed at once).
        """

    def doStart() -> None:
        """Called each time the factory starts serving a port or connector."""

    def doStop() -> None:
        """Called each time the factory stops serving a port or connector."""


class IProtocolNegotiationFactory(Interface):
    """A factory whose protocols can be chosen by ALPN during the TLS handshake."""

    def acceptableProtocols() -> list[bytes]:
        """Return the ALPN protocol names acceptable, most preferred first."""


class IStreamServerEndpoint(Interface):
    """Somewhere a stream server listens (a TCP port, a UNIX socket...)."""

    def listen(protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Start listening with ``protocolFactory`` building each connection's
        protocol.

        Returns:
            A Deferred firing with the port, or failing with
            ``CannotListenError``.
        """


class IStreamClientEndpoint(Interface):
    """Somewhere a stream client connects to."""

    def connect(protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Connect, using ``protocolFactory`` to build the connection's protocol.

        Returns:
            A Deferred firing with the connected protocol, or failing with a
            ``ConnectError``.  Cancelling it abandons the attempt.
        """


@declarePluginGroup("fw.endpoints.server")
class IStreamServerEndpointStringParser(Interface):
    """
    Parses server endpoint descriptions of one prefix (``"tcp:8080"``).
    Plugins register in the ``fw.endpoints.server`` entry-point group under
    their prefix.
    """

    prefix: str = Attribute("The description prefix this parser handles, like 'tcp'.")

    def parseStreamServer(reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """
        Build an endpoint from a description's parts: the colon-separated
        positional fields in ``args`` and the ``key=value`` fields in
        ``kwargs``, the prefix removed.
        """


@declarePluginGroup("fw.endpoints.client")
class IStreamClientEndpointStringParserWithReactor(Interface):
    """
    Parses client endpoint descriptions of one prefix (``"tcp:host=x:port=80"``).
    Plugins register in the ``fw.endpoints.client`` entry-point group under
    their prefix.
    """

    prefix: str = Attribute("The description prefix this parser handles, like 'tcp'.")

    def parseStreamClient(reactor: Any, *args: str, **kwargs: str) -> IStreamClientEndpoint:
        """
        Build an endpoint from a description's parts: the colon-separated
        positional fields in ``args`` and the ``key=value`` fields in
        ``kwargs``, the prefix removed.
        """
