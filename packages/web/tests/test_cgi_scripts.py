"""
fw.web.twcgi on a real Site: real Python and shell CGI scripts run as
processes; RFC 3875 meta-variables, request bodies, streaming output,
header limits and broken scripts; curl as a client.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fw.web import resource, static, twcgi
from fw.web.test._threadedsite import ServerThread

PY = sys.executable

ENV_SCRIPT = f"""#!{PY}
import json, os, sys
body = sys.stdin.buffer.read()
keys = [k for k in os.environ if k.isupper()]
sys.stdout.write("Content-Type: application/json\\r\\n")
sys.stdout.write("X-Argv: " + " ".join(sys.argv[1:]) + "\\r\\n\\r\\n")
result = {{"env": {{k: os.environ[k] for k in keys}}, "body": body.decode("latin-1")}}
json.dump(result, sys.stdout)
"""

STATUS_SCRIPT = """#!/bin/sh
printf 'Status: 404 Gone Fishing\\r\\n'
printf 'Content-Type: text/plain\\r\\n'
printf 'Set-Cookie: a=1\\r\\n'
printf 'Set-Cookie: b=2\\r\\n'
printf '\\r\\n'
printf 'not here'
"""

REDIRECT_SCRIPT = """#!/bin/sh
printf 'Location: http://example.com/elsewhere\\n\\n'
"""

STREAM_SCRIPT = f"""#!{PY}
import sys, time
sys.stdout.write("Content-Type: text/plain\\n\\n")
sys.stdout.flush()
for i in range(3):
    sys.stdout.write("line %d\\n" % i)
    sys.stdout.flush()
    time.sleep(0.2)
"""

BIG_SCRIPT = f"""#!{PY}
import sys
sys.stdout.write("Content-Type: application/octet-stream\\n\\n")
sys.stdout.flush()
chunk = bytes(range(256)) * 256
for i in range(64):
    sys.stdout.buffer.write(chunk)
"""

HUGE_HEADER_SCRIPT = f"""#!{PY}
import sys
sys.stdout.write("X-Big: " + "a" * 200000 + "\\n\\n")
"""

NO_END_SCRIPT = f"""#!{PY}
import sys
sys.stdout.write("X-A: b\\n")
"""

SILENT_SCRIPT = """#!/bin/sh
echo oops >&2
exit 3
"""

GARBAGE_SCRIPT = """#!/bin/sh
printf 'this is not a header\\n\\nbody'
"""

MANY_HEADERS_SCRIPT = f"""#!{PY}
import sys
sys.stdout.write("".join("X-H%d: v\\n" % i for i in range(500)) + "\\n")
"""

HANG_SCRIPT = f"""#!{PY}
import sys, time, os
sys.stdout.write("Content-Type: text/plain\\n\\n")
sys.stdout.flush()
open(os.environ["HTTP_PIDFILE"], "w").write(str(os.getpid()))
while True:
    sys.stdout.write("x" * 65536)
    sys.stdout.flush()
    time.sleep(0.01)
