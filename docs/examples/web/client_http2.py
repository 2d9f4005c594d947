"""
HTTP/2 in the client (needs ``fw-web[http2]``): over https the agent offers
``h2`` and ``http/1.1`` by ALPN; this server (fw's own Site) picks ``h2``,
so the five concurrent requests below travel as five streams of one
connection, which the pool keeps for the next requests.
"""

from fw.internet import ssl
from fw.internet.defer import gatherResults
from fw.internet.task import react
from fw.web.client import Agent, BrowserLikePolicyForHTTPS, HTTPConnectionPool, readBody
from fw.web.resource import Resource
from fw.web.server import Site

clients = set()


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        clients.add(request.getClientAddress().port)
        return b"%s over %s" % (request.path, request.clientproto)


def makeCertificates():
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="example CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    return ca, key, cert


async def main(reactor):
    ca, key, cert = makeCertificates()
    site = Site(Hello())
    options = ssl.CertificateOptions(
        privateKey=key.original,
        certificate=cert.original,
        acceptableProtocols=site.acceptableProtocols(),  # [b"h2", b"http/1.1"]
    )
    port = reactor.listenSSL(0, site, options, interface="127.0.0.1")
    base = b"https://localhost:%d" % port.getHost().port

    pool = HTTPConnectionPool(reactor)
    policy = BrowserLikePolicyForHTTPS(ssl.trustRootFromCertificates([ca]))
    agent = Agent(reactor, policy, pool=pool)
    responses = await gatherResults(
        [agent.request(b"GET", base + b"/page/%d" % i) for i in range(5)]
    )
    for response in responses:
        body = await readBody(response)
        print(response.version, response.code, body.decode())
    response = await agent.request(b"GET", base + b"/later")
    print(response.version, response.code, (await readBody(response)).decode())
    print("connections used:", len(clients))

    await pool.closeCachedConnections()
    await port.stopListening()


react(main)
