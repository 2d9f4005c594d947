"""
Tools for testing networking code in memory, without sockets or time.

- :class:`StringTransport` records what a protocol writes;
  :class:`StringTransportWithDisconnection` also tells it when it closes.
- :class:`MemoryReactor` records the reactor calls code makes
  (``listenTCP``, ``connectTCP``...); :class:`MemoryReactorClock` is also a
  :class:`~fw.internet.task.Clock`; :class:`RaisingMemoryReactor` fails them.
- :func:`connectedServerAndClient` connects a server and a client protocol in
  memory; the returned :class:`IOPump` moves bytes between them on demand.
- :class:`AccumulatingProtocol`, :class:`NonStreamingProducer` and
  :class:`EventLoggingObserver` are ready-made test doubles.

A protocol test, start to end::

    from fw.internet.testing import StringTransport

    proto = Echo()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"hello")
    assert transport.value() == b"hello"
"""

from fw.internet._task_clock import Clock as Clock
from fw.internet._testing_iosim import (
    FakeAddress,
    FakeTransport,
    IOPump,
    connect,
    connectedServerAndClient,
    makeFakeClient,
    makeFakeServer,
)
from fw.internet._testing_log import EventLoggingObserver
from fw.internet._testing_reactor import (
    MemoryReactor,
    MemoryReactorClock,
    RaisingMemoryReactor,
    SynchronousResolver,
)
from fw.internet._testing_transport import (
    AccumulatingProtocol,
    NonStreamingProducer,
    StringTransport,
    StringTransportWithDisconnection,
)

# Clock is importable from here too (it is documented in fw.internet.task).
__all__ = [
    "AccumulatingProtocol",
    "EventLoggingObserver",
    "FakeAddress",
    "FakeTransport",
    "IOPump",
    "MemoryReactor",
    "MemoryReactorClock",
    "NonStreamingProducer",
    "RaisingMemoryReactor",
    "StringTransport",
    "StringTransportWithDisconnection",
    "SynchronousResolver",
    "connect",
    "connectedServerAndClient",
    "makeFakeClient",
    "makeFakeServer",
]
