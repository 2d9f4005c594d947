"""
PROXY protocol interop: headers written by independent implementations reach
an fw server wrapped in HAProxyWrappingFactory, which must see the addresses
they carry.  Peers: the proxy-protocol library from PyPI (v1 and v2, with
TLVs and its own CRC32C), curl --haproxy-protocol (v1), and HAProxy itself
(send-proxy and send-proxy-v2 with its crc32c and unique-id TLVs).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fw.internet import defer
from fw.internet.protocol import ClientFactory, Factory, ProcessProtocol, Protocol
from fw.protocols.haproxy import (
    PP2_TYPE_ALPN,
    PP2_TYPE_AUTHORITY,
    PP2_TYPE_CRC32C,
    PP2_TYPE_UNIQUE_ID,
    HAProxyWrappingFactory,
)
from fw.python.failure import Failure
from fw.trial.pytestplugin import requireModule


class Reporter(Protocol):
    """Answers any data with what the PROXY header told it, then closes."""

    def dataReceived(self, data: bytes) -> None:
        assert self.transport is not None
        peer = self.transport.getPeer()
        host = self.transport.getHost()
        info = self.transport.proxyInfo  # type: ignore[attr-defined]
        types = ",".join(str(t.type) for t in info.tlvs)
        uid = (info.tlv(PP2_TYPE_UNIQUE_ID) or b"").decode()
        authority = (info.tlv(PP2_TYPE_AUTHORITY) or b"").decode()
        lines = [
            f"peer={getattr(peer, 'host', '')}:{getattr(peer, 'port', '')}",
            f"host={getattr(host, 'host', '')}:{getattr(host, 'port', '')}",
            f"version={info.version}",
            f"tlvs={types}",
            f"uid={uid}",
            f"authority={authority}",
        ]
        if data.startswith(b"GET "):
            self.transport.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        self.transport.write("\n".join(lines).encode() + b"\n")
        self.transport.loseConnection()


def parse(answer: bytes) -> dict[str, str]:
    body = answer.split(b"\r\n\r\n", 1)[-1]
    return dict(line.split("=", 1) for line in body.decode().splitlines())


class Ask(Protocol):
    """Sends ``prelude`` then ``b"?"``, and collects the answer."""

    def __init__(self, prelude: bytes, done: defer.Deferred[tuple[int, bytes]]) -> None:
        self.prelude = prelude
        self.done = done
        self.answer = b""

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.localPort = self.transport.getHost().port  # type: ignore[attr-defined]
        self.transport.write(self.prelude + b"?")

    def dataReceived(self, data: bytes) -> None:
        self.answer += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.done.callback((self.localPort, self.answer))


def ask(reactor: Any, port: int, prelude: bytes = b"") -> defer.Deferred[tuple[int, bytes]]:
    done: defer.Deferred[tuple[int, bytes]] = defer.Deferred()
    factory = ClientFactory()
    factory.protocol = lambda: Ask(prelude, done)  # type: ignore[assignment]
    reactor.connectTCP("127.0.0.1", port, factory)
    return done


def later(reactor: Any, seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


def test_proxyProtocolLibrary(reactor: Any, runReactor: Callable[..., Any]) -> None:
    """Headers packed by the proxy-protocol library, v1 and v2, with TLVs and a CRC32C."""
    requireModule("proxyprotocol")
    from proxyprotocol.result import ProxyResultIPv4, ProxyResultIPv6, ProxyResultLocal
    from proxyprotocol.tlv import ProxyProtocolTLV
    from proxyprotocol.v1 import ProxyProtocolV1
    from proxyprotocol.v2 import ProxyProtocolV2

    port = reactor.listenTCP(
        0, HAProxyWrappingFactory(Factory.forProtocol(Reporter)), interface="127.0.0.1"
    )
    v4 = ProxyResultIPv4(
        (ipaddress.IPv4Address("203.0.113.7"), 51000),
        (ipaddress.IPv4Address("198.51.100.1"), 443),
        protocol=socket.SOCK_STREAM,
    )
    v6 = ProxyResultIPv6(
        (ipaddress.IPv6Address("2001:db8::42"), 61000),
        (ipaddress.IPv6Address("2001:db8::1"), 8443),
        protocol=socket.SOCK_STREAM,
        tlv=ProxyProtocolTLV(alpn=b"h2", authority="example.com", unique_id=b"abc123"),
    )
    headers = {
        "v1-ipv4": ProxyProtocolV1().pack(v4),
        "v1-ipv6": ProxyProtocolV1().pack(v6),
        "v2-ipv4": ProxyProtocolV2().pack(v4),
        "v2-ipv6": ProxyProtocolV2().pack(v6),
        "v2-local": ProxyProtocolV2().pack(ProxyResultLocal()),
    }

    async def go() -> dict[str, tuple[int, dict[str, str]]]:
        seen = {}
        for name, header in headers.items():
            localPort, answer = await ask(reactor, port.getHost().port, header)
            seen[name] = (localPort, parse(answer))
        await port.stopListening()
        await later(reactor, 0.02)
        return seen

    seen = runReactor(reactor, go)
    assert seen["v1-ipv4"][1]["peer"] == "203.0.113.7:51000"
    assert seen["v1-ipv4"][1]["host"] == "198.51.100.1:443"
    assert seen["v1-ipv6"][1]["peer"] == "2001:db8::42:61000"
    assert seen["v2-ipv4"][1]["peer"] == "203.0.113.7:51000"
    v2six = seen["v2-ipv6"][1]
    assert v2six["peer"] == "2001:db8::42:61000"
    assert v2six["host"] == "2001:db8::1:8443"
    assert v2six["version"] == "2"
    types = {int(t) for t in v2six["tlvs"].split(",")}
    # The library adds its own CRC32C, which the parser checked.
    assert {PP2_TYPE_ALPN, PP2_TYPE_AUTHORITY, PP2_TYPE_UNIQUE_ID, PP2_TYPE_CRC32C} <= types
    assert (v2six["uid"], v2six["authority"]) == ("abc123", "example.com")
    # LOCAL: the connection's own addresses.
    localPort, local = seen["v2-local"]
    assert local["peer"] == f"127.0.0.1:{localPort}"


def test_curlHAProxyProtocol(
    reactor: Any, runReactor: Callable[..., Any], requirePeer: Callable[[str], str]
) -> None:
    """curl --haproxy-protocol sends a v1 header with its own addresses."""
    curl = requirePeer("curl")
    port = reactor.listenTCP(
        0, HAProxyWrappingFactory(Factory.forProtocol(Reporter)), interface="127.0.0.1"
    )

    class Output(ProcessProtocol):
        def __init__(self) -> None:
            self.out = b""
            self.ended: defer.Deferred[None] = defer.Deferred()

        def outReceived(self, data: bytes) -> None:
            self.out += data

        def processEnded(self, reason: Failure) -> None:
            self.ended.callback(None)

    portNumber = port.getHost().port

    async def go() -> bytes:
        out = Output()
        url = f"http://127.0.0.1:{portNumber}/"
        reactor.spawnProcess(
            out,
            curl,
            [curl, "-sS", "-m", "10", "--haproxy-protocol", "-w", "curl=%{local_port}", url],
            env=dict(os.environ),
        )
        await out.ended
        await port.stopListening()
        return out.out

    answer = parse(runReactor(reactor, go, timeout=20))
    assert answer["version"] == "1"
    assert answer["peer"] == f"127.0.0.1:{answer['curl']}"
    assert answer["host"] == f"127.0.0.1:{portNumber}"


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listening(port: int) -> bool:
    """Whether some socket listens on 127.0.0.1:``port`` (from /proc/net/tcp)."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        next(table)
        return any(
            fields[1] == wanted and fields[3] == "0A"  # 0A: LISTEN
            for fields in (line.split() for line in table)
        )


