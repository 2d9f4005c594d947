"""
Services from endpoint description strings.

::

    from fw.application import strports

    strports.service("tcp:8079:interface=127.0.0.1", factory).setServiceParent(application)

The strings are those of :func:`fw.internet.endpoints.serverFromString`
(``tcp:PORT``, ``unix:PATH``, ``ssl:PORT:privateKey=...``, ``systemd:...``,
and any prefix a plugin adds).
"""

from __future__ import annotations

from typing import Any

from fw.application.internet import StreamServerEndpointService

__all__ = ["listen", "service"]


def service(description: str, factory: Any, reactor: Any = None) -> StreamServerEndpointService:
    """
    A service listening on the endpoint ``description`` with ``factory``.

    Args:
        description: an endpoint description, such as ``"tcp:8079"``.
        factory: the protocol factory.
        reactor: the reactor (the global one by default).

    Raises:
        ValueError: the description is not understood.
    """
    from fw.internet.endpoints import serverFromString

    if reactor is None:
        from fw.internet import reactor as globalReactor

        reactor = globalReactor
    endpoint = serverFromString(reactor, description)
    return StreamServerEndpointService(endpoint, factory)


def listen(description: str, factory: Any, reactor: Any = None) -> Any:
    """
    Listen on the endpoint ``description`` now.

    Returns:
        A Deferred firing with the listening port.
    """
    from fw.internet.endpoints import serverFromString

    if reactor is None:
        from fw.internet import reactor as globalReactor

        reactor = globalReactor
    return serverFromString(reactor, description).listen(factory)
