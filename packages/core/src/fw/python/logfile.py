"""Log files that rotate: by size (:class:`LogFile`) or by day (:class:`DailyLogFile`).

::

    from fw.logger import globalLogBeginner, textFileLogObserver
    from fw.python.logfile import LogFile

    logFile = LogFile("server.log", "/var/log/server", rotateLength=10_000_000,
                      maxRotatedFiles=5)
    globalLogBeginner.beginLoggingTo([textFileLogObserver(logFile)])
"""

from fw.python._logfile import BaseLogFile, DailyLogFile, LogFile, LogReader

__all__ = ["BaseLogFile", "DailyLogFile", "LogFile", "LogReader"]
