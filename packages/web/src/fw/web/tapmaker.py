"""The ``fwd web`` plugin (entry point ``fw.service_makers: web``); imports nothing heavy."""

from fw.application.service import ServiceMaker

__all__ = ["web"]

web = ServiceMaker(
    "fw web",
    "fw.web.tap",
    "A web server: static files, a resource class or a WSGI application.",
    "web",
)
