"""
Perspective Broker: remote object references and calls over a network.
Wire compatible with Twisted's ``twisted.spread.pb`` (protocol version 6).

A server exports a root object; a client gets a reference to it and calls
its ``remote_*`` methods::

    class Echoer(pb.Root):
        def remote_echo(self, text):
            return text

    reactor.listenTCP(8789, pb.PBServerFactory(Echoer()))

    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", 8789, factory)
    root = await factory.getRootObject()
    print(await root.callRemote("echo", "hello"))

Each side's messages are Banana lists of jellied values (``requestID``
counts each side's calls, ``luid`` names an exported object)::

    [b"version", 6]                                              once each way
    [b"message", requestID, luid, name, answerRequired, args, kw]
    [b"cachemessage", requestID, luid, name, answerRequired, args, kw]
    [b"answer", requestID, result]
    [b"error", requestID, failure]
    [b"decref", luid]          a RemoteReference was dropped
    [b"decache", luid]         a RemoteCache was dropped
    [b"uncache", luid]         ... and its Cacheable forgot it
    [b"didNotUnderstand", command]

The server's root object is ``luid`` ``b"root"``.  Bytes breaking these
rules, or naming classes the :class:`~fw.spread.jelly.SecurityOptions` do not
allow, close the connection (after an ``error`` answer, when it was a call).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref
from collections.abc import Callable
from typing import Any, Final

from zope.interface import Attribute, Interface, implementer

from fw.cred.credentials import IAnonymous, ICredentials, IUsernameHashedPassword
from fw.cred.portal import Portal
from fw.internet.defer import Deferred, fail, succeed
from fw.internet.protocol import ClientFactory, ServerFactory
from fw.python import log
from fw.python.failure import Failure
from fw.spread import banana
from fw.spread._pb_errors import (
    CopiedFailure,
    CopyableFailure,
    DeadReferenceError,
    Error,
    PBConnectionLost,
    ProtocolError,
    RemoteError,
    failure2Copyable,
)
from fw.spread.flavors import (
    Cacheable,
    Copyable,
    IPBRoot,
    Jellyable,
    NoSuchMethod,
    Referenceable,
    RemoteCache,
    RemoteCacheObserver,
    RemoteCopy,
    Root,
    Serializable,
    Viewable,
    ViewPoint,
    _call,
    _checkCall,
    _methodName,
    setCopierForClass,
    setCopierForClassTree,
    setFactoryForClass,
    setUnjellyableFactoryForClass,
    setUnjellyableForClass,
    setUnjellyableForClassTree,
)
from fw.spread.jelly import (
    IJellyable,
    InsecureJelly,
    IUnjellyable,
    SecurityOptions,
    globalSecurity,
    jelly,
    unjelly,
)

__all__ = [
    "MAX_BROKER_REFS",
    "PROTOCOL_VERSION",
    "AsReferenceable",
    "Avatar",
    "Broker",
    "Cacheable",
    "CopiedFailure",
    "Copyable",
    "CopyableFailure",
    "DeadReferenceError",
    "Error",
    "IJellyable",
    "IPBRoot",
    "IPerspective",
    "IUnjellyable",
    "IUsernameMD5Password",
    "Jellyable",
    "Local",
    "NoSuchMethod",
    "PBClientFactory",
    "PBConnectionLost",
    "PBServerFactory",
    "ProtocolError",
    "Referenceable",
    "RemoteCache",
    "RemoteCacheObserver",
    "RemoteCopy",
    "RemoteError",
    "RemoteMethod",
    "RemoteReference",
    "Root",
    "Serializable",
    "ViewPoint",
    "Viewable",
    "challenge",
    "failure2Copyable",
    "globalSecurity",
    "portno",
    "respond",
    "setCopierForClass",
    "setCopierForClassTree",
    "setFactoryForClass",
    "setUnjellyableFactoryForClass",
    "setUnjellyableForClass",
    "setUnjellyableForClassTree",
]

#: PB's protocol version: both sides send it first, and must agree.
PROTOCOL_VERSION: Final = 6
#: The most objects one connection may export (as Twisted): a peer cannot
#: make this side remember references without bound.
MAX_BROKER_REFS: Final = 1024
#: PB's customary port.
portno: Final = 8787

_ROOT: Final = b"root"


class IPerspective(Interface):
    """An avatar a PB client logs in to: it receives ``perspective_*`` calls."""

    def perspectiveMessageReceived(broker: Any, message: Any, args: Any, kw: Any) -> Any:
        """A call from the logged-in client: return the jellied result."""


class IUsernameMD5Password(ICredentials):
    """Credentials checkable against an MD5 hash of the password."""

    username = Attribute("The user name, as bytes.")

    def checkPassword(password: bytes) -> bool:
        """Whether ``password`` is the right one."""

    def checkMD5Password(password: bytes) -> bool:
        """Whether ``password`` is the MD5 digest of the right one."""


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def respond(challenge: bytes, password: bytes) -> bytes:
    """
    Return the answer to a login ``challenge``: the MD5 digest of the
    password's MD5 digest followed by the challenge (as Twisted's PB).
    """
    return _md5(_md5(password) + challenge)


def challenge() -> bytes:
    """Return a new random login challenge."""
    return secrets.token_bytes(16)


class RemoteMethod:
    """``ref.remoteMethod("name")``: call it to call ``ref.callRemote("name", ...)``."""

    def __init__(self, obj: RemoteReference, name: str | bytes) -> None:
        self.obj = obj
        self.name = name

    def __call__(self, *args: Any, **kw: Any) -> Deferred[Any]:
        return self.obj.callRemote(self.name, *args, **kw)


class RemoteReference(Serializable):
    """
    A reference to an object exported by the peer (a Referenceable, a
    ViewPoint or an avatar).  :meth:`callRemote` calls its methods.  Dropping
    the last copy of a reference tells the peer it may forget the object.
    """

    def __init__(
        self, perspective: Any, broker: Broker, luid: Any, doRefCount: bool | int
    ) -> None:
        self.perspective = perspective
        self.broker = broker
        self.luid = luid
        self.doRefCount = doRefCount
        self.disconnectCallbacks: list[Callable[[RemoteReference], object]] = []

    def __repr__(self) -> str:
        return f"<RemoteReference {self.luid!r} at 0x{id(self):x}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RemoteReference):
            return self.broker is other.broker and self.luid == other.luid
        return NotImplemented

    def __hash__(self) -> int:
        return hash((id(self.broker), self.luid))

    def callRemote(self, _name: str | bytes, *args: Any, **kw: Any) -> Deferred[Any]:
        """
        Call the remote object's ``remote_<_name>(*args, **kw)``.

        Returns:
            a Deferred firing with the (unjellied) result, or failing with
            the peer's error (a :class:`CopiedFailure`), with
            :class:`DeadReferenceError` when the connection is already gone,
            or with :class:`PBConnectionLost` when it goes before the answer.
            With ``pbanswer=False`` the peer does not answer and the
            Deferred fires with ``None`` at once.
        """
        return self.broker._sendMessage(b"", self.perspective, self.luid, _name, args, kw)

    def remoteMethod(self, key: str | bytes) -> RemoteMethod:
        """Return a callable that calls :meth:`callRemote` with ``key``."""
        return RemoteMethod(self, key)

    def notifyOnDisconnect(self, callback: Callable[[RemoteReference], object]) -> None:
        """Call ``callback(self)`` when the connection is lost (at once if it already is)."""
        if not callable(callback):
            raise TypeError(f"{callback!r} is not callable")
        if self.broker.disconnected:
            callback(self)
            return
        self.disconnectCallbacks.append(callback)
        if len(self.disconnectCallbacks) == 1:
            self.broker.notifyOnDisconnect(self._disconnected)

    def dontNotifyOnDisconnect(self, callback: Callable[[RemoteReference], object]) -> None:
        """Forget a callback given to :meth:`notifyOnDisconnect`."""
        if callback in self.disconnectCallbacks:
            self.disconnectCallbacks.remove(callback)
            if not self.disconnectCallbacks:
                self.broker.dontNotifyOnDisconnect(self._disconnected)

    def _disconnected(self) -> None:
        callbacks, self.disconnectCallbacks = self.disconnectCallbacks, []
        for callback in callbacks:
            callback(self)

    def jellyFor(self, jellier: Any) -> Any:
        """Sent back to its own broker as ``[b"local", luid]``."""
        if jellier.invoker is None:
            raise InsecureJelly("a RemoteReference can only be jellied by its broker")
        if jellier.invoker is not self.broker:
            raise Error("Can't send references to brokers other than their own.")
        return [b"local", self.luid]

    def unjellyFor(self, unjellier: Any, unjellyList: Any) -> Any:
        """Not used: references are rebuilt by the broker."""
        raise InsecureJelly("a RemoteReference is not rebuilt from state")

    def __del__(self) -> None:
        if getattr(self, "doRefCount", False):
            broker = self.broker
            if not broker.disconnected:
                broker.sendDecRef(self.luid)


class Local:
    """An exported object, its perspective, and how many references the peer holds."""

    def __init__(self, object: Any, perspective: Any = None) -> None:
        self.object = object
        self.perspective = perspective
        self.refcount = 1

    def __repr__(self) -> str:
        return f"<pb.Local {self.object!r} ref:{self.refcount}>"

    def incref(self) -> int:
        """Count one more reference; return the count."""
        self.refcount += 1
        return self.refcount

    def decref(self) -> int:
        """Count one reference less; return the count."""
        self.refcount -= 1
        return self.refcount


class _CacheEntry:
    """A Cacheable the peer holds a copy of."""

    __slots__ = ("cacheable", "observer", "perspective", "refcount")

    def __init__(self, cacheable: Cacheable, perspective: Any) -> None:
        self.cacheable = cacheable
        self.perspective = perspective
        self.observer: RemoteCacheObserver | None = None
        self.refcount = 1


# Commands: the number of arguments each takes.
_COMMANDS: Final = {
    b"version": 1,
    b"message": 6,
    b"cachemessage": 6,
    b"answer": 2,
    b"error": 2,
    b"decref": 1,
    b"decache": 1,
    b"uncache": 1,
    b"didNotUnderstand": 1,
}


def _validID(luid: Any) -> bool:
    return type(luid) is int or type(luid) is bytes


class Broker(banana.Banana):
    """
    One PB connection: exports local objects, tracks the peer's, sends calls
    and answers.

    Args:
        isClient: true on the connecting side.
        security: what may be unjellied from the peer.
    """

    version: int = PROTOCOL_VERSION
    factory: Any = None
    maxBrokerRefs: int = MAX_BROKER_REFS

    def __init__(
        self, isClient: int | bool = 1, security: SecurityOptions = globalSecurity
    ) -> None:
        super().__init__(isClient)
        self.security = security
        self.disconnected = False
        self.disconnects: list[Callable[[], object]] = []
        self.failures: list[Callable[[Failure], object]] = []
        self.connects: list[Callable[[], object]] = []
        self.localObjects: dict[Any, Local] = {}
        self.luids: dict[Any, Any] = {}
        self.remotelyCachedObjects: dict[Any, _CacheEntry] = {}
        self.remotelyCachedLUIDs: dict[Any, Any] = {}
        self.locallyCachedObjects: dict[Any, weakref.ref[RemoteCache]] = {}
        self._cacheReceipts: dict[Any, int] = {}
        self.waitingForAnswers: dict[int, Deferred[Any]] = {}
        self.currentRequestID = 0
        self.currentLocalID = 0
        self.serializingPerspective: Any = None
        self.unserializingPerspective: Any = None
        self.jellyMethod: Any = None
        self.jellyArgs: Any = None
        self.jellyKw: Any = None

    # -- connection events -------------------------------------------------

    def connectionReady(self) -> None:
        """The dialect is agreed: send our version, tell the factory."""
        self.sendCall(b"version", self.version)
        for notifier in self.connects:
            try:
                notifier()
            except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
                log.err(None, "Error in a PB connect notifier")
        self.connects = []
        if self.factory is not None and hasattr(self.factory, "clientConnectionMade"):
            self.factory.clientConnectionMade(self)

    def connectionFailed(self) -> None:
        """Run the callbacks given to :meth:`notifyOnFail`."""
        for notifier in self.failures:
            try:
                notifier(Failure(PBConnectionLost("connection failed")))
            except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
                log.err(None, "Error in a PB connection-failed notifier")
        self.failures = []

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        """Fail the calls waiting for answers; run the disconnect callbacks."""
        self.disconnected = True
        self._broken = True
        waiting, self.waitingForAnswers = self.waitingForAnswers, {}
        for d in waiting.values():
            d.errback(Failure(PBConnectionLost(reason)))
        for entry in list(self.remotelyCachedObjects.values()):
            if entry.observer is not None:
                try:
                    entry.cacheable.stoppedObserving(entry.perspective, entry.observer)
                except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
                    log.err(None, "Error in stoppedObserving")
        self.remotelyCachedObjects.clear()
        self.remotelyCachedLUIDs.clear()
        self.locallyCachedObjects.clear()
        self.localObjects.clear()
        self.luids.clear()
        disconnects, self.disconnects = self.disconnects, []
        for notifier in disconnects:
            try:
                notifier()
            except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
                log.err(None, "Error in a PB disconnect notifier")
        factory = self.factory
        if factory is not None and getattr(factory, "_broker", None) is self:
            factory._brokerLost(self, reason)

    def notifyOnDisconnect(self, notifier: Callable[[], object]) -> None:
        """Call ``notifier()`` when the connection is lost."""
        self.disconnects.append(notifier)

    def notifyOnFail(self, notifier: Callable[[Failure], object]) -> None:
        """Call ``notifier(failure)`` if the connection fails."""
        self.failures.append(notifier)

    def notifyOnConnect(self, notifier: Callable[[], object]) -> None:
        """Call ``notifier()`` once the connection is ready (at once if it is)."""
        if self.currentDialect is None:
            self.connects.append(notifier)
        else:
            notifier()

    def dontNotifyOnDisconnect(self, notifier: Callable[[], object]) -> None:
        """Forget a notifier given to :meth:`notifyOnDisconnect`."""
        try:
            self.disconnects.remove(notifier)
        except ValueError:
            pass

    # -- receiving ---------------------------------------------------------

    def expressionReceived(self, sexp: Any) -> None:
        """Dispatch one PB message."""
        if type(sexp) is not list or not sexp or type(sexp[0]) is not bytes:
            self._protocolViolation(ProtocolError(f"not a PB message: {sexp!r:.200}"))
            return
        command = sexp[0]
        arity = _COMMANDS.get(command)
        if arity is None:
            self.sendCall(b"didNotUnderstand", command)
            return
        if len(sexp) != arity + 1:
            self._protocolViolation(ProtocolError(f"{command!r} takes {arity} arguments"))
            return
        handler = getattr(self, "proto_" + command.decode("ascii"))
        try:
            handler(*sexp[1:])
        except (ProtocolError, InsecureJelly, banana.BananaError) as e:
            self._protocolViolation(e)

    def proto_version(self, vnum: Any) -> None:
        """The peer's protocol version: it must be ours."""
        if vnum != self.version:
            raise ProtocolError(f"Version Incompatibility: {self.version} {vnum!r:.50}")

    def proto_didNotUnderstand(self, command: Any) -> None:
        """The peer did not understand a command we sent."""
        log.msg(f"PB peer did not understand {command!r:.100}")

    def proto_message(
        self,
        requestID: Any,
        objectID: Any,
        message: Any,
        answerRequired: Any,
        netArgs: Any,
        netKw: Any,
    ) -> None:
        """A call to one of our exported objects."""
        self._recvMessage(
            self.localObjectForID, requestID, objectID, message, answerRequired, netArgs, netKw
        )

    def proto_cachemessage(
        self,
        requestID: Any,
        objectID: Any,
        message: Any,
        answerRequired: Any,
        netArgs: Any,
        netKw: Any,
    ) -> None:
        """An update to one of our RemoteCaches."""
        self._recvMessage(
            self.cachedLocallyAs, requestID, objectID, message, answerRequired, netArgs, netKw
        )

    def _recvMessage(
        self,
        find: Callable[[Any], Any],
        requestID: Any,
        objectID: Any,
        message: Any,
        answerRequired: Any,
        netArgs: Any,
        netKw: Any,
    ) -> None:
        if type(requestID) is not int or not _validID(objectID) or type(message) is not bytes:
            raise ProtocolError("malformed PB call")
        try:
            obj = find(objectID)
            if obj is None:
                raise Error("Invalid Object ID")
            netResult = obj.remoteMessageReceived(self, message, netArgs, netKw)
        except InsecureJelly as e:
            # Hostile (or at best broken) arguments: say why, then hang up.
            if answerRequired:
                self._sendError(Failure(e), requestID)
            raise
        except Error as e:
            if answerRequired:
                self._sendError(Failure(e), requestID)
        except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
            if answerRequired:
                self._sendFailure(Failure(), requestID)
            else:
                log.err(None, "Error in a PB call that needs no answer")
        else:
            if not answerRequired:
                return
            if isinstance(netResult, Deferred):
                netResult.addCallbacks(
                    self._sendAnswer,
                    self._sendFailureOrError,
                    callbackArgs=(requestID,),
                    errbackArgs=(requestID,),
                )
            else:
                self._sendAnswer(netResult, requestID)

    def _sendAnswer(self, netResult: Any, requestID: int) -> None:
        if self.disconnected:
            return
        try:
            self.sendCall(b"answer", requestID, netResult)
        except banana.BananaError:
            self._sendFailure(Failure(), requestID)

    def _sendFailureOrError(self, fail: Failure, requestID: int) -> None:
        if fail.check(Error) is None:
            self._sendFailure(fail, requestID)
        else:
            self._sendError(fail, requestID)

    def _sendFailure(self, fail: Failure, requestID: int) -> None:
        log.err(fail, "Peer will receive following PB traceback:")
        self._sendError(fail, requestID)

    def _sendError(self, fail: Failure, requestID: int) -> None:
        if self.disconnected:
            return
        unsafe = bool(getattr(self.factory, "unsafeTracebacks", False))
        copyable = failure2Copyable(fail, unsafe)
        try:
            self.sendCall(b"error", requestID, self.serialize(copyable))
        except Exception as e:  # noqa: BLE001 - user code or I/O; logged or turned into an error
            # The error itself could not be sent: send a plain one.
            plain = failure2Copyable(Failure(Error(f"unsendable error: {e}")), False)
            self.sendCall(b"error", requestID, self.serialize(plain))

    def proto_answer(self, requestID: Any, netResult: Any) -> None:
        """The answer to one of our calls."""
        d = self.waitingForAnswers.pop(requestID, None) if type(requestID) is int else None
        if d is None:
            raise ProtocolError(f"answer to unknown request {requestID!r:.50}")
        try:
            result = self.unserialize(netResult)
        except InsecureJelly as e:
            d.errback(Failure(e))
            raise
        d.callback(result)

    def proto_error(self, requestID: Any, fail: Any) -> None:
        """A failure answering one of our calls."""
        d = self.waitingForAnswers.pop(requestID, None) if type(requestID) is int else None
        if d is None:
            raise ProtocolError(f"error for unknown request {requestID!r:.50}")
        try:
            error = self.unserialize(fail)
        except InsecureJelly as e:
            d.errback(Failure(e))
            raise
        if not isinstance(error, Failure):
            error = Failure(RemoteError(b"", repr(error), ""))
        d.errback(error)

    def proto_decref(self, objectID: Any) -> None:
        """The peer dropped a reference to an object of ours."""
        if not _validID(objectID):
            raise ProtocolError("malformed decref")
        local = self.localObjects.get(objectID)
        if local is None or objectID == _ROOT:
            return
        if local.decref() <= 0:
            del self.localObjects[objectID]
            puid = local.object.processUniqueID()
            if self.luids.get(puid) == objectID:
                del self.luids[puid]

    def proto_decache(self, objectID: Any) -> None:
        """The peer dropped its copy of a Cacheable of ours."""
        if not _validID(objectID):
            raise ProtocolError("malformed decache")
        entry = self.remotelyCachedObjects.get(objectID)
        if entry is None:
            return
        entry.refcount -= 1
        if entry.refcount > 0:
            return
        del self.remotelyCachedObjects[objectID]
        puid = entry.cacheable.processUniqueID()
        if self.remotelyCachedLUIDs.get(puid) == objectID:
            del self.remotelyCachedLUIDs[puid]
        if entry.observer is not None:
            try:
                entry.cacheable.stoppedObserving(entry.perspective, entry.observer)
            except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
                log.err(None, "Error in stoppedObserving")
        self.sendCall(b"uncache", objectID)

    def proto_uncache(self, objectID: Any) -> None:
        """The peer has forgotten a Cacheable we dropped our copy of."""
        if not _validID(objectID):
            raise ProtocolError("malformed uncache")
        ref = self.locallyCachedObjects.get(objectID)
        if ref is not None and ref() is None:
            del self.locallyCachedObjects[objectID]

    # -- sending -----------------------------------------------------------

    def sendCall(self, *exp: Any) -> None:
        """Send the message ``exp`` (a command and its arguments)."""
        self.sendEncoded(list(exp))

    def sendDecRef(self, objectID: Any) -> None:
        """Tell the peer we dropped a reference to ``objectID``."""
        self.sendCall(b"decref", objectID)

    def newRequestID(self) -> int:
        """Return the next request number."""
        self.currentRequestID += 1
        return self.currentRequestID

    def newLocalID(self) -> int:
        """Return the next local object number."""
        self.currentLocalID += 1
        return self.currentLocalID

    def _sendMessage(
        self,
        prefix: bytes,
        perspective: Any,
        objectID: Any,
        message: str | bytes,
        args: Any,
        kw: dict[str, Any],
    ) -> Deferred[Any]:
        answerRequired = kw.pop("pbanswer", True)
        if self.disconnected:
            return fail(DeadReferenceError("Calling Stale Broker"))
        name = message.encode("utf-8") if isinstance(message, str) else message
        try:
            netArgs = self.serialize(tuple(args), perspective=perspective, method=message)
            netKw = self.serialize(kw, perspective=perspective, method=message)
        except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
            return fail(Failure())
        requestID = self.newRequestID()
        d: Deferred[Any] = Deferred()
        if answerRequired:
            self.waitingForAnswers[requestID] = d
        try:
            self.sendCall(
                prefix + b"message",
                requestID,
                objectID,
                name,
                1 if answerRequired else 0,
                netArgs,
                netKw,
            )
        except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
            self.waitingForAnswers.pop(requestID, None)
            return fail(Failure())
        if not answerRequired:
            d.callback(None)
        return d

    # -- jelly -------------------------------------------------------------

    def serialize(
        self,
        object: Any,
        perspective: Any = None,
        method: Any = None,
        args: Any = None,
        kw: Any = None,
    ) -> Any:
        """Jelly ``object`` for the peer (a Deferred's eventual result, for a Deferred)."""
        if isinstance(object, Deferred):
            return object.addCallback(self.serialize, perspective, method, args, kw)
        saved = (self.serializingPerspective, self.jellyMethod, self.jellyArgs, self.jellyKw)
        self.serializingPerspective = perspective
        self.jellyMethod, self.jellyArgs, self.jellyKw = method, args, kw
        try:
            return jelly(object, self.security, None, self)
        finally:
            self.serializingPerspective, self.jellyMethod, self.jellyArgs, self.jellyKw = saved

    def unserialize(self, sexp: Any, perspective: Any = None) -> Any:
        """Unjelly ``sexp`` from the peer, allowing only what :attr:`security` allows."""
        saved = self.unserializingPerspective
        self.unserializingPerspective = perspective
        try:
            return unjelly(sexp, self.security, None, self, maxDepth=self.maxDepth)
        finally:
            self.unserializingPerspective = saved

    # -- exported objects --------------------------------------------------

    def registerReference(self, object: Any) -> Any:
        """
        Export ``object`` (or count one more reference to it); return its luid.

        Raises:
            Error: the connection already exports :attr:`maxBrokerRefs` objects.
        """
        puid = object.processUniqueID()
        luid = self.luids.get(puid)
        if luid is None:
            if len(self.localObjects) >= self.maxBrokerRefs:
                raise Error("Maximum PB reference count exceeded.")
            luid = self.newLocalID()
            self.localObjects[luid] = Local(object, self.serializingPerspective)
            self.luids[puid] = luid
        else:
            self.localObjects[luid].incref()
        return luid

    def setNameForLocal(self, name: str | bytes, object: Any) -> None:
        """Export ``object`` under the name ``name`` (the root is ``b"root"``)."""
        key = name.encode("utf-8") if isinstance(name, str) else name
        self.localObjects[key] = Local(object)

    def remoteForName(self, name: str | bytes) -> RemoteReference:
        """Return a reference to the object the peer exports as ``name``."""
        key = name.encode("utf-8") if isinstance(name, str) else name
        return RemoteReference(None, self, key, 0)

    def localObjectForID(self, luid: Any) -> Any:
        """Return the exported object numbered ``luid``, or ``None``."""
        local = self.localObjects.get(luid) if _validID(luid) else None
        return None if local is None else local.object

    def _remoteReferenceFor(self, luid: Any) -> RemoteReference:
        return RemoteReference(self.unserializingPerspective, self, luid, 1)

    # -- Cacheables sent to the peer ---------------------------------------

    def cacheRemotely(self, perspective: Any, cacheable: Cacheable) -> int:
        """Record that ``cacheable`` is being sent to the peer; return its luid."""
        if len(self.remotelyCachedObjects) >= self.maxBrokerRefs:
            raise Error("Maximum PB cache count exceeded.")
        luid = self.newLocalID()
        self.remotelyCachedObjects[luid] = _CacheEntry(cacheable, perspective)
        self.remotelyCachedLUIDs[cacheable.processUniqueID()] = luid
        return luid

    def _setCacheObserver(self, luid: Any, observer: RemoteCacheObserver) -> None:
        entry = self.remotelyCachedObjects.get(luid)
        if entry is not None:
            entry.observer = observer

    def cachedRemotelyAs(self, cacheable: Any, incref: int | bool = 0) -> Any:
        """Return ``cacheable``'s luid if the peer has a copy (counting one more if ``incref``)."""
        luid = self.remotelyCachedLUIDs.get(cacheable.processUniqueID())
        if luid is not None and incref:
            self.remotelyCachedObjects[luid].refcount += 1
        return luid

    def remotelyCachedForLUID(self, luid: Any) -> Any:
        """Return the Cacheable the peer has a copy of as ``luid``, or ``None``."""
        entry = self.remotelyCachedObjects.get(luid) if _validID(luid) else None
        return None if entry is None else entry.cacheable

    # -- RemoteCaches of the peer's Cacheables ---------------------------

    def cacheLocally(self, cid: Any, instance: RemoteCache) -> None:
        """Remember ``instance``, our copy of the peer's Cacheable ``cid``."""

        def gone(ref: weakref.ref[RemoteCache], cid: Any = cid) -> None:
            count = self._cacheReceipts.pop(cid, 0)
            if self.disconnected:
                return
            for _ in range(count):
                try:
                    self.sendCall(b"decache", cid)
                except Exception:  # noqa: BLE001 - user code or I/O; logged or turned into an error
                    return

        self.locallyCachedObjects[cid] = weakref.ref(instance, gone)
        self._cacheReceipts[cid] = 1

    def cachedLocallyAs(self, cid: Any, received: bool = False) -> Any:
        """Return our copy of the peer's Cacheable ``cid``, or ``None``."""
        ref = self.locallyCachedObjects.get(cid) if _validID(cid) else None
        instance = None if ref is None else ref()
        if instance is not None and received:
            self._cacheReceipts[cid] = self._cacheReceipts.get(cid, 0) + 1
        return instance


