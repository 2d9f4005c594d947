"""The structured event logger.

Code logs events, not strings::

    from fw.logger import Logger

    log = Logger()

    def connected(peer):
        log.info("Connection from {peer.host}:{peer.port}", peer=peer)

An event is a dict of fields; its ``log_format`` (a :pep:`3101` string) is
rendered only when an observer wants text.  Observers receive every event
of the publisher they are added to; the program picks them once, at start::

    import sys
    from fw.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])

Events logged before that are kept (the last
:data:`~fw.logger._global.DEFAULT_BUFFER_SIZE`, 200) and handed to those
observers.  ``fw.python.log.msg`` and :class:`Logger` events go to the same
:data:`globalLogPublisher`.
"""

from fw.logger._buffer import LimitedHistoryLogObserver
from fw.logger._capture import capturedLogs
from fw.logger._file import FileLogObserver, textFileLogObserver
from fw.logger._filter import (
    FilteringLogObserver,
    ILogFilterPredicate,
    LogLevelFilterPredicate,
    PredicateResult,
)
from fw.logger._flatten import extractField
from fw.logger._format import (
    eventAsText,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
    timeFormatRFC3339,
)
from fw.logger._global import LogBeginner, globalLogBeginner
from fw.logger._interfaces import ILogObserver, LogEvent
from fw.logger._io import LoggingFile
from fw.logger._json import (
    eventAsJSON,
    eventFromJSON,
    eventsFromJSONLogFile,
    jsonFileLogObserver,
)
from fw.logger._legacy import LegacyLogObserverWrapper
from fw.logger._levels import InvalidLogLevelError, LogLevel
from fw.logger._logger import Logger, Operation, _loggerFor
from fw.logger._observer import LogPublisher, globalLogPublisher
from fw.logger._stdlib import STDLibLogHandler, STDLibLogObserver

__all__ = [
    "FileLogObserver",
    "FilteringLogObserver",
    "ILogFilterPredicate",
    "ILogObserver",
    "InvalidLogLevelError",
    "LegacyLogObserverWrapper",
    "LimitedHistoryLogObserver",
    "LogBeginner",
    "LogEvent",
    "LogLevel",
    "LogLevelFilterPredicate",
    "LogPublisher",
    "Logger",
    "LoggingFile",
    "Operation",
    "PredicateResult",
    "STDLibLogHandler",
    "STDLibLogObserver",
    "_loggerFor",
    "capturedLogs",
    "eventAsJSON",
    "eventAsText",
    "eventFromJSON",
    "eventsFromJSONLogFile",
    "extractField",
    "formatEvent",
    "formatEventAsClassicLogText",
    "formatTime",
    "globalLogBeginner",
    "globalLogPublisher",
    "jsonFileLogObserver",
    "textFileLogObserver",
    "timeFormatRFC3339",
]
