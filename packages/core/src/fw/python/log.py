"""The classic logging API: ``log.msg``, ``log.err`` and observers of event dicts.

Built on :mod:`fw.logger`: :func:`msg` and :func:`err` publish to
:data:`fw.logger.globalLogPublisher`, so classic observers see
:class:`fw.logger.Logger` events and fw.logger observers see classic
events.  New code should use :mod:`fw.logger`.

::

    from fw.python import log

    log.startLogging(sys.stdout)
    log.msg("Starting", system="server")
    try:
        work()
    except Exception:
        log.err(None, "while working")

Messages logged before :func:`startLogging` are kept (the last
:data:`fw.logger._global.DEFAULT_BUFFER_SIZE`, 200) and written once it is
called.
"""

from typing import Any

from fw.python._log import (
    EventDict,
    ILogContext,
    ILogObserver,
    Logger,
    LogPublisher,
    callWithContext,
    callWithLogger,
    deferr,
    err,
    msg,
    showwarning,
    textFromEventDict,
    theLogPublisher,
)
from fw.python._logobservers import (
    FileLogObserver,
    NullFile,
    PythonLoggingObserver,
    StdioOnnaStick,
    addObserver,
    removeObserver,
    startLogging,
    startLoggingWithObserver,
)

#: A file whose lines are logged as messages.
logfile: Any = StdioOnnaStick(0)

#: A file whose lines are logged as errors; where failures print their
#: tracebacks by default.
logerr: Any = StdioOnnaStick(1)


def discardLogs() -> None:
    """Make :data:`logfile` discard what is written to it."""
    global logfile
    logfile = NullFile()


__all__ = [
    "EventDict",
    "FileLogObserver",
    "ILogContext",
    "ILogObserver",
    "LogPublisher",
    "Logger",
    "NullFile",
    "PythonLoggingObserver",
    "StdioOnnaStick",
    "addObserver",
    "callWithContext",
    "callWithLogger",
    "deferr",
    "discardLogs",
    "err",
    "logerr",
    "logfile",
    "msg",
    "removeObserver",
    "showwarning",
    "startLogging",
    "startLoggingWithObserver",
    "textFromEventDict",
    "theLogPublisher",
]
