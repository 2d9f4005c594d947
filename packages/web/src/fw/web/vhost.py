"""
Virtual hosting: choose a resource tree by the request's ``Host`` header.

:class:`NameVirtualHost` maps host names to resources.
:class:`VHostMonsterResource` lets a front-end reverse proxy tell the
server the scheme, host and port the client used, by prefixing the path with
``/http/host:port/`` (or ``/https/...``).
"""

from __future__ import annotations

from typing import Any

from fw.web import resource

__all__ = ["NameVirtualHost", "VHostMonsterResource", "VirtualHostCollection"]


def _hostName(header: bytes) -> bytes:
    # RFC 9110 7.2: Host is uri-host [":" port]; an IPv6 literal keeps its
    # brackets.  Names compare case-insensitively, without a final dot.
    header = header.strip().lower()
    if header.startswith(b"["):
        end = header.find(b"]")
        return header[: end + 1] if end >= 0 else header
    return header.partition(b":")[0].rstrip(b".")


class NameVirtualHost(resource.Resource):
    """
    Serves a different resource for each host name.

    Attributes:
        default: the resource for requests whose host is not mapped (and
            for requests without ``Host``); ``None`` answers them 404.
        hosts: host name (lowercase bytes) to resource.
    """

    def __init__(self) -> None:
        super().__init__()
        self.default: resource.IResource | None = None
        self.hosts: dict[bytes, resource.IResource] = {}

    def listStaticEntities(self) -> list[tuple[bytes, resource.IResource]]:
        """The mapped hosts and their resources."""
        return list(self.hosts.items())

    def getStaticEntity(self, name: bytes) -> resource.IResource | None:
        """The resource for host ``name``."""
        return self.hosts.get(name)

    def addHost(self, name: bytes, resrc: resource.IResource) -> None:
        """Serve ``resrc`` for the host ``name``."""
        self.hosts[_hostName(name)] = resrc

    def removeHost(self, name: bytes) -> None:
        """Stop serving the host ``name``."""
        del self.hosts[_hostName(name)]

    def _getResourceForRequest(self, request: Any) -> resource.IResource:
        host = request.getHeader(b"host")
        if host is None:
            return self.default or resource.NoResource()
        found = self.hosts.get(_hostName(host), self.default)
        if found is None:
            name = _hostName(host).decode("latin-1")
            return resource.NoResource(f"host {name} not in vhost map")
        return found

    def render(self, request: Any) -> Any:
        """Render with the resource of the request's host."""
        return self._getResourceForRequest(request).render(request)

    def getChild(self, path: bytes, request: Any) -> resource.IResource:
        """Traverse into the resource of the request's host."""
        resrc = self._getResourceForRequest(request)
        if getattr(resrc, "isLeaf", False):
            request.postpath.insert(0, request.prepath.pop(-1))
            return resrc
        return resrc.getChildWithDefault(path, request)


class _HostResource(resource.Resource):
    def getChild(self, path: bytes, request: Any) -> resource.IResource:
        secure = bool(request.isSecure())
        host, colon, portText = (
            path.rpartition(b":") if not path.endswith(b"]") else (path, b"", b"")
        )
        if not colon:
            host, port = path, 443 if secure else 80
        else:
            if not portText.isdigit() or not 0 < int(portText) < 65536:
                return resource.ErrorPage(400, "Bad Request", "Invalid port in VHostMonster path.")
            port = int(portText)
        if not host:
            return resource.ErrorPage(400, "Bad Request", "No host in VHostMonster path.")
        request.setHost(host, port, secure)
        # Drop the traversed "<vhost>/<scheme>/<host>" segments from the raw
        # URI (still percent-encoded), keeping the rest and the query.
        rawPath, sep, query = request.uri.partition(b"?")
        segments = rawPath.split(b"/")[1 + len(request.prepath) :]
        request.uri = b"/" + b"/".join(segments) + sep + query
        request.path = b"/" + b"/".join(segments)
        del request.prepath[:]
        return request.site.getResourceFor(request)  # type: ignore[no-any-return]


class VHostMonsterResource(resource.Resource):
    """
    Put this at ``/vhost``; a reverse proxy then forwards
    ``https://example.com/a`` to ``/vhost/https/example.com:443/a``, and
    the request is served from the site's root as if it had arrived on
    ``https://example.com:443/a`` (URLs, redirects and ``isSecure`` agree).
    """

    def getChild(self, path: bytes, request: Any) -> resource.IResource:
        """``http`` or ``https``; anything else is not found."""
        if path == b"http":
            request.isSecure = lambda: False
        elif path == b"https":
            request.isSecure = lambda: True
        else:
            return resource.NoResource()
        return _HostResource()


class VirtualHostCollection(resource.Resource):
    """
    Maps hosts to resources with ``getHost``-style lookups on a ``nvh``
    (a :class:`NameVirtualHost`): the children are the host names.
    """

    def __init__(self, nvh: NameVirtualHost) -> None:
        super().__init__()
        self.nvh = nvh

    def listStaticEntities(self) -> list[tuple[bytes, resource.IResource]]:
        """The host map."""
        return self.nvh.listStaticEntities()

    def getStaticEntity(self, name: bytes) -> resource.IResource | None:
        """The resource for host ``name``."""
        return self.nvh.getStaticEntity(name)
