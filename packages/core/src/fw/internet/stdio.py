"""
Standard input and output as a transport: connect a protocol to them with
:class:`StandardIO`::

    from fw.internet import stdio
    from fw.internet.protocol import Protocol

    class Echo(Protocol):
        def dataReceived(self, data):
            self.transport.write(data)

        def connectionLost(self, reason):
            reactor.stop()

    stdio.StandardIO(Echo(), reactor=reactor)

Works with pipes, terminals, sockets, regular files and ``/dev/null``.
"""

from __future__ import annotations

from fw.internet._stdio import PipeAddress, StandardIO

__all__ = ["PipeAddress", "StandardIO"]
