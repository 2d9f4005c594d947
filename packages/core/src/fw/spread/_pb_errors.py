"""PB's errors, and failures as they cross the wire."""

from __future__ import annotations

from typing import Any, Final

from fw.python.failure import Failure
from fw.python.reflect import qual
from fw.spread.flavors import Copyable, RemoteCopy
from fw.spread.jelly import MalformedJelly, setUnjellyableForClass

__all__ = [
    "COPYABLE_FAILURE_TYPE",
    "CopiedFailure",
    "CopyableFailure",
    "DeadReferenceError",
    "Error",
    "PBConnectionLost",
    "ProtocolError",
    "RemoteError",
    "failure2Copyable",
]

#: The jelly type name of a failure on the wire (Twisted's class name, so
#: that Twisted peers rebuild it too).
COPYABLE_FAILURE_TYPE: Final = b"twisted.spread.pb.CopyableFailure"


class Error(Exception):
    """
    An error a remote method raises on purpose: it is sent to the caller
    without being logged here.
    """


class RemoteError(Exception):
    """
    What an error from the peer is raised as, where its own class is not
    known here.

    Attributes:
        remoteType: the qualified name of the peer's exception class.
        remoteTraceback: the peer's traceback text (usually
            ``"Traceback unavailable\\n"``: peers send tracebacks only when
            told to, with ``unsafeTracebacks``).
    """

    def __init__(self, remoteType: str | bytes, value: str, remoteTraceback: str) -> None:
        super().__init__(value)
        self.remoteType = remoteType
        self.remoteTraceback = remoteTraceback


class DeadReferenceError(Error):
    """A call through a reference whose connection is gone."""


class PBConnectionLost(Exception):
    """The connection was lost before the answer to a call came."""


class ProtocolError(Exception):
    """The peer broke PB's rules (the connection is closed)."""


def _wireName(name: str) -> str:
    # fw's own classes travel under Twisted's names: a Twisted peer checks
    # for twisted.spread.pb.Error, not fw.spread.pb.Error.
    if name.startswith("fw."):
        return "twisted." + name[3:]
    return name


def _localNames(names: list[str]) -> list[str]:
    # Both spellings of each name, so that check() matches fw's classes.
    result: list[str] = []
    for name in names:
        result.append(name)
        if name.startswith("twisted."):
            result.append("fw." + name[8:])
        elif name.startswith("fw."):
            result.append("twisted." + name[3:])
    return result


class CopyableFailure(Failure, Copyable):
    """A :class:`~fw.python.failure.Failure` that can be sent to a peer."""

    unsafeTracebacks: bool = False

    def getTypeToCopy(self) -> bytes:
        """Sent as Twisted's ``twisted.spread.pb.CopyableFailure``."""
        return COPYABLE_FAILURE_TYPE

    def getStateToCopy(self) -> dict[str, Any]:
        """The failure's type, message, class names and (perhaps) traceback."""
        if self.unsafeTracebacks:
            traceback = self.getTraceback()
        else:
            traceback = "Traceback unavailable\n"
        return {
            "type": _wireName(qual(self.type)).encode("utf-8"),
            "value": str(self.value),
            "traceback": traceback,
            "parents": [_wireName(name) for name in self.parents],
            "count": self.count,
            "captureVars": False,
            "tb": None,
            "unsafeTracebacks": bool(self.unsafeTracebacks),
            "frames": [],
            "stack": [],
        }


class CopiedFailure(RemoteCopy, Failure):
    """
    A failure sent by the peer.  Its ``type`` is :class:`RemoteError`;
    :meth:`check` and :meth:`trap` also match the peer's class names (a
    ``twisted.x.Y`` the peer names matches ``fw.x.Y`` here), and
    :meth:`raiseException` raises a :class:`RemoteError`.

    Attributes:
        remoteType: the peer's exception class name.
        traceback: the peer's traceback text.
    """

    remoteType: bytes | str = b""
    traceback: str = "Traceback unavailable\n"

    def setCopyableState(self, state: Any) -> None:
        """Take the state the peer sent."""
        if not isinstance(state, dict):
            raise MalformedJelly("a failure's state is a dictionary")
        remoteType = state.get("type", b"")
        value = state.get("value", "")
        traceback = state.get("traceback", "Traceback unavailable\n")
        parents = state.get("parents", [])
        if not isinstance(remoteType, (bytes, str)) or not isinstance(parents, list):
            raise MalformedJelly("malformed failure state")
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(traceback, bytes):
            traceback = traceback.decode("utf-8", "replace")
        typeName = (
            remoteType.decode("utf-8", "replace") if isinstance(remoteType, bytes) else remoteType
        )
        names = [p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p) for p in parents]
        if typeName and typeName not in names:
            names.insert(0, typeName)
        self.remoteType = remoteType
        self.traceback = str(traceback)
        self.value = RemoteError(remoteType, str(value), str(traceback))
        self.type = RemoteError
        self.tb = None
        self.count = state.get("count", 0) if isinstance(state.get("count"), int) else 0
        self.pickled = 1
        self.parents = [*_localNames(names), qual(RemoteError)]
        self.captureVars = False

    def getErrorMessage(self) -> str:
        """The peer's message."""
        return str(self.value)

    def getTraceback(self, elideFrameworkCode: int = 0, detail: str = "default") -> str:
        """The peer's traceback text, as the peer sent it."""
        name = self.remoteType.decode() if isinstance(self.remoteType, bytes) else self.remoteType
        return f"Traceback from remote host -- {self.traceback}{name}: {self.value}\n"

    def printTraceback(
        self, file: Any = None, elideFrameworkCode: int = 0, detail: str = "default"
    ) -> None:
        """Write :meth:`getTraceback` to ``file`` (the log's error stream by default)."""
        import sys

        (file or sys.stderr).write(self.getTraceback())

    def printBriefTraceback(self, file: Any = None, elideFrameworkCode: int = 0) -> None:
        """Same as :meth:`printTraceback`."""
        self.printTraceback(file)

    def printDetailedTraceback(self, file: Any = None, elideFrameworkCode: int = 0) -> None:
        """Same as :meth:`printTraceback`."""
        self.printTraceback(file)

    def __repr__(self) -> str:
        return f"<CopiedFailure {self.remoteType!r}: {self.value}>"

    __str__ = __repr__


setUnjellyableForClass(COPYABLE_FAILURE_TYPE, CopiedFailure)


# Their public home, which is also the name peers see (as twisted.spread.pb.*).
for _cls in (
    Error,
    RemoteError,
    DeadReferenceError,
    PBConnectionLost,
    ProtocolError,
    CopyableFailure,
    CopiedFailure,
):
    _cls.__module__ = "fw.spread.pb"
del _cls


def failure2Copyable(fail: Failure, unsafeTracebacks: bool | int = 0) -> CopyableFailure:
    """Return a :class:`CopyableFailure` copy of ``fail``."""
    copy = CopyableFailure.__new__(CopyableFailure)
    copy.__dict__.update(fail.__dict__)
    copy.unsafeTracebacks = bool(unsafeTracebacks)
    return copy
