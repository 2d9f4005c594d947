"""
A real browser (headless Chromium) loads a page from an fw Site, opens a
WebSocket to the same Site, does a text and a binary round trip and POSTs
what it saw back to the server.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fw.internet.epollreactor import EPollReactor
from fw.web import resource, server, static
from fw.web.websocket import WebSocketProtocol, WebSocketResource

pytestmark = pytest.mark.timeout(60)


PAGE = b"""<!doctype html>
<html><head><title>ws</title></head><body><pre id="out">waiting</pre>
<script>
const seen = [];
const ws = new WebSocket("ws://" + location.host + "/ws", ["echo.v1"]);
ws.binaryType = "arraybuffer";
function report(text) {
  document.getElementById("out").textContent = text;
  fetch("/result", {method: "POST", body: text});
}
ws.onopen = () => { ws.send("h\\u00e9llo from the browser"); };
ws.onmessage = (e) => {
  if (typeof e.data === "string") {
    seen.push("text:" + e.data);
    ws.send(new Uint8Array([0, 1, 254, 255]));
  } else {
    seen.push("bytes:" + Array.from(new Uint8Array(e.data)).join(","));
    ws.close(1000, "finished");
  }
};
ws.onclose = (e) => { seen.push("close:" + e.code + ":" + ws.protocol); report(seen.join("|")); };
ws.onerror = () => { report("error"); };
</script></body></html>
"""


class Echo(WebSocketProtocol):
    def messageReceived(self, data: str | bytes, isBinary: bool) -> None:
        self.sendMessage(data)


class Result(resource.Resource):
    isLeaf = True

    def __init__(self, results: queue.Queue[bytes]) -> None:
        super().__init__()
        self.results = results

    def render_POST(self, request: Any) -> bytes:
        self.results.put(request.content.read())
        return b"ok"


@pytest.fixture
def site() -> Iterator[tuple[int, queue.Queue[bytes]]]:
    reactor = EPollReactor()
    results: queue.Queue[bytes] = queue.Queue()
    ready = threading.Event()
    ports: list[Any] = []

    def setup() -> None:
        root = resource.Resource()
        root.putChild(b"", static.Data(PAGE, "text/html; charset=utf-8"))
        root.putChild(b"ws", WebSocketResource(Echo, subprotocols=["echo.v1"], reactor=reactor))
        root.putChild(b"result", Result(results))
        ports.append(reactor.listenTCP(0, server.Site(root), interface="127.0.0.1"))
        ready.set()

    reactor.callWhenRunning(setup)
    thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False})
    thread.start()
    assert ready.wait(10)
    try:
        yield ports[0].getHost().port, results
    finally:
        reactor.callFromThread(lambda: (ports[0].stopListening(), reactor.stop()))
        thread.join(10)


def test_chromiumRoundTrip(
    site: tuple[int, queue.Queue[bytes]], requirePeer: Callable[[str], str], tmp_path: Path
) -> None:
    chromium = requirePeer("chromium")
    port, results = site
    browser = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path}",
            "--remote-debugging-port=0",  # keeps it running until we stop it
            f"http://127.0.0.1:{port}/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        result = results.get(timeout=45).decode("utf-8")
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait(10)
    assert result == "text:h\u00e9llo from the browser|bytes:0,1,254,255|close:1000:echo.v1"