def test_haproxy(
    reactor: Any,
    runReactor: Callable[..., Any],
    requirePeer: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """HAProxy in front of an fw server: send-proxy (v1) and send-proxy-v2 with TLVs."""
    haproxy = requirePeer("haproxy")
    wrapper = HAProxyWrappingFactory(Factory.forProtocol(Reporter))
    port = reactor.listenTCP(0, wrapper, interface="127.0.0.1")
    back = port.getHost().port
    front1, front2 = freePort(), freePort()
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        f"""
defaults
    mode tcp
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend v1
    bind 127.0.0.1:{front1}
    default_backend v1

frontend v2
    bind 127.0.0.1:{front2}
    unique-id-format %ci:%cp
    default_backend v2

backend v1
    server fw 127.0.0.1:{back} send-proxy

backend v2
    server fw 127.0.0.1:{back} send-proxy-v2 proxy-v2-options crc32c,unique-id
"""
    )
    process = subprocess.Popen(
        [haproxy, "-f", str(config), "-db"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else b""
                pytest.fail(f"haproxy exited: {output.decode(errors='replace')}")
            # Watch for its listening sockets rather than connecting to them: a
            # probe connection would make HAProxy open one to the fw server too.
            if listening(front1) and listening(front2):
                break
            if time.monotonic() > deadline:
                pytest.fail("haproxy did not start listening")
            time.sleep(0.05)

        async def go() -> list[tuple[int, dict[str, str]]]:
            results = []
            for front in (front1, front2):
                localPort, answer = await ask(reactor, front)
                results.append((localPort, parse(answer)))
            await port.stopListening()
            # HAProxy closes its side of a back-end connection in its own time.
            for _ in range(200):
                if not wrapper.protocols:
                    break
                await later(reactor, 0.05)
            return results

        (port1, seen1), (port2, seen2) = runReactor(reactor, go, timeout=20)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout:
            process.stdout.close()
    # The fw server sees the fw client's address, not HAProxy's.
    assert seen1["version"] == "1"
    assert seen1["peer"] == f"127.0.0.1:{port1}"
    assert seen1["host"] == f"127.0.0.1:{front1}"
    assert seen2["version"] == "2"
    assert seen2["peer"] == f"127.0.0.1:{port2}"
    assert seen2["host"] == f"127.0.0.1:{front2}"
    types = {int(t) for t in seen2["tlvs"].split(",")}
    assert {PP2_TYPE_CRC32C, PP2_TYPE_UNIQUE_ID} <= types
    assert seen2["uid"] == f"127.0.0.1:{port2}"