"""

FILTERED_SOURCE = """import os
print("Content-Type: text/plain")
print()
print("filtered", os.environ["SCRIPT_NAME"])
"""

SCRIPTS = {
    "env.py": ENV_SCRIPT,
    "status.sh": STATUS_SCRIPT,
    "redirect.sh": REDIRECT_SCRIPT,
    "stream.py": STREAM_SCRIPT,
    "big.py": BIG_SCRIPT,
    "hugeheader.py": HUGE_HEADER_SCRIPT,
    "noend.py": NO_END_SCRIPT,
    "silent.sh": SILENT_SCRIPT,
    "garbage.sh": GARBAGE_SCRIPT,
    "manyheaders.py": MANY_HEADERS_SCRIPT,
    "hang.py": HANG_SCRIPT,
}


@pytest.fixture
def cgiDir(tmp_path: Path) -> Path:
    d = tmp_path / "cgi-bin"
    (d / "nested").mkdir(parents=True)
    for name, text in SCRIPTS.items():
        p = d / name
        p.write_text(text)
        p.chmod(0o755)
    (d / "nested" / "env.py").write_text(ENV_SCRIPT)
    (d / "nested" / "env.py").chmod(0o755)
    (tmp_path / "plain.pyscript").write_text(FILTERED_SOURCE)
    return d


class PythonScript(twcgi.FilteredScript):
    filter = sys.executable


@pytest.fixture
def site(cgiDir: Path) -> Iterator[ServerThread]:
    def makeRoot(reactor: Any) -> resource.Resource:
        root = resource.Resource()
        directory = twcgi.CGIDirectory(str(cgiDir))
        # Scripts built by the directory use the global reactor; make the
        # tree use this one.
        directory.getChild = _withReactor(directory.getChild, reactor)  # type: ignore[method-assign]
        root.putChild(b"cgi-bin", directory)
        root.putChild(
            b"filtered", PythonScript(str(cgiDir.parent / "plain.pyscript"), reactor=reactor)
        )
        root.putChild(b"env", twcgi.CGIScript(str(cgiDir / "env.py"), reactor=reactor))
        return root

    with ServerThread(makeRoot) as s:
        yield s


def _withReactor(
    getChild: Callable[[bytes, Any], Any], reactor: Any
) -> Callable[[bytes, Any], Any]:
    def wrapped(path: bytes, request: Any) -> Any:
        child = getChild(path, request)
        if isinstance(child, twcgi.CGIScript):
            child._reactor = reactor
        elif isinstance(child, twcgi.CGIDirectory):
            child.getChild = _withReactor(child.getChild, reactor)  # type: ignore[method-assign]
        return child

    return wrapped


def request(
    site: ServerThread,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, Any, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", site.portNumber, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.reason, response.headers, response.read()
    finally:
        conn.close()


def test_metaVariables(site: ServerThread) -> None:
    status, _, headers, body = request(
        site,
        "POST",
        "/cgi-bin/env.py/extra/p%20ath?a=1&b=%20",
        body=b"posted body",
        headers={"Content-Type": "text/plain", "X-Custom": "yes", "Proxy": "http://evil/"},
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    env = data["env"]
    assert data["body"] == "posted body"
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == "/cgi-bin/env.py"
    assert env["PATH_INFO"] == "/extra/p ath"
    assert env["QUERY_STRING"] == "a=1&b=%20"
    assert env["CONTENT_LENGTH"] == "11"
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["HTTP_X_CUSTOM"] == "yes"
    assert "HTTP_PROXY" not in env
    assert env["SERVER_PORT"] == str(site.portNumber)
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["SCRIPT_FILENAME"].endswith("env.py")
    assert headers["X-Argv"] == ""


def test_indexedQueryBecomesArguments(site: ServerThread) -> None:
    _, _, headers, _ = request(site, "GET", "/env?word1+two%20words")
    assert headers["X-Argv"] == "word1 two words"


def test_nestedDirectoryAndScriptResource(site: ServerThread) -> None:
    assert request(site, "GET", "/cgi-bin/nested/env.py")[0] == 200
    body = request(site, "GET", "/env/x")[3]
    assert json.loads(body)["env"]["PATH_INFO"] == "/x"


def test_statusAndRepeatedHeaders(site: ServerThread) -> None:
    status, reason, headers, body = request(site, "GET", "/cgi-bin/status.sh")
    assert (status, reason, body) == (404, "Gone Fishing", b"not here")
    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_locationRedirects(site: ServerThread) -> None:
    status, _, headers, _ = request(site, "GET", "/cgi-bin/redirect.sh")
    assert status == 302
    assert headers["Location"] == "http://example.com/elsewhere"


def test_outputIsStreamed(site: ServerThread) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.portNumber, timeout=15)
    try:
        conn.request("GET", "/cgi-bin/stream.py")
        response = conn.getresponse()
        first = response.read1(100)
        firstAt = time.monotonic()
        rest = response.read()
        # The first line arrived while the script was still sleeping.
        assert time.monotonic() - firstAt > 0.25
        assert first + rest == b"line 0\nline 1\nline 2\n"
    finally:
        conn.close()


def test_bigOutput(site: ServerThread) -> None:
    status, _, _, body = request(site, "GET", "/cgi-bin/big.py")
    assert status == 200
    assert body == bytes(range(256)) * 256 * 64


@pytest.mark.parametrize(
    "script", ["hugeheader.py", "noend.py", "silent.sh", "garbage.sh", "manyheaders.py"]
)
def test_brokenScriptsAreBadGateway(site: ServerThread, script: str) -> None:
    status, _, _, body = request(site, "GET", "/cgi-bin/" + script)
    assert status == 502
    assert b"Bad Gateway" in body


def test_clientGoneKillsScript(site: ServerThread, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    conn = http.client.HTTPConnection("127.0.0.1", site.portNumber, timeout=15)
    conn.request("GET", "/cgi-bin/hang.py", headers={"Pidfile": str(pidfile)})
    response = conn.getresponse()
    assert response.read(1000)
    conn.close()
    deadline = time.monotonic() + 10
    pid = None
    while time.monotonic() < deadline:
        if pidfile.exists() and pidfile.read_text():
            pid = int(pidfile.read_text())
            break
        time.sleep(0.05)
    assert pid is not None
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the script outlived its client")


def test_missingScriptAndListing(site: ServerThread) -> None:
    assert request(site, "GET", "/cgi-bin/nothing.py")[0] == 404
    assert request(site, "GET", "/cgi-bin/")[0] == 404
    assert request(site, "GET", "/cgi-bin/..%2fplain.pyscript")[0] in (403, 404)


def test_filteredScript(site: ServerThread) -> None:
    status, _, _, body = request(site, "GET", "/filtered")
    assert status == 200
    assert body == b"filtered /filtered\n"


def test_staticProcessor(cgiDir: Path) -> None:
    def makeRoot(reactor: Any) -> static.File:
        f = static.File(str(cgiDir))
        f.processors = {".py": lambda path, registry: twcgi.CGIScript(path, registry, reactor)}
        return f

    with ServerThread(makeRoot) as s:
        status, _, _, body = request(s, "GET", "/env.py?x=1")
        assert status == 200
        assert json.loads(body)["env"]["QUERY_STRING"] == "x=1"


def test_curl(site: ServerThread, requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    out = subprocess.run(
        [curl, "-s", "--data-binary", "from curl", site.url("/cgi-bin/env.py")],
        capture_output=True,
        timeout=15,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["body"] == "from curl"
    assert data["env"]["HTTP_USER_AGENT"].startswith("curl/")


def test_chunkedBodyGetsContentLength(site: ServerThread) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.portNumber, timeout=15)
    try:
        conn.request(
            "POST", "/env", body=iter([b"chunk one, ", b"chunk two"]), encode_chunked=True
        )
        data = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert data["body"] == "chunk one, chunk two"
    assert data["env"]["CONTENT_LENGTH"] == "20"
