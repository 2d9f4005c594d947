"""TLS bulk transfer over one connection, 64 KiB writes, measured on the client.

Usage::

    python benchmarks/net/tls_bulk.py --impl fw --direction send [--mebibytes 200]
                                      [--cpu 0] [--peer-cpu 1]

Starts a peer process (a blocking server on Python's ``ssl`` module, pinned
to ``--peer-cpu``) on 127.0.0.1 with a throwaway certificate, then connects
to it from this process (pinned to ``--cpu``) with the implementation
measured, over TLS, checking the peer's certificate and name:

- ``send``: the client writes ``--mebibytes`` MiB in 64 KiB blocks, as fast
  as the connection takes them; the peer reads and drops them, then answers
  one byte, which ends the run;
- ``recv``: the peer writes them in 64 KiB blocks; the client reads and
  drops them, then answers one byte.

The measurement runs from the end of the handshake to the end of the
transfer, and prints one JSON object: ``{"ops": MiB, "seconds": S,
"wall_seconds": W}``, ``S`` being this process's CPU time
(``time.process_time``), so the driver's rate is MiB per CPU-second of the
client, the side measured (the wall-clock rate is in the JSON too).  Exits
with status 3 when the implementation is not installed.

Implementations:

- ``fw``: fw's default reactor (epoll), ``reactor.connectSSL`` with
  ``optionsForClientTLS`` (TLS over pyOpenSSL memory BIOs);
- ``twisted``: the same code on Twisted 26.10 (pyOpenSSL as well);
- ``asyncio``: an ``asyncio.Protocol`` on the standard loop with
  ``create_connection(ssl=...)`` (asyncio's ``ssl.MemoryBIO`` layer);
- ``uvloop``: the same protocol on uvloop (its own TLS layer, in C, over
  ``ssl.MemoryBIO``);
- ``ssl``: a blocking ``ssl.SSLSocket`` (``sendall``/``recv_into``): Python's
  ``ssl`` module with no event loop, the floor the others are held to.

pyOpenSSL links the OpenSSL that ``cryptography`` bundles, the ``ssl``
module the system's: both negotiate TLS 1.3 with AES-256-GCM here.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IMPLS = ("fw", "twisted", "asyncio", "uvloop", "ssl")
UNAVAILABLE = 3
BLOCK = 65536


class Transfer:
    """What one run moves, and the clock readings of its start and end."""

    def __init__(self, direction: str, blocks: int) -> None:
        self.direction = direction
        self.blocks = blocks
        self.total = blocks * BLOCK
        self.times: list[tuple[float, float]] = []

    def mark(self) -> None:
        self.times.append((time.process_time(), time.perf_counter()))


# -- the peer: blocking, on the ssl module


PEER = """
import os, socket, ssl, sys
certdir, direction, total, cpu = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if cpu >= 0:
    os.sched_setaffinity(0, {cpu})
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem"))
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
connection, _ = listener.accept()
listener.close()
tls = context.wrap_socket(connection, server_side=True)
if direction == "send":
    received = 0
    buffer = bytearray(262144)
    while received < total:
        n = tls.recv_into(buffer)
        if not n:
            sys.exit("the client closed early")
        received += n
    tls.sendall(b"x")
