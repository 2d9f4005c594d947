"""
Running CGI scripts (RFC 3875): a directory of scripts served with
``CGIDirectory``, as Twisted's ``twcgi`` does.

A real Python script is written to a temporary directory; the server runs
it once per request, with the request's details in its environment and the
body on its standard input, and streams back what it prints.  A script
whose output is not a valid CGI response gets ``502 Bad Gateway``.
"""

import http.client
import pathlib
import sys
import tempfile

from fw.internet import task, threads
from fw.web.resource import Resource
from fw.web.server import Site
from fw.web.twcgi import CGIDirectory

SCRIPT = f"""#!{sys.executable}
import os, sys
body = sys.stdin.read()
print("Content-Type: text/plain")
print("X-Script: hello.py")
print()
print("method:", os.environ["REQUEST_METHOD"])
print("script:", os.environ["SCRIPT_NAME"])
print("path info:", os.environ.get("PATH_INFO", ""))
print("query:", os.environ["QUERY_STRING"])
print("body:", body)
"""

BROKEN = """#!/bin/sh
echo "this is not a header"
"""


def client(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/cgi-bin/hello.py/extra?name=fw", body="posted data")
    response = conn.getresponse()
    print(response.status, response.getheader("X-Script"))
    print(response.read().decode(), end="")
    conn.request("GET", "/cgi-bin/broken.sh")
    response = conn.getresponse()
    response.read()
    print(response.status, response.reason)
    conn.close()


async def main(reactor):
    with tempfile.TemporaryDirectory() as directory:
        for name, text in [("hello.py", SCRIPT), ("broken.sh", BROKEN)]:
            script = pathlib.Path(directory, name)
            script.write_text(text)
            script.chmod(0o755)
        root = Resource()
        root.putChild(b"cgi-bin", CGIDirectory(directory))
        port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
        await threads.deferToThread(client, port.getHost().port)
        await port.stopListening()


task.react(main)
