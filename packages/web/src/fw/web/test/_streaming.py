"""
Resources that exercise streaming and flow control, shared by fw-web's
HTTP/1.1 and HTTP/2 tests (server and client): a response that never comes,
a large response from a push producer that records its pauses, and an upload
read slowly.  What they saw goes into a ``state`` dictionary the test reads.
"""

from __future__ import annotations

from typing import Any

from fw.web import server
from fw.web.resource import Resource

__all__ = ["Hang", "Pusher", "SlowUpload"]


class Hang(Resource):
    """Never answers; counts in ``state["lost"]`` the requests whose client went away."""

    isLeaf = True

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__()
        self.state = state

    def render_GET(self, request: Any) -> int:
        def lost(_: Any) -> None:
            self.state["lost"] = self.state.get("lost", 0) + 1

        request.notifyFinish().addErrback(lost)
        return server.NOT_DONE_YET


class Pusher(Resource):
    """
    Streams ``size`` bytes through a push producer in 16 KiB writes;
    ``state`` records ``pauses``, ``sent``, ``paused``, ``stopped`` and
    ``done``.
    """

    isLeaf = True

    def __init__(self, reactor: Any, state: dict[str, Any], size: int = 4 * 1024 * 1024) -> None:
        super().__init__()
        self.reactor = reactor
        self.state = state
        self.size = size

    def render_GET(self, request: Any) -> int:
        state, reactor, size = self.state, self.reactor, self.size
        state.update(pauses=0, sent=0, paused=False)

        class Producer:
            def pauseProducing(self) -> None:
                state["pauses"] += 1
                state["paused"] = True

            def resumeProducing(self) -> None:
                state["paused"] = False
                reactor.callLater(0, step)

            def stopProducing(self) -> None:
                state["stopped"] = True

        def step() -> None:
            while not state["paused"] and state["sent"] < size:
                request.write(b"z" * 16384)
                state["sent"] += 16384
            if state["sent"] >= size and not state.get("done"):
                state["done"] = True
                request.unregisterProducer()
                request.finish()

        request.registerProducer(Producer(), True)
        reactor.callLater(0, step)
        return server.NOT_DONE_YET


class SlowUpload(Resource):
    """
    Takes a POST body as it arrives (``streamingRequestBody``), holding the
    upload back for ``pause`` seconds at its first bytes, then answers
    ``got <bytes received>``.
    """

    isLeaf = True
    streamingRequestBody = True

    def __init__(self, reactor: Any, pause: float = 0.5) -> None:
        super().__init__()
        self.reactor = reactor
        self.pause = pause

    def render_POST(self, request: Any) -> int:
        reactor, pause = self.reactor, self.pause

        class Body:
            received = 0
            transport: Any = None

            def makeConnection(self, transport: Any) -> None:
                self.transport = transport

            def dataReceived(self, data: bytes) -> None:
                if not self.received:
                    self.transport.pauseProducing()
                    reactor.callLater(pause, self.transport.resumeProducing)
                self.received += len(data)

            def connectionLost(self, reason: Any) -> None:
                request.write(b"got %d" % self.received)
                request.finish()

        request.deliverBody(Body())
        return server.NOT_DONE_YET
