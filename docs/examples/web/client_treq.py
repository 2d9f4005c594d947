"""
The short API, ``fw.web.treq``, which replaces Twisted's removed
``getPage``: ``get``, ``post`` and the other methods take ``params``,
``data``, ``json``, ``headers`` and ``auth``; ``content``, ``text_content``
and ``json_content`` (or the response's ``json()``...) read the body.
Programs written for treq port by importing ``treq`` from ``fw.web``.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet.task import react
from fw.web import treq


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.answer(b"")

    def do_POST(self):
        self.answer(self.rfile.read(int(self.headers["Content-Length"])))

    def answer(self, received):
        body = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "type": self.headers.get("Content-Type"),
                "auth": self.headers.get("Authorization"),
                "body": received.decode(),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


async def main(reactor):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        response = await treq.get(base + "/search", params={"q": "fw"}, reactor=reactor)
        print(response.code, await treq.json_content(response))

        response = await treq.post(base + "/form", data={"name": "Alice"}, reactor=reactor)
        print((await response.json())["type"], (await response.json())["body"])

        response = await treq.post(
            base + "/api", json={"answer": 42}, auth=("user", "pw"), reactor=reactor
        )
        reply = await response.json()
        print(reply["type"], reply["auth"], reply["body"])

        print((await treq.text_content(await treq.get(base + "/", reactor=reactor)))[:20])
    finally:
        server.shutdown()
        await treq._pools[reactor].closeCachedConnections()


react(main)
