"""The README's run command: ``fwd -n -y demo/demo.tac`` serves the demo application."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readmeRunsTheDemo() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "fwd -n -y demo/demo.tac" in readme


def runUntil(
    args: list[str], text: str, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``python -m fw.application ARGS`` and read its output until ``text``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fw.application", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    output = b""
    deadline = time.monotonic() + 60
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        # Unbuffered reads: a buffered readline() could hold the awaited line
        # in its buffer while select() waits on the empty pipe.
        while text.encode() not in output:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                proc.kill()
                proc.wait()
                raise AssertionError(f"no {text!r} from fwd in time:\n{output.decode()}")
            chunk = os.read(fd, 65536)
            if not chunk:
                proc.wait()
                raise AssertionError(f"fwd exited ({proc.returncode}):\n{output.decode()}")
            output += chunk
    return proc, output.decode()


def stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=20)
    return proc.returncode, rest.decode()


def test_demoServesFingerDNSAndWeb() -> None:
    proc, output = runUntil(
        ["-n", "-y", "demo/demo.tac"],
        "fw demo: running",
        {
            "FW_DEMO_FINGER": "tcp:0:interface=127.0.0.1",
            "FW_DEMO_DNS": "tcp:0:interface=127.0.0.1",
            "FW_DEMO_WEB": "tcp:0:interface=127.0.0.1",
        },
    )
    try:
        line = next(line for line in output.splitlines() if "finger server" in line)
        port = int(line.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"alice\r\n")
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
        assert answer == b"Login: alice\r\nHappy and well; writing the reactor.\r\n"
        # DNS, over UDP and TCP, asked with dnspython.
        import dns.message
        import dns.query

        line = next(line for line in output.splitlines() if "DNS server" in line)
        port = int(line.rsplit(":", 1)[1])
        query = dns.message.make_query("www.example.com", "A")
        for ask in (dns.query.udp, dns.query.tcp):
            response = ask(query, "127.0.0.1", port=port, timeout=5)
            addresses = {
                item.address
                for rrset in response.answer
                for item in rrset
                if hasattr(item, "address")
            }
            assert addresses == {"192.0.2.10"}
        # The web: the static page, with http.client.
        import http.client

        line = next(line for line in output.splitlines() if "web server" in line)
        port = int(line.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/")
        response = connection.getresponse()
        page = response.read()
        connection.close()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("text/html")
        assert page == (ROOT / "demo" / "www" / "index.html").read_bytes()
    finally:
        status, _ = stop(proc)
    assert status == 0


def test_docsTacExampleRunsUnderFwd() -> None:
    example = "docs/examples/core/application_tac.py"
    proc, output = runUntil(["-n", "-y", example], "started;", {})
    status, rest = stop(proc)
    assert "greeter started" in output
    assert status == 0
    assert "greeter stopping" in rest