else:
    block = bytes(65536)
    for _ in range(total // 65536):
        tls.sendall(block)
    if tls.recv(1) != b"x":
        sys.exit("no answer from the client")
tls.close()
"""


def makeCertificate(directory: Path) -> None:
    """A self-signed certificate for ``localhost``, and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def startPeer(certdir: Path, transfer: Transfer, cpu: int) -> tuple[subprocess.Popen[str], int]:
    arguments = [str(certdir), transfer.direction, str(transfer.total), str(cpu)]
    peer = subprocess.Popen(
        # -I: the peer needs only the standard library, whatever the directory.
        [sys.executable, "-I", "-c", PEER, *arguments],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert peer.stdout is not None
    return peer, int(peer.stdout.readline())


# -- the clients


def runReactor(impl: str, port: int, certdir: Path, transfer: Transfer) -> None:
    """fw or Twisted: the same code with the package renamed."""
    if impl == "fw":
        from fw.internet import epollreactor

        epollreactor.install()
    else:
        from twisted.internet import epollreactor as tepoll

        tepoll.install()
    reactor: Any = importlib.import_module(f"{impl}.internet.reactor")
    protocol: Any = importlib.import_module(f"{impl}.internet.protocol")
    interfaces: Any = importlib.import_module(f"{impl}.internet.interfaces")
    tls: Any = importlib.import_module(f"{impl}.internet.ssl")
    from zope.interface import implementer

    authority = tls.Certificate.loadPEM((certdir / "cert.pem").read_bytes())
    options = tls.optionsForClientTLS("localhost", trustRoot=authority)
    block = bytes(BLOCK)

    @implementer(interfaces.IHandshakeListener, interfaces.IPushProducer)
    class Client(protocol.Protocol):  # type: ignore[misc]
        left = transfer.blocks
        received = 0
        paused = False

        def handshakeCompleted(self) -> None:
            transfer.mark()
            if transfer.direction == "send":
                self.transport.registerProducer(self, True)
                self.resumeProducing()

        def resumeProducing(self) -> None:
            self.paused = False
            write = self.transport.write
            while not self.paused and self.left:
                self.left -= 1
                write(block)
            if not self.left:
                self.transport.unregisterProducer()

        def pauseProducing(self) -> None:
            self.paused = True

        def stopProducing(self) -> None:
            self.left = 0

        def dataReceived(self, data: bytes) -> None:
            if transfer.direction == "send":
                transfer.mark()
                self.transport.loseConnection()
                return
            self.received += len(data)
            if self.received >= transfer.total:
                transfer.mark()
                self.transport.write(b"x")
                self.transport.loseConnection()

        def connectionLost(self, reason: Any) -> None:
            reactor.stop()

    reactor.connectSSL("127.0.0.1", port, protocol.ClientFactory.forProtocol(Client), options)
    reactor.run(installSignalHandlers=False)


def runAsyncio(impl: str, port: int, certdir: Path, transfer: Transfer) -> None:
    """A bare asyncio protocol, on the standard loop or on uvloop."""
    if impl == "uvloop":
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    context = ssl.create_default_context(cafile=str(certdir / "cert.pem"))
    block = bytes(BLOCK)
    done = loop.create_future()

    class Client(asyncio.Protocol):
        transport: Any
        left = transfer.blocks
        received = 0
        paused = False

        def connection_made(self, transport: Any) -> None:
            # With ssl=, this comes once the handshake is done.
            transfer.mark()
            self.transport = transport
            if transfer.direction == "send":
                self.resume_writing()

        def resume_writing(self) -> None:
            self.paused = False
            write = self.transport.write
            while not self.paused and self.left:
                self.left -= 1
                write(block)

        def pause_writing(self) -> None:
            self.paused = True

        def data_received(self, data: bytes) -> None:
            if transfer.direction == "send":
                transfer.mark()
                self.transport.close()
                return
            self.received += len(data)
            if self.received >= transfer.total:
                transfer.mark()
                self.transport.write(b"x")
                self.transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            if not done.done():
                done.set_result(None)

    async def go() -> None:
        await loop.create_connection(
            Client, "127.0.0.1", port, ssl=context, server_hostname="localhost"
        )
        await done

    try:
        loop.run_until_complete(go())
    finally:
        loop.close()


def runBlocking(port: int, certdir: Path, transfer: Transfer) -> None:
    """Python's ssl module on a blocking socket: no loop at all."""
    context = ssl.create_default_context(cafile=str(certdir / "cert.pem"))
    raw = socket.create_connection(("127.0.0.1", port))
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        transfer.mark()
        if transfer.direction == "send":
            block = bytes(BLOCK)
            for _ in range(transfer.blocks):
                tls.sendall(block)
            if tls.recv(1) != b"x":
                raise RuntimeError("no answer from the peer")
        else:
            received = 0
            buffer = bytearray(262144)
            while received < transfer.total:
                n = tls.recv_into(buffer)
                if not n:
                    raise RuntimeError("the peer closed early")
                received += n
            tls.sendall(b"x")
        transfer.mark()


def run(impl: str, direction: str, mebibytes: int, cpu: int, peerCpu: int) -> dict[str, float]:
    transfer = Transfer(direction, mebibytes * 2**20 // BLOCK)
    with tempfile.TemporaryDirectory() as name:
        certdir = Path(name)
        makeCertificate(certdir)
        if cpu >= 0:
            os.sched_setaffinity(0, {cpu})
        peer, port = startPeer(certdir, transfer, peerCpu)
        try:
            if impl in ("fw", "twisted"):
                runReactor(impl, port, certdir, transfer)
            elif impl in ("asyncio", "uvloop"):
                runAsyncio(impl, port, certdir, transfer)
            else:
                runBlocking(port, certdir, transfer)
            status = peer.wait(60)
        finally:
            if peer.poll() is None:
                peer.kill()
                peer.wait()
            assert peer.stdout is not None
            peer.stdout.close()
    if status != 0:
        raise RuntimeError(f"the peer failed (status {status})")
    if len(transfer.times) != 2:
        raise RuntimeError("the transfer did not complete")
    (cpu0, wall0), (cpu1, wall1) = transfer.times
    return {
        "ops": transfer.total / 2**20,
        "seconds": cpu1 - cpu0,
        "wall_seconds": wall1 - wall0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", required=True, choices=IMPLS)
    parser.add_argument("--direction", required=True, choices=["send", "recv"])
    parser.add_argument("--mebibytes", type=int, default=200, help="how much to transfer")
    parser.add_argument("--cpu", type=int, default=-1, help="pin the client to that CPU")
    parser.add_argument("--peer-cpu", type=int, default=-1, help="pin the peer to that CPU")
    options = parser.parse_args(argv)
    try:
        if options.impl == "uvloop":
            import uvloop  # noqa: F401
        elif options.impl in ("fw", "twisted"):
            importlib.import_module(f"{options.impl}.internet.ssl")
            import OpenSSL  # noqa: F401
    except ImportError as e:
        print(f"{options.impl} cannot run TLS: {e}", file=sys.stderr)
        return UNAVAILABLE
    result = run(options.impl, options.direction, options.mebibytes, options.cpu, options.peer_cpu)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
