"""
fw.web.wsgi.WSGIResource on a real Site: a Flask application and plain WSGI
applications (write-then-return, iterables with close(), exc_info, errors,
wsgi.input), with http.client and requests as clients.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fw.logger import capturedLogs
from fw.web import resource, wsgi
from fw.web.test._threadedsite import ServerThread

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def mount(app: Callable[..., Any], at: bytes | None = None) -> Callable[[Any], Any]:
    def makeRoot(reactor: Any) -> Any:
        res = wsgi.WSGIResource(reactor, reactor.getThreadPool(), app)
        if at is None:
            return res
        root = resource.Resource()
        root.putChild(at, res)
        return root

    return makeRoot


def echoEnviron(environ: Environ, start_response: StartResponse) -> list[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    lines = [
        f"{k}={environ[k]}" for k in ("SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REQUEST_METHOD")
    ]
    return ["\n".join(lines).encode() + b"\nbody=" + body]


def test_environAndMounting() -> None:
    with ServerThread(mount(echoEnviron, b"app")) as s:
        status, _, body = s.get("/app/a%20b/c?x=1")
        assert status == 200
        assert body.decode().splitlines() == [
            "SCRIPT_NAME=/app",
            "PATH_INFO=/a b/c",
            "QUERY_STRING=x=1",
            "REQUEST_METHOD=GET",
            "body=",
        ]


def test_rootMountAndPostBody() -> None:
    with ServerThread(mount(echoEnviron)) as s:
        conn = http.client.HTTPConnection("127.0.0.1", s.portNumber, timeout=10)
        conn.request("POST", "/x", body=b"posted" * 10000)
        body = conn.getresponse().read()
        conn.close()
        assert b"SCRIPT_NAME=\n" in body
        assert b"PATH_INFO=/x\n" in body
        assert body.endswith(b"body=" + b"posted" * 10000)


def test_writeThenReturn() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("201 Created", [("X-A", "1"), ("Server", "app"), ("Date", "never")])
        write(b"written ")
        return [b"returned"]

    with ServerThread(mount(app)) as s:
        status, headers, body = s.get("/")
        assert (status, body) == (201, b"written returned")
        assert headers["X-A"] == "1"
        # The server owns Server and Date.
        assert headers["Server"] != "app"
        assert headers["Date"] != "never"


def test_iterableCloseIsCalled() -> None:
    closed = threading.Event()

    class Body:
        def __init__(self) -> None:
            self.items = [b"a", b"", b"b", b"c"]

        def __iter__(self) -> Iterator[bytes]:
            return iter(self.items)

        def close(self) -> None:
            closed.set()

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", [])
        return Body()

    with ServerThread(mount(app)) as s:
        assert s.get("/")[2] == b"abc"
        assert closed.wait(5)


def test_generatorStreams() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        for i in range(200):
            yield bytes([i]) * 10000

    with ServerThread(mount(app)) as s:
        body = s.get("/")[2]
        assert body == b"".join(bytes([i]) * 10000 for i in range(200))


def test_errorBeforeStartIs500() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        raise ValueError("boom")

    with ServerThread(mount(app)) as s, capturedLogs() as events:
        status, _, body = s.get("/")
    assert status == 500
    assert b"boom" not in body
    assert any("WSGI application error" in str(e.get("log_format")) for e in events)


def test_errorAfterHeadersCutsConnection() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        raise ValueError("late")

    with ServerThread(mount(app)) as s, capturedLogs():
        conn = http.client.HTTPConnection("127.0.0.1", s.portNumber, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            response.read()
        conn.close()


def test_excInfoBeforeHeadersReplacesStatus() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-First", "1")])
        try:
            raise KeyError("x")
        except KeyError:
            start_response("503 Unavailable", [("X-Second", "2")], sys.exc_info())
        return [b"sorry"]

    with ServerThread(mount(app)) as s:
        status, headers, body = s.get("/")
        assert (status, body) == (503, b"sorry")
        assert headers["X-Second"] == "2"
        assert "X-First" not in headers


def test_excInfoAfterHeadersReraises() -> None:
    seen: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"sent")
        try:
            raise KeyError("x")
        except KeyError:
            try:
                start_response("500 Oops", [], sys.exc_info())
            except KeyError as e:
                seen.append(e)
        return [b"!"]

    with ServerThread(mount(app)) as s:
        assert s.get("/")[2] == b"sent!"
    assert len(seen) == 1


def test_startResponseTwiceWithoutExcInfo() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        start_response("200 OK", [])
        return [b""]

    with ServerThread(mount(app)) as s, capturedLogs():
        assert s.get("/")[0] == 500


@pytest.mark.parametrize(
    "bad",
    [
        lambda sr: sr(b"200 OK", []),
        lambda sr: sr("200 OK", [("X", "a\r\nInjected: 1")]),
        lambda sr: (sr("200 OK", []), "text")[1],
    ],
)
def test_invalidUseIs500(bad: Callable[[StartResponse], Any]) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[Any]:
        result = bad(start_response)
        return [result] if isinstance(result, str) else [b"ok"]

    with ServerThread(mount(app)) as s, capturedLogs():
        status, headers, _ = s.get("/")
        assert status == 500
        assert "Injected" not in headers


def test_wsgiErrorsLogged() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        environ["wsgi.errors"].write("a warning\n")
        start_response("200 OK", [])
        return [b"ok"]

    with ServerThread(mount(app)) as s, capturedLogs() as events:
        assert s.get("/")[2] == b"ok"
    assert any(e.get("message") == "a warning" for e in events)


def test_putChildRefused() -> None:
    res = wsgi.WSGIResource(None, None, echoEnviron)
    with pytest.raises(RuntimeError):
        res.putChild(b"x", resource.Resource())


def test_flask(requireModule: Callable[[str], Any]) -> None:
    flask = requireModule("flask")
    app = flask.Flask("fwtest")

    @app.route("/hello/<name>")
    def hello(name: str) -> Any:
        return flask.jsonify(greeting=f"hello {name}", args=flask.request.args.to_dict())

    @app.route("/form", methods=["POST"])
    def form() -> Any:
        return "got " + flask.request.form["field"]

    @app.route("/redirect")
    def redirect() -> Any:
        return flask.redirect(flask.url_for("hello", name="again"))

    @app.route("/stream")
    def stream() -> Any:
        return flask.Response((f"{i}," for i in range(5)), mimetype="text/plain")

    @app.route("/fail")
    def fail() -> Any:
        raise RuntimeError("flask failure")

    requests = requireModule("requests")
    with ServerThread(mount(app.wsgi_app, b"flask")) as s, capturedLogs():
        base = s.url("/flask")
        r = requests.get(base + "/hello/w%C3%B6rld?q=1", timeout=10)
        assert r.status_code == 200
        assert r.json() == {"greeting": "hello wörld", "args": {"q": "1"}}
        r = requests.post(base + "/form", data={"field": "value"}, timeout=10)
        assert r.text == "got value"
        r = requests.get(base + "/redirect", allow_redirects=False, timeout=10)
        assert r.status_code == 302
        # url_for honours SCRIPT_NAME: the mount point is kept.
        assert r.headers["Location"].endswith("/flask/hello/again")
        assert requests.get(base + "/stream", timeout=10).text == "0,1,2,3,4,"
        assert requests.get(base + "/fail", timeout=10).status_code == 500
        assert requests.get(base + "/missing", timeout=10).status_code == 404


def test_clientGoneStopsApplication() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        try:
            while True:
                produced.append(1)
                yield b"x" * 65536
        finally:
            closed.set()

    with ServerThread(mount(app)) as s:
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        # Not reading: the application is paused, not filling memory.
        time.sleep(0.5)
        paused = len(produced)
        time.sleep(0.3)
        assert len(produced) == paused
        assert paused * 65536 < 64 * 1024 * 1024
        sock.close()
        assert closed.wait(10)


def test_chunkedBodyBuffered() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        length = int(environ["CONTENT_LENGTH"])
        start_response("200 OK", [])
        return [b"%d:" % length, environ["wsgi.input"].read(length)]

    def makeRoot(reactor: Any) -> Any:
        res = wsgi.WSGIResource(reactor, reactor.getThreadPool(), app)
        res.streamingRequestBody = False
        return res

    with ServerThread(makeRoot) as s:
        conn = http.client.HTTPConnection("127.0.0.1", s.portNumber, timeout=10)
        conn.request("POST", "/x", body=iter([b"abc", b"def"]), encode_chunked=True)
        body = conn.getresponse().read()
        conn.close()
        assert body == b"6:abcdef"


def test_chunkedBodyStreamed() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        assert "CONTENT_LENGTH" not in environ
        assert environ["wsgi.input_terminated"] is True
        start_response("200 OK", [("Content-Type", "text/plain")])
        # Echo each line as soon as it arrives.
        for line in environ["wsgi.input"]:
            yield b"got " + line

    with ServerThread(mount(app)) as s:
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        try:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            received = b""
            for line in (b"first\n", b"second\n"):
                sock.sendall(b"%x\r\n%s\r\n" % (len(line), line))
                # The answer to this line comes before the body is complete.
                while b"got " + line not in received:
                    data = sock.recv(65536)
                    assert data
                    received += data
            sock.sendall(b"0\r\n\r\n")
            while not received.endswith(b"0\r\n\r\n"):
                data = sock.recv(65536)
                assert data
                received += data
        finally:
            sock.close()


def test_bigUploadStreamedAndUnreadUpload() -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        if environ["PATH_INFO"] == "/ignore":
            return [b"ignored"]
        digest = hashlib.sha256()
        while chunk := environ["wsgi.input"].read(100_000):
            digest.update(chunk)
        return [digest.hexdigest().encode()]

    upload = os.urandom(1024 * 1024) * 16  # 16 MiB
    with ServerThread(mount(app)) as s:
        conn = http.client.HTTPConnection("127.0.0.1", s.portNumber, timeout=20)
        conn.request("POST", "/hash", body=upload)
        assert conn.getresponse().read() == hashlib.sha256(upload).hexdigest().encode()
        conn.close()
        # An application that reads nothing answers before the body is in;
        # the rest of the body is read and dropped, and the connection
        # carries the next request.
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        try:
            head = b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            sock.sendall(head % len(upload))
            sock.sendall(upload[:1_000_000])
            received = b""
            while not received.endswith(b"ignored\r\n0\r\n\r\n"):
                data = sock.recv(65536)
                assert data
                received += data
            assert received.startswith(b"HTTP/1.1 200 ")
            sock.sendall(upload[1_000_000:])
            sock.sendall(b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            received = b""
            while not received.endswith(b"ignored\r\n0\r\n\r\n"):
                data = sock.recv(65536)
                assert data
                received += data
            assert received.startswith(b"HTTP/1.1 200 ")
        finally:
            sock.close()