class AsReferenceable(Referenceable):
    """Export ``object``, whose ``<messageType>MessageReceived`` takes the calls."""

    def __init__(self, object: Any, messageType: str = "remote") -> None:
        self.object = object
        self._receive = getattr(object, messageType + "MessageReceived")

    def remoteMessageReceived(self, broker: Broker, message: Any, args: Any, kw: Any) -> Any:
        """Hand the call to the wrapped object."""
        return self._receive(broker, message, args, kw)

    def processUniqueID(self) -> int:
        """The wrapped object's id: one export per object."""
        return id(self.object)


@implementer(IPerspective)
class Avatar:
    """A user's avatar: a logged-in client's calls go to its ``perspective_*`` methods."""

    def perspectiveMessageReceived(self, broker: Broker, message: Any, args: Any, kw: Any) -> Any:
        """Call ``perspective_<message>`` with the unjellied arguments."""
        args = broker.unserialize(args, self)
        kw = broker.unserialize(kw, self)
        _checkCall(args, kw)
        name = _methodName(message)
        method = getattr(self, "perspective_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: perspective_{name}")
        state = _call(method, args, kw)
        return broker.serialize(state, self, method, args, kw)


# -- logging in ------------------------------------------------------------


class _JellyableAvatarMixin:
    """Turns a portal login's result into an avatar to send."""

    portal: Portal
    broker: Broker

    def _cbLogin(self, result: tuple[Any, Any, Callable[[], object]]) -> Any:
        _, avatar, logout = result
        if not IJellyable.providedBy(avatar):
            avatar = AsReferenceable(avatar, "perspective")
        done: list[bool] = []

        def maybeLogout() -> None:
            if not done:
                done.append(True)
                logout()

        self.broker.notifyOnDisconnect(maybeLogout)
        return avatar


