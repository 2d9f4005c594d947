"""
The internals of ``fwd``, the application runner: its options, logging,
profiling, and the sequence that starts an application.

``fwd`` (see :mod:`fw.application.fwd`) parses :class:`ServerOptions`, then
:class:`ApplicationRunner` does, in order:

1. refuse to start if the pid file names a running process (a stale pid
   file is removed);
2. get the application: run the ``.tac`` file (``-y``), or make the
   service of the plugin named on the command line or in the saved
   configuration (``--config``);
3. begin logging (:class:`AppLogger`);
4. chroot, change directory, set the umask, daemonize, write the pid file;
5. call ``privilegedStartService`` (ports below 1024 are bound now), drop
   privileges (``-u``/``-g``), call ``startService``;
6. run the reactor until SIGTERM or SIGINT (``stopService`` runs first,
   and is waited for), then remove the pid file.

A failure in steps 4-5 in a daemon is sent back to the ``fwd`` that launched
it, which prints it and exits with status 1.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any, ClassVar, TextIO

from fw.application import _fwd_posix as posix
from fw.application._fwd_config import ConfigError, SavedConfig, readConfig
from fw.application.service import (
    Application,
    IProcess,
    IService,
    IServiceMaker,
    loadApplication,
)
from fw.logger import (
    FilteringLogObserver,
    ILogObserver,
    InvalidLogLevelError,
    LogBeginner,
    LogEvent,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    formatEvent,
    globalLogBeginner,
    globalLogPublisher,
    jsonFileLogObserver,
    textFileLogObserver,
)
from fw.plugin import getPlugin, getPlugins
from fw.python import usage
from fw.python._version import __version__

__all__ = [
    "AppLogger",
    "AppProfiler",
    "ApplicationRunner",
    "ServerOptions",
    "SyslogObserver",
    "getApplication",
    "getLogFile",
    "runApp",
]

_log = Logger(namespace="fw.application.app")

_PROFILERS = ("cprofile", "profile")


def _octal(value: str) -> int:
    try:
        return int(value, 8)
    except ValueError:
        raise ValueError(f"not an octal umask: {value!r}") from None


def _user(value: str) -> int:
    return posix._userId(value)


def _group(value: str) -> int:
    return posix._groupId(value)


def _nonNegative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


def serviceMakers() -> Iterator[IServiceMaker]:
    """Every installed ``fwd`` plugin (broken ones are logged and skipped)."""
    return iter(getPlugins(IServiceMaker))


class ServerOptions(usage.Options):
    """
    Run an application: the one a Python file defines (-y app.tac), a
    plugin's service (fwd NAME [plugin options]), or a plugin and options
    saved by --save-config (--config app.toml).
    """

    synopsis = "Usage: fwd [options] [NAME [plugin options]]"
    version = __version__

    optFlags: ClassVar[list[list[Any]]] = [
        ["nodaemon", "n", "Don't daemonize; log to standard output unless --logfile is given."],
        ["syslog", None, "Log to syslog instead of a file."],
        [
            "debug",
            "b",
            (
                "Debug mode: the Python debugger opens on unhandled errors and on SIGUSR2 "
                "(implies --nodaemon)."
            ),
        ],
        ["savestats", None, "With --profile, save the raw statistics instead of a report."],
        ["euid", None, "With --uid, change only the effective user id."],
    ]

    optParameters: ClassVar[list[list[Any]]] = [
        ["python", "y", None, "Run the application defined by this Python (.tac) file."],
        ["config", None, None, "Run the plugin and options saved in this TOML file."],
        [
            "save-config",
            None,
            None,
            (
                "Save the plugin named after the options, with its options, to this TOML file "
                "and exit (run it later with --config)."
            ),
        ],
        ["logfile", "l", None, "Log to this file, rotated by size; - for standard output."],
        ["log-format", None, "text", "The log's format: text or json."],
        [
            "log-level",
            None,
            "info",
            "The lowest level logged: debug, info, warn, error, critical.",
        ],
        [
            "log-rotate-length",
            None,
            1_000_000,
            "Rotate the log file when it reaches this many bytes (0: never).",
            _nonNegative,
        ],
        [
            "log-max-rotated",
            None,
            None,
            "Keep at most this many rotated log files (default: all).",
            _nonNegative,
        ],
        ["prefix", None, "fwd", "The identifier syslog messages are tagged with."],
        [
            "pidfile",
            None,
            None,
            (
                "Write the process id to this file (default: fwd.pid when daemonizing; '' for "
                "none); refuse to start if it names a running process."
            ),
        ],
        ["rundir", "d", ".", "Change to this directory before running."],
        ["chroot", None, None, "Chroot to this directory before running."],
        ["uid", "u", None, "Run as this user (name or id) once ports are bound.", _user],
        ["gid", "g", None, "Run as this group (name or id) once ports are bound.", _group],
        ["umask", None, None, "The umask, in octal (default: 0077 when daemonizing).", _octal],
        ["profile", "p", None, "Run under the profiler, writing its results to this file."],
        ["profiler", None, "cprofile", "The profiler: cprofile or profile."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["reactor"] = None
        self.subArgs: list[str] = []
        self._makers: dict[str, IServiceMaker] | None = None

    def opt_reactor(self, shortName: str) -> None:
        """Install the reactor called NAME first (see --help-reactors)."""
        from fw.application.reactors import NoSuchReactor, installReactor
        from fw.internet.error import ReactorAlreadyInstalledError

        try:
            installReactor(shortName)
        except NoSuchReactor as e:
            raise usage.UsageError(str(e)) from None
        except ReactorAlreadyInstalledError:
            raise usage.UsageError(
                f"cannot install the {shortName} reactor: a reactor is installed already"
            ) from None
        except ImportError as e:
            raise usage.UsageError(f"the {shortName} reactor is not available: {e}") from None
        self["reactor"] = shortName

    opt_r = opt_reactor

    def opt_help_reactors(self) -> None:
        """List the reactors -r accepts, and exit."""
        from fw.application.reactors import getReactorTypes

        for installer in sorted(getReactorTypes(), key=lambda r: r.shortName):
            print(f"    {installer.shortName:<10}{installer.description}")
        sys.exit(0)

    # -- plugins as sub-commands

    def makers(self) -> dict[str, IServiceMaker]:
        """The installed plugins, by name."""
        if self._makers is None:
            self._makers = {m.tapname: m for m in serviceMakers()}
        return self._makers

    @property
    def subCommands(self) -> list[tuple[str, None, Any, str]]:
        """One sub-command per installed ``fw.service_makers`` plugin."""
        return [
            (name, None, maker.options, maker.description)
            for name, maker in sorted(self.makers().items())
        ]

    def _parseSubCommand(self, args: list[str]) -> None:
        # Kept for --save-config: the plugin's own command line.
        self.subArgs = list(args[1:])
        super()._parseSubCommand(args)

    def _loadSavedConfig(self, path: str) -> None:
        try:
            saved = readConfig(path)
        except ConfigError as e:
            raise usage.UsageError(str(e)) from None
        maker = self.makers().get(saved.plugin)
        if maker is None:
            raise usage.UsageError(f"{path}: no plugin called {saved.plugin!r} is installed")
        options = maker.options()
        options.parent = self
        try:
            options.parseOptions(saved.commandLine())
        except usage.UsageError as e:
            raise usage.UsageError(f"{path}: options of {saved.plugin}: {e}") from None
        self.subCommand = saved.plugin
        self.subOptions = options
        self.subArgs = saved.commandLine()

    def postOptions(self) -> None:
        """Check the combination of options."""
        if self["debug"]:
            self["nodaemon"] = 1
        if self["config"]:
            if self.subCommand is not None:
                raise usage.UsageError("give --config or a plugin name, not both")
            self._loadSavedConfig(self["config"])
        if self["python"] and self.subCommand is not None:
            raise usage.UsageError("give -y (--python) or a plugin, not both")
        if self["save-config"] and self.subCommand is None:
            raise usage.UsageError("--save-config needs a plugin name and its options")
        if not (self["python"] or self.subCommand is not None):
            raise usage.UsageError(
                "nothing to run: give -y FILE.tac, --config FILE.toml, or a plugin name "
                "(fwd --help lists them)"
            )
        if self["log-format"] not in ("text", "json"):
            raise usage.UsageError("--log-format is text or json")
        try:
            LogLevel.levelWithName(self["log-level"])
        except InvalidLogLevelError:
            raise usage.UsageError(
                "--log-level is one of debug, info, warn, error, critical"
            ) from None
        if self["logfile"] == "-" and not self["nodaemon"]:
            raise usage.UsageError("--logfile - (standard output) needs --nodaemon")
        if self["profiler"] not in _PROFILERS:
            raise usage.UsageError(f"--profiler is one of {', '.join(_PROFILERS)}")
        if self["pidfile"] is None:
            self["pidfile"] = "" if self["nodaemon"] else "fwd.pid"
        if self["pidfile"]:
            self["pidfile"] = os.path.abspath(self["pidfile"])

    def savedConfig(self) -> SavedConfig:
        """The plugin and options given, as a saved configuration."""
        from fw.application._fwd_config import configFromCommandLine

        assert self.subCommand is not None
        return configFromCommandLine(self.subCommand, self.subOptions, self.subArgs)


def getApplication(config: ServerOptions) -> Any:
    """
    The application ``config`` asks for: the ``.tac`` file's, or a new
    :func:`~fw.application.service.Application` holding the plugin's service.
    """
    if config["python"]:
        return loadApplication(config["python"])
    assert config.subCommand is not None
    maker = config.makers().get(config.subCommand)
    if maker is None:
        maker = getPlugin(IServiceMaker, config.subCommand)
    service = maker.makeService(config.subOptions)
    application = Application(maker.tapname)
    IService(service).setServiceParent(application)
    return application


class SyslogObserver:
    """
    Sends log events to syslog, tagged with ``prefix``.

    Args:
        prefix: the identifier.
        facility: the syslog facility (``LOG_DAEMON`` by default).
        syslogModule: the :mod:`syslog` module (tests give a fake).
    """

    _PRIORITIES: ClassVar[dict[LogLevel, str]] = {
        LogLevel.debug: "LOG_DEBUG",
        LogLevel.info: "LOG_INFO",
        LogLevel.warn: "LOG_WARNING",
        LogLevel.error: "LOG_ERR",
        LogLevel.critical: "LOG_ALERT",
    }

    def __init__(self, prefix: str, facility: int | None = None, syslogModule: Any = None) -> None:
        if syslogModule is None:
            import syslog as syslogModule
        self._syslog = syslogModule
        if facility is None:
            facility = syslogModule.LOG_DAEMON
        syslogModule.openlog(prefix, syslogModule.LOG_PID, facility)

    def __call__(self, event: LogEvent) -> None:
        """Send ``event``, one syslog message per line."""
        text = formatEvent(event)
        failure = event.get("log_failure")
        if failure is not None:
            text = f"{text}\n{failure.getTraceback()}"
        level = event.get("log_level", LogLevel.info)
        priority = getattr(self._syslog, self._PRIORITIES.get(level, "LOG_INFO"))
        system = event.get("log_system") or event.get("log_namespace") or "-"
        for line in text.splitlines() or [""]:
            self._syslog.syslog(priority, f"[{system}] {line}")


def getLogFile(path: str, rotateLength: int | None, maxRotated: int | None) -> Any:
    """Open the log file ``path``, rotated by size."""
    from fw.python.logfile import LogFile

    return LogFile.fromFullPath(path, rotateLength=rotateLength, maxRotatedFiles=maxRotated)


class AppLogger:
    """
    Starts and stops ``fwd``'s logging: to a file (rotated), standard
    output, or syslog, as text or JSON, filtered by level.

    Args:
        options: the parsed :class:`ServerOptions` (or a dict with their keys).
        beginner: the log beginner (the global one by default).
    """

    def __init__(self, options: Any, beginner: LogBeginner | None = None) -> None:
        self._options = options
        self._beginner = beginner if beginner is not None else globalLogBeginner
        self._observer: Any = None
        self.logFile: Any = None

    def _output(self) -> tuple[Any, bool]:
        """The stream to log to, and whether standard IO should be redirected to the log."""
        options = self._options
        logfile = options.get("logfile")
        if logfile == "-" or (not logfile and options.get("nodaemon")):
            return sys.stdout, False
        if not logfile:
            logfile = "fwd.log"
        self.logFile = getLogFile(
            logfile, options.get("log-rotate-length"), options.get("log-max-rotated")
        )
        return self.logFile, True

    def observer(self) -> ILogObserver:
        """Make the observer the options ask for (opening the log file)."""
        options = self._options
        redirect: bool
        observer: Any
        if options.get("syslog"):
            observer = SyslogObserver(options.get("prefix") or "fwd")
            redirect = not options.get("nodaemon")
        else:
            output, redirect = self._output()
            if options.get("log-format") == "json":
                observer = jsonFileLogObserver(output)
            else:
                observer = textFileLogObserver(output)
        self._redirect = redirect
        level = LogLevel.levelWithName(options.get("log-level") or "info")
        return FilteringLogObserver(observer, [LogLevelFilterPredicate(level)])

    def start(self, application: Any) -> None:
        """Begin logging, and log who is starting."""
        self._observer = self.observer()
        self._beginner.beginLoggingTo([self._observer], redirectStandardIO=self._redirect)
        _log.info(
            "fwd {version} (Python {python}) starting up",
            version=__version__,
            python=sys.version.split()[0],
        )

    def reopen(self) -> None:
        """Reopen the log file (after ``logrotate`` moved it): on SIGHUP."""
        if self.logFile is not None:
            self.logFile.reopen()
            _log.info("reopened the log file {path}", path=self.logFile.path)

    def rotate(self) -> None:
        """Rotate the log file now: on SIGUSR1, as Twisted does."""
        if self.logFile is not None:
            self.logFile.rotate()
            _log.info("rotated the log file {path}", path=self.logFile.path)

    def stop(self) -> None:
        """Log the end, and stop logging."""
        _log.info("server shut down")
        if self._observer is not None:
            globalLogPublisher.removeObserver(self._observer)
            self._observer = None
        if self.logFile is not None:
            self.logFile.close()


class AppProfiler:
    """
    Runs the reactor under :mod:`cProfile` (or :mod:`profile`), writing a
    report (or, with ``--savestats``, the raw statistics) to a file.
    """

    def __init__(self, options: Any) -> None:
        self.profileOutput: str = options["profile"]
        self.saveStats = bool(options.get("savestats"))
        self.profiler: str = options.get("profiler") or "cprofile"

    def run(self, reactor: Any) -> None:
        """Run ``reactor`` under the profiler, then write the results."""
        import pstats

        if self.profiler == "profile":
            import profile as profiler
        else:
            import cProfile as profiler  # type: ignore[no-redef]
        p = profiler.Profile()
        p.runcall(reactor.run)
        if self.saveStats:
            p.dump_stats(self.profileOutput)
            return
        with open(self.profileOutput, "w") as f:
            stats = pstats.Stats(p, stream=f)
            stats.strip_dirs().sort_stats(-1).print_stats()


class ApplicationRunner:
    """
    Runs an application as ``fwd`` does (see the module's description).

    Args:
        config: the parsed :class:`ServerOptions`.
        stderr: where errors before logging begins are written.
    """

    def __init__(self, config: ServerOptions, stderr: TextIO | None = None) -> None:
        self.config = config
        self.stderr = stderr if stderr is not None else sys.stderr
        self.logger = AppLogger(config)
        self.application: Any = None
        self._status: posix.StatusPipe | None = None

    def _error(self, message: str) -> int:
        self.stderr.write(f"fwd: {message}\n")
        self.stderr.flush()
        return 1

    def run(self) -> int:
        """Run the application until it is stopped; return the exit status."""
        config = self.config
        from fw.internet import reactor

        self.reactor: Any = reactor
        try:
            staleMessage = posix.checkPID(config["pidfile"])
        except posix.AlreadyRunning as e:
            return self._error(str(e))
        self._holdStopSignals()
        try:
            return self._run(config, staleMessage)
        finally:
            self._releaseStopSignals()

    def _holdStopSignals(self) -> None:
        """
        Until the reactor runs (and installs its own handlers), remember a
        SIGINT or SIGTERM instead of dying with ``KeyboardInterrupt`` in
        the middle of starting services; :meth:`_running` acts on it.
        """
        self._heldSignals: list[int] = []
        self._previousHandlers: dict[int, Any] = {}

        def hold(signum: int, frame: Any) -> None:
            self._heldSignals.append(signum)

        self._hold = hold
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers (nor receives signals)
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previousHandlers[signum] = signal.signal(signum, hold)

    def _releaseStopSignals(self) -> None:
        """
        Put back the handlers replaced by :meth:`_holdStopSignals` wherever
        ours is still installed (the reactor's, once it runs, stay).
        """
        for signum, handler in self._previousHandlers.items():
            if signal.getsignal(signum) is self._hold:
                signal.signal(signum, handler)

    def _run(self, config: ServerOptions, staleMessage: str | None) -> int:
        try:
            self.application = getApplication(config)
        except (Exception, SystemExit) as e:  # noqa: BLE001 - any error in user code is reported
            detail = "".join(traceback.format_exception(e)).rstrip()
            return self._error(f"cannot load the application: {e}\n{detail}")
        try:
            self.logger.start(self.application)
        except OSError as e:
            return self._error(f"cannot open the log: {e}")
        if staleMessage:
            _log.info(staleMessage)
        if config["debug"]:
            self._startDebugging()
        try:
            self.setupEnvironment()
            self.startApplication()
        except Exception as e:  # noqa: BLE001 - reported to whoever started us
            return self._startupFailed(e)
        self.startReactor()
        posix.removePID(config["pidfile"])
        self.logger.stop()
        return 0

    def _startupFailed(self, error: BaseException) -> int:
        message = f"{type(error).__name__}: {error}"
        _log.failure("start-up failed: {message}", message=message)
        posix.removePID(self.config["pidfile"])
        status, self._status = self._status, None
        if status is not None:
            status.failure(message)
            self.logger.stop()
            return 1
        self.logger.stop()
        return self._error(f"start-up failed: {message}")

    def setupEnvironment(self) -> None:
        """Chroot, change directory, set the umask, daemonize, write the pid file."""
        config = self.config
        if config["chroot"] is not None:
            os.chroot(config["chroot"])
            if config["rundir"] == ".":
                config["rundir"] = "/"
        os.chdir(config["rundir"])
        if config["umask"] is not None:
            os.umask(config["umask"])
        elif not config["nodaemon"]:
            os.umask(0o077)
        if not config["nodaemon"]:
            self._status = posix.daemonize()
        posix.writePID(config["pidfile"])

    def startApplication(self) -> None:
        """Start the services in two steps, dropping privileges in between."""
        config = self.config
        service = IService(self.application)
        process = IProcess(self.application, None)
        uid = config["uid"] if config["uid"] is not None else getattr(process, "uid", None)
        gid = config["gid"] if config["gid"] is not None else getattr(process, "gid", None)
        service.privilegedStartService()
        posix.shedPrivileges(uid, gid, bool(config["euid"]))
        service.startService()
        self.reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
        self.reactor.callWhenRunning(self._running)

    def _running(self) -> None:
        status, self._status = self._status, None
        if status is not None:
            status.success()
        self._releaseStopSignals()
        self._installSignals()
        _log.info("started; process {pid}", pid=os.getpid())
        if self._heldSignals:
            name = signal.Signals(self._heldSignals[0]).name
            _log.info("{signal} received while starting: stopping", signal=name)
            self.reactor.stop()

    def _installSignals(self) -> None:
        reactor = self.reactor

        def hangUp(signum: int, frame: Any) -> None:
            reactor.callFromThread(self.logger.reopen)

        def userOne(signum: int, frame: Any) -> None:
            reactor.callFromThread(self.logger.rotate)

        signal.signal(signal.SIGHUP, hangUp)
        signal.signal(signal.SIGUSR1, userOne)

    def _startDebugging(self) -> None:
        from fw.internet.defer import setDebugging
        from fw.python.failure import startDebugMode

        setDebugging(True)
        startDebugMode()

        def debugSignal(signum: int, frame: Any) -> None:
            import pdb

            pdb.Pdb().set_trace(frame)

        signal.signal(signal.SIGUSR2, debugSignal)

    def startReactor(self) -> None:
        """Run the reactor (under the profiler with ``--profile``)."""
        if self.config["profile"]:
            AppProfiler(self.config).run(self.reactor)
        else:
            self.reactor.run()


def runApp(config: ServerOptions) -> int:
    """Run what ``config`` says; return the exit status."""
    if config["save-config"]:
        from fw.application._fwd_config import writeConfig

        try:
            writeConfig(config["save-config"], config.savedConfig())
        except (OSError, ConfigError) as e:
            sys.stderr.write(f"fwd: cannot save the configuration: {e}\n")
            return 1
        print(f"saved {config.subCommand} and its options to {config['save-config']}")
        return 0
    return ApplicationRunner(config).run()
