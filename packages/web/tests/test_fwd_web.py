"""``fwd web`` (the fw.service_makers plugin), its options, and as a real process."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fw.application.service import IServiceMaker
from fw.plugin import getPlugins
from fw.python import usage
from fw.web import tap
from fw.web.test.requesthelper import DummyRequest

pytestmark = pytest.mark.timeout(60)


def test_pluginIsRegistered() -> None:
    makers = {m.tapname: m for m in getPlugins(IServiceMaker)}
    assert "web" in makers
    assert makers["web"].options is tap.Options


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def test_options(tmp_path: Path) -> None:
    options = parse(
        "--listen", "tcp:0:interface=127.0.0.1", "--listen", "tcp:0:interface=::1",
        "--path", str(tmp_path), "--index", "home.html", "--mime-type", "text/plain",
        "--add-header", "X-Frame-Options: DENY", "--display-tracebacks", "--logfile", str(tmp_path / "log"),  # noqa: E501
    )  # fmt: skip
    assert options["listen"] == ["tcp:0:interface=127.0.0.1", "tcp:0:interface=::1"]
    assert options["root"].indexNames == ["home.html"]
    assert options["root"].defaultType == "text/plain"
    assert options["headers"] == [("X-Frame-Options", "DENY")]
    assert parse()["listen"] == ["tcp:8080"]
    with pytest.raises(usage.UsageError):
        parse("--path", str(tmp_path), "--class", "fw.web.resource.Resource")
    with pytest.raises(usage.UsageError):
        parse("--path", str(tmp_path / "missing"))
    with pytest.raises(usage.UsageError):
        parse("--class", "no.such.Thing")
    with pytest.raises(usage.UsageError):
        parse("--add-header", "novalue")
    with pytest.raises(usage.UsageError):
        parse("--wsgi", "os.sep")


def test_makeServiceAddsHeaders() -> None:
    service = tap.makeService(
        parse("--class", "fw.web.tap._Welcome", "--add-header", "X-A: 1", "--listen", "tcp:0")
    )
    services = list(service)
    assert len(services) == 1
    site = services[0].factory
    assert site.displayTracebacks is False
    request = DummyRequest([])
    body = site.resource.render(request)
    assert b"running" in body
    assert request.responseHeaders.getRawHeaders(b"x-a") == [b"1"]


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def runFwd(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    fwd = shutil.which("fwd", path=os.path.dirname(sys.executable)) or shutil.which("fwd")
    assert fwd is not None, "fwd is installed with fw-core"
    port = freePort()
    process = subprocess.Popen(
        [fwd, "-n", "--pidfile", "", "web", "--listen", f"tcp:{port}:interface=127.0.0.1", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    output = process.communicate()[0]
    pytest.fail(f"fwd web did not start: {output.decode(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> bytes:
    process.terminate()
    try:
        return process.communicate(timeout=15)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


def get(port: int, path: str) -> tuple[int, Any, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def test_fwdWebPathAsProcess(tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_bytes(b"<h1>home</h1>")
    (www / "data.unknownext").write_bytes(b"data")
    log = tmp_path / "access.log"
    process, port = runFwd(
        tmp_path,
        "--path",
        str(www),
        "--add-header",
        "X-Test: yes",
        "--mime-type",
        "text/plain",
        "--logfile",
        str(log),
    )
    try:
        status, headers, body = get(port, "/")
        assert (status, body) == (200, b"<h1>home</h1>")
        assert headers["X-Test"] == "yes"
        status, headers, body = get(port, "/data.unknownext")
        assert headers["Content-Type"].startswith("text/plain")
        status, _, body = get(port, "/../../etc/passwd")
        assert status in (403, 404)
        assert b"root:" not in body
    finally:
        output = stop(process)
    assert process.returncode == 0, output
    assert '"GET /data.unknownext HTTP/1.1" 200' in log.read_text()


def test_fwdWebClassAsProcess(tmp_path: Path) -> None:
    process, port = runFwd(tmp_path, "--class", "fw.web.tap._Welcome")
    try:
        status, _, body = get(port, "/anything")
        assert status == 200
        assert b"running" in body
    finally:
        stop(process)


def test_fwdWebWsgiAsProcess(tmp_path: Path) -> None:
    process, port = runFwd(tmp_path, "--wsgi", "wsgiref.simple_server.demo_app")
    try:
        status, _, body = get(port, "/")
        assert status == 200
        assert body.startswith(b"Hello world!")
    finally:
        output = stop(process)
    assert process.returncode == 0, output