@implementer(IPBRoot)
class _PortalRoot:
    """The root a :class:`PBServerFactory` serves for a Portal."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def rootObject(self, broker: Broker) -> _PortalWrapper:
        return _PortalWrapper(self.portal, broker)


class _PortalWrapper(Referenceable, _JellyableAvatarMixin):
    """The root object of a login server: ``login`` and ``loginAnonymous``."""

    def __init__(self, portal: Portal, broker: Broker) -> None:
        self.portal = portal
        self.broker = broker

    def remote_login(self, username: Any) -> tuple[bytes, _PortalAuthChallenger]:
        """Start a login: return a challenge and who to answer it to."""
        c = challenge()
        return c, _PortalAuthChallenger(self.portal, self.broker, username, c)

    def remote_loginAnonymous(self, mind: Any) -> Deferred[Any]:
        """Log in anonymously; return the avatar."""
        d = self.portal.login(_anonymous(), mind, IPerspective)
        d.addCallback(self._cbLogin)
        return d


def _anonymous() -> Any:
    from fw.cred.credentials import Anonymous

    return Anonymous()


@implementer(IUsernameHashedPassword, IUsernameMD5Password)
class _PortalAuthChallenger(Referenceable, _JellyableAvatarMixin):
    """Checks the answer to a login challenge."""

    def __init__(self, portal: Portal, broker: Broker, username: Any, challenge: bytes) -> None:
        self.portal = portal
        self.broker = broker
        self.username = username
        self.challenge = challenge
        self.response = b""

    def remote_respond(self, response: Any, mind: Any) -> Deferred[Any]:
        """The client's answer: log in with it; return the avatar."""
        self.response = response if isinstance(response, bytes) else b""
        d = self.portal.login(self, mind, IPerspective)
        d.addCallback(self._cbLogin)
        return d

    def checkPassword(self, password: bytes | str) -> bool:
        """Whether the answer was made with ``password`` (in constant time)."""
        if isinstance(password, str):
            password = password.encode("utf-8")
        return hmac.compare_digest(respond(self.challenge, password), self.response)

    def checkMD5Password(self, md5Password: bytes) -> bool:
        """Whether the answer was made with the password whose MD5 digest is ``md5Password``."""
        return hmac.compare_digest(_md5(md5Password + self.challenge), self.response)


