"""
HTTP/2 with the same Site and Resources as HTTP/1.1 (needs ``fw-web[http2]``).

The server speaks HTTP/2 to a client that starts with the HTTP/2 preface:
in clear text with prior knowledge (h2c), or over TLS once ALPN chose
``h2``.  The client here is httpx (with its ``http2`` extra), run in a thread.
"""

import ssl as stdlibSSL
import tempfile

import httpx

from fw.internet import ssl, task, threads
from fw.web.resource import Resource
from fw.web.server import Site


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"hello over " + request.clientproto + b", secure=%d" % request.isSecure()

    def render_POST(self, request):
        return b"received %d bytes" % len(request.content.read())


def fetch(plainPort, tlsPort, caFile):
    # Clear text, prior knowledge: HTTP/2 only, no HTTP/1.1 upgrade dance.
    with httpx.Client(http1=False, http2=True) as client:
        response = client.get(f"http://127.0.0.1:{plainPort}/")
        print("h2c:", response.http_version, response.status_code, response.text)
        response = client.post(f"http://127.0.0.1:{plainPort}/", content=b"x" * 100000)
        print("h2c:", response.http_version, response.status_code, response.text)
    # TLS: ALPN offers h2 and http/1.1; the server picks h2.
    context = stdlibSSL.create_default_context(cafile=caFile)
    with httpx.Client(http2=True, verify=context) as client:
        response = client.get(f"https://localhost:{tlsPort}/")
        print("tls:", response.http_version, response.status_code, response.text)
    # An HTTP/1.1 client on the same port still gets HTTP/1.1.
    with httpx.Client(verify=context) as client:
        response = client.get(f"https://localhost:{tlsPort}/")
        print("tls:", response.http_version, response.status_code, response.text)


def makeCertificates(directory):
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="example CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    caFile = f"{directory}/ca.pem"
    with open(caFile, "wb") as f:
        f.write(ca.dump(ssl.FILETYPE_PEM))
    return key, cert, caFile


async def main(reactor):
    site = Site(Hello())
    with tempfile.TemporaryDirectory() as directory:
        key, cert, caFile = makeCertificates(directory)
        options = ssl.CertificateOptions(
            privateKey=key.original,
            certificate=cert.original,
            acceptableProtocols=site.acceptableProtocols(),  # [b"h2", b"http/1.1"]
        )
        plain = reactor.listenTCP(0, site, interface="127.0.0.1")
        secure = reactor.listenSSL(0, site, options, interface="127.0.0.1")
        await threads.deferToThread(fetch, plain.getHost().port, secure.getHost().port, caFile)
        await plain.stopListening()
        await secure.stopListening()


task.react(main)
