"""fw.web.vhost: NameVirtualHost and VHostMonsterResource on a real Site."""

from __future__ import annotations

from typing import Any

from fw.web import resource, static, vhost
from fw.web.test._threadedsite import ServerThread


class Where(resource.Resource):
    """Reports how the request looks after the vhost machinery."""

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        host = request.getHost()
        return b"|".join(
            [
                request.getRequestHostname(),
                b"%d" % host.port,
                b"secure" if request.isSecure() else b"plain",
                request.uri,
                request.prePathURL(),
            ]
        )


def makeVHosts(reactor: Any) -> Any:
    nvh = vhost.NameVirtualHost()
    nvh.addHost(b"one.example", static.Data(b"site one", "text/plain"))
    two = resource.Resource()
    two.putChild(b"page", static.Data(b"site two page", "text/plain"))
    nvh.addHost(b"TWO.example", two)
    nvh.addHost(b"[::1]", static.Data(b"ipv6", "text/plain"))
    return nvh


def test_nameVirtualHost() -> None:
    with ServerThread(makeVHosts) as s:
        assert s.get("/", {"Host": "one.example"})[2] == b"site one"
        assert s.get("/anything/below", {"Host": "one.example:8080"})[2] == b"site one"
        assert s.get("/page", {"Host": "two.EXAMPLE"})[2] == b"site two page"
        assert s.get("/page", {"Host": "two.example."})[2] == b"site two page"
        assert s.get("/", {"Host": "[::1]:80"})[2] == b"ipv6"
        assert s.get("/", {"Host": "three.example"})[0] == 404


def test_defaultHost() -> None:
    def make(reactor: Any) -> Any:
        nvh = makeVHosts(reactor)
        nvh.default = static.Data(b"default", "text/plain")
        return nvh

    with ServerThread(make) as s:
        assert s.get("/", {"Host": "unknown"})[2] == b"default"
        assert s.get("/x", {"Host": "unknown"})[2] == b"default"


def test_addRemoveHost() -> None:
    nvh = vhost.NameVirtualHost()
    child = static.Data(b"x", "text/plain")
    nvh.addHost(b"A.example", child)
    assert nvh.getStaticEntity(b"a.example") is child
    assert nvh.listStaticEntities() == [(b"a.example", child)]
    nvh.removeHost(b"a.example")
    assert nvh.hosts == {}


def test_vhostMonster() -> None:
    def make(reactor: Any) -> Any:
        root = resource.Resource()
        root.putChild(b"vhost", vhost.VHostMonsterResource())
        app = resource.Resource()
        app.putChild(b"where", Where())
        root.putChild(b"app", app)
        return root

    with ServerThread(make) as s:
        status, _, body = s.get("/vhost/https/www.example.com:8443/app/where?q=1")
        assert status == 200
        assert (
            body
            == b"www.example.com|8443|secure|/app/where?q=1|https://www.example.com:8443/app/where"
        )
        body = s.get("/vhost/http/plain.example/app/where")[2]
        assert body == b"plain.example|80|plain|/app/where|http://plain.example/app/where"
        assert s.get("/vhost/gopher/x/app/where")[0] == 404
        assert s.get("/vhost/http/host:notaport/app/where")[0] == 400