# -- factories -------------------------------------------------------------


class PBServerFactory(ServerFactory):
    """
    Serves PB: each connection's root object comes from ``root`` (an
    :class:`IPBRoot`, such as a :class:`Root`, or a cred Portal, for
    logins).

    Args:
        root: the root, or a :class:`~fw.cred.portal.Portal`.
        unsafeTracebacks: send tracebacks of errors to peers.
        security: what may be unjellied from peers.
    """

    protocol = Broker

    def __init__(
        self, root: Any, unsafeTracebacks: bool = False, security: SecurityOptions = globalSecurity
    ) -> None:
        if isinstance(root, Portal):
            root = _PortalRoot(root)
        elif not IPBRoot.providedBy(root):
            raise TypeError(f"{root!r} provides neither IPBRoot nor is a Portal")
        self.root = root
        self.unsafeTracebacks = unsafeTracebacks
        self.security = security

    def buildProtocol(self, addr: Any) -> Broker:
        """Return a server-side Broker."""
        proto = self.protocol(0, self.security)
        proto.factory = self
        return proto

    def clientConnectionMade(self, protocol: Broker) -> None:
        """Export the root object to the new connection."""
        protocol.setNameForLocal(_ROOT, self.root.rootObject(protocol))


class PBClientFactory(ClientFactory):
    """
    Connects to a PB server: :meth:`getRootObject` gives the server's root,
    :meth:`login` logs in through a server's Portal.

    Args:
        unsafeTracebacks: send tracebacks of errors to the server.
        security: what may be unjellied from the server.
    """

    protocol = Broker

    def __init__(
        self, unsafeTracebacks: bool = False, security: SecurityOptions = globalSecurity
    ) -> None:
        self.unsafeTracebacks = unsafeTracebacks
        self.security = security
        self._reset()

    def buildProtocol(self, addr: Any) -> Broker:
        """Return a client-side Broker."""
        proto = self.protocol(1, self.security)
        proto.factory = self
        return proto

    def _reset(self) -> None:
        self.rootObjectRequests: list[Deferred[RemoteReference]] = []
        self._broker: Broker | None = None
        self._root: RemoteReference | None = None

    def _failAll(self, reason: Failure) -> None:
        deferreds = self.rootObjectRequests
        self._reset()
        for d in deferreds:
            d.errback(reason)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """Fail the waiting :meth:`getRootObject` calls."""
        self._failAll(reason)

    def clientConnectionLost(self, connector: Any, reason: Failure, reconnecting: int = 0) -> None:
        """Forget the connection (failing waiting calls, unless reconnecting)."""
        if reconnecting:
            self._broker = None
            self._root = None
        else:
            self._failAll(reason)

    def _brokerLost(self, broker: Broker, reason: Any) -> None:
        self._broker = None
        self._root = None

    def clientConnectionMade(self, broker: Broker) -> None:
        """The connection is ready: hand out the root object."""
        self._broker = broker
        self._root = root = broker.remoteForName(_ROOT)
        requests, self.rootObjectRequests = self.rootObjectRequests, []
        for d in requests:
            d.callback(root)

    def getRootObject(self) -> Deferred[RemoteReference]:
        """Return a Deferred of the server's root object."""
        if self._broker is not None and not self._broker.disconnected and self._root is not None:
            return succeed(self._root)
        d: Deferred[RemoteReference] = Deferred()
        self.rootObjectRequests.append(d)
        return d

    def disconnect(self) -> None:
        """Close the connection."""
        if self._broker is not None and self._broker.transport is not None:
            self._broker.transport.loseConnection()

    def login(self, credentials: Any, client: Any = None) -> Deferred[RemoteReference]:
        """
        Log in with ``credentials`` (a username and password, or anonymous);
        return a Deferred of a reference to the avatar.

        Args:
            credentials: a :class:`~fw.cred.credentials.UsernamePassword` or
                :class:`~fw.cred.credentials.Anonymous`.
            client: a Referenceable the server's realm gets as the mind.
        """
        d = self.getRootObject()
        if IAnonymous.providedBy(credentials):
            d.addCallback(lambda root: root.callRemote("loginAnonymous", client))
        else:
            d.addCallback(self._cbSendUsername, credentials.username, credentials.password, client)
        return d

    def _cbSendUsername(
        self, root: RemoteReference, username: Any, password: Any, client: Any
    ) -> Deferred[Any]:
        d = root.callRemote("login", username)
        d.addCallback(self._cbResponse, password, client)
        return d

    def _cbResponse(self, challenger: Any, password: Any, client: Any) -> Deferred[Any]:
        if not isinstance(challenger, (tuple, list)) or len(challenger) != 2:
            raise ProtocolError("malformed login challenge")
        challengeBytes, remote = challenger
        if isinstance(password, str):
            password = password.encode("utf-8")
        if not isinstance(challengeBytes, bytes) or not isinstance(remote, RemoteReference):
            raise ProtocolError("malformed login challenge")
        return remote.callRemote("respond", respond(challengeBytes, password), client)
