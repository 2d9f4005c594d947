"""
:func:`react`: run a reactor for the lifetime of one main function, then exit.

Public names are re-exported by :mod:`fw.internet.task`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from fw.internet.defer import Deferred, maybeDeferred
from fw.internet.error import ReactorNotRunning
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["react"]

_log = Logger(namespace="fw.internet.task")


def react(main: Callable[..., Any], argv: Sequence[Any] = (), _reactor: Any = None) -> NoReturn:
    """
    Run ``main(reactor, *argv)`` on a running reactor, and exit the process
    when the outcome it returns is known.

    ``main`` may be a coroutine function (it is run as with
    :func:`~fw.internet.defer.ensureDeferred`), return a Deferred, or return
    a plain value.  Once that outcome arrives the reactor is stopped and the
    process exits:

    - with status 0 when ``main`` succeeded;
    - with the code of a :class:`SystemExit` that ``main`` raised (or that
      its Deferred failed with), as ``sys.exit`` would;
    - with status 1 for any other failure, which is logged as critical (so it
      is printed on standard error when logging has not been started).

    If the reactor stops by other means first (``reactor.stop()``, a
    ``SIGINT``), the process exits with status 0 without waiting for
    ``main``'s outcome.  A sketch::

        async def main(reactor):
            proto = await connectProtocol(endpoint, Greeter())
            await proto.done

        react(main)

    Args:
        main: called with the reactor and ``argv``'s items.
        argv: more positional arguments for ``main``.
        _reactor: the reactor to run; the global one by default (for tests).

    Raises:
        SystemExit: always, once the reactor has stopped.
    """
    if _reactor is None:
        # Imported on use: nothing may import the global reactor at import time.
        from fw.internet import reactor as _reactor
    reactor: Any = _reactor
    exitCode: list[int | str | None] = [0]
    shuttingDown = [False]

    def noteShutdown() -> None:
        shuttingDown[0] = True

    def record(result: object) -> None:
        if not isinstance(result, Failure):
            return
        if isinstance(result.value, SystemExit):
            exitCode[0] = result.value.code
        else:
            _log.failure("main function encountered error", result)
            exitCode[0] = 1

    def stopWith(result: object) -> None:
        record(result)
        try:
            reactor.stop()
        except ReactorNotRunning:
            pass

    def finished(result: object) -> None:
        if shuttingDown[0]:
            # The reactor is on its way down already: note the outcome only.
            record(result)
        else:
            reactor.callWhenRunning(stopWith, result)

    reactor.addSystemEventTrigger("before", "shutdown", noteShutdown)
    outcome: Deferred[Any] = maybeDeferred(main, reactor, *argv)
    outcome.addBoth(finished)
    reactor.run()
    sys.exit(exitCode[0])
