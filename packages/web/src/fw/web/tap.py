"""
``fwd web``: serve static files, a resource class or a WSGI application over HTTP.

Examples::

    fwd -n web --listen tcp:8080:interface=127.0.0.1 --path /srv/www
    fwd -n web --listen tcp:8080 --wsgi myapp.app
    fwd -n web --listen ssl:8443:privateKey=key.pem:certKey=cert.pem --class mymod.Root
    fwd -n web --listen tcp:8080 --user
    fwd -n web --personal --path ~/site

``--user`` (``-u``) serves every user's ``~/public_html`` at ``/name/`` and the
server a user publishes with ``--personal`` at ``/name.fwd/``
(:class:`~fw.web.distrib.UserDirectory`).  ``--personal`` runs no HTTP
server: it publishes the site over PB on ``--listen`` (by default the UNIX
socket ``~/.fwd-web-pb``) for such a front server.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from fw.application import strports
from fw.application.service import IService, MultiService
from fw.python import reflect, usage
from fw.web.resource import IResource, Resource

__all__ = ["Options", "makeService"]


class _AddHeadersResource(Resource):
    """Wraps a resource, adding fixed response headers to every request."""

    def __init__(self, original: IResource, headers: list[tuple[str, str]]) -> None:
        super().__init__()
        self._original = original
        self._headers = headers

    @property
    def isLeaf(self) -> bool:  # type: ignore[override]
        return bool(self._original.isLeaf)

    def _add(self, request: Any) -> None:
        for name, value in self._headers:
            request.responseHeaders.addRawHeader(name, value)

    def getChildWithDefault(self, path: bytes, request: Any) -> IResource:
        self._add(request)
        return self._original.getChildWithDefault(path, request)

    def render(self, request: Any) -> Any:
        self._add(request)
        return self._original.render(request)


class _Welcome(Resource):
    """The page served when no --path, --class or --wsgi is given."""

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return b"fw.web is running. Use --path, --class or --wsgi to serve something.\n"


class Options(usage.Options):
    """Run a web server."""

    synopsis = "[--listen ENDPOINT]... [--path DIR | --class CLASS | --wsgi APP] [options]"
    longdesc = (
        "Serve static files (--path), a resource class (--class) or a WSGI application "
        "(--wsgi) on one or more endpoints (--listen, default tcp:8080)."
    )

    optFlags: ClassVar[list[list[Any]]] = [
        [
            "display-tracebacks",
            None,
            "Show Python tracebacks in 500 pages (unsafe in production).",
        ],
        ["allow-ignore-ext", None, "Serve about.html for /about (static files)."],
        [
            "personal",
            None,
            (
                "Instead of a web server, publish the site over PB for a --user front "
                "server, on --listen or by default unix:~/.fwd-web-pb."
            ),
        ],
    ]
    optParameters: ClassVar[list[list[Any]]] = [
        ["logfile", "l", None, "Write an access log (combined log format) to this file."],
        [
            "mime-type",
            "m",
            "text/html",
            "The content type of static files with an unknown extension.",
        ],
    ]
    compData = usage.Completions(
        optActions={"path": usage.CompleteDirs(), "logfile": usage.CompleteFiles()}
    )

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []
        self["indexes"] = []
        self["headers"] = []
        self["root"] = None
        self["kind"] = None

    def opt_listen(self, endpoint: str) -> None:
        """An endpoint to listen on, e.g. tcp:8080 (repeatable)."""
        self["listen"].append(endpoint)

    def opt_index(self, name: str) -> None:
        """A file name to use as a directory index (repeatable)."""
        self["indexes"].append(name)

    opt_i = opt_index

    def opt_add_header(self, header: str) -> None:
        """A response header to add to every response, as 'Name: value' (repeatable)."""
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise usage.UsageError(f"--add-header needs 'Name: value', not {header!r}")
        self["headers"].append((name.strip(), value.strip()))

    def _setRoot(self, kind: str, root: Any) -> None:
        if self["kind"] is not None:
            raise usage.UsageError(f"--{kind} conflicts with --{self['kind']}")
        self["kind"] = kind
        self["root"] = root

    def opt_path(self, path: str) -> None:
        """A directory (or file) to serve as static files."""
        from fw.web.static import File

        if not os.path.exists(path):
            raise usage.UsageError(f"--path: {path!r} does not exist")
        self._setRoot("path", File(os.path.abspath(path)))

    def opt_class(self, className: str) -> None:
        """A fully qualified resource class to instantiate (no arguments) as the root."""
        try:
            cls = reflect.namedAny(className)
        except Exception as e:
            raise usage.UsageError(f"--class: cannot import {className!r}: {e}") from e
        self._setRoot("class", cls())

    def opt_user(self) -> None:
        """Serve users' ~/public_html directories and ~/.fwd-web-pb servers."""
        from fw.web.distrib import UserDirectory

        self._setRoot("user", UserDirectory())

    opt_u = opt_user

    def opt_wsgi(self, name: str) -> None:
        """A fully qualified WSGI application object to serve (runs on a thread pool)."""
        try:
            application = reflect.namedAny(name)
        except Exception as e:
            raise usage.UsageError(f"--wsgi: cannot import {name!r}: {e}") from e
        if not callable(application):
            raise usage.UsageError(f"--wsgi: {name!r} is not callable")
        self._setRoot("wsgi", application)

    def postOptions(self) -> None:
        """Default to tcp:8080 and apply static-file options."""
        if not self["listen"]:
            if self["personal"]:
                self["listen"] = ["unix:" + _personalSocket()]
            else:
                self["listen"] = ["tcp:8080"]
        root = self["root"]
        if self["kind"] == "path":
            root.defaultType = self["mime-type"]
            if self["indexes"]:
                root.indexNames = list(self["indexes"])
            if self["allow-ignore-ext"]:
                root.ignoredExts = ["*"]


def _personalSocket() -> str:
    """The UNIX socket a ``--personal`` server publishes on: ``~/.fwd-web-pb``."""
    from fw.web.distrib import UserDirectory

    return os.path.join(os.path.expanduser("~"), UserDirectory.userSocketName)


def _wsgiRoot(application: Any) -> IResource:
    from fw.internet import reactor
    from fw.web.wsgi import WSGIResource

    pool = reactor.getThreadPool()  # type: ignore[attr-defined]
    return WSGIResource(reactor, pool, application)


def makeService(config: Any) -> IService:
    """A service listening on each ``--listen`` endpoint with one :class:`~fw.web.server.Site`."""
    from fw.web.server import Site

    kind = config["kind"]
    if kind == "wsgi":
        root: IResource = _wsgiRoot(config["root"])
    elif kind is None:
        root = _Welcome()
    else:
        root = config["root"]
    if config["headers"]:
        root = _AddHeadersResource(root, config["headers"])
    site = Site(root, logPath=config["logfile"])
    site.displayTracebacks = bool(config["display-tracebacks"])
    service = MultiService()
    factory: Any = site
    if config["personal"]:
        from fw.spread.pb import PBServerFactory
        from fw.web.distrib import ResourcePublisher

        factory = PBServerFactory(ResourcePublisher(site))
    for endpoint in config["listen"]:
        strports.service(endpoint, factory).setServiceParent(service)
    return service
