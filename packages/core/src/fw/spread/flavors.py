"""
The flavors of objects Perspective Broker sends, and how each crosses the wire.

- a :class:`Referenceable` goes as ``[b"remote", luid]``; the peer gets a
  ``RemoteReference``;
- a ``RemoteReference`` going back home goes as ``[b"local", luid]``; the
  peer gets the original object;
- a :class:`Viewable` goes as ``[b"remote", luid]`` of a ViewPoint; the
  peer gets a ``RemoteReference``;
- a :class:`Copyable` goes as ``[b"module.Class", state]``; the peer gets a
  :class:`RemoteCopy`;
- a :class:`Cacheable` goes as ``[b"module.Class", luid, state]``, then
  ``[b"cached", luid]``; the peer gets a :class:`RemoteCache`, kept up to
  date;
- a :class:`RemoteCache` going back home goes as ``[b"lcache", luid]``; the
  peer gets the original Cacheable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zope.interface import Interface, implementer

from fw.internet.defer import Deferred, ensureDeferred, maybeDeferred
from fw.python.reflect import qual
from fw.spread.jelly import (
    Jellyable,
    MalformedJelly,
    Unjellyable,
    _registerTypeHandler,
    _Unjellier,
    getInstanceState,
    setInstanceState,
    setUnjellyableFactoryForClass,
    setUnjellyableForClass,
    setUnjellyableForClassTree,
)

if TYPE_CHECKING:
    from fw.spread.pb import Broker

__all__ = [
    "Cacheable",
    "Copyable",
    "IPBRoot",
    "Jellyable",
    "NoSuchMethod",
    "Referenceable",
    "RemoteCache",
    "RemoteCacheMethod",
    "RemoteCacheObserver",
    "RemoteCopy",
    "Root",
    "Serializable",
    "Unjellyable",
    "ViewPoint",
    "Viewable",
    "setCopierForClass",
    "setCopierForClassTree",
    "setFactoryForClass",
    "setUnjellyableFactoryForClass",
    "setUnjellyableForClass",
    "setUnjellyableForClassTree",
]

remote_atom = b"remote"
local_atom = b"local"
cached_atom = b"cached"
lcache_atom = b"lcache"

#: Twisted's older names for the registration functions.
setCopierForClass = setUnjellyableForClass
setCopierForClassTree = setUnjellyableForClassTree
setFactoryForClass = setUnjellyableFactoryForClass


class NoSuchMethod(AttributeError):
    """The remote object has no method of the name called."""


class IPBRoot(Interface):
    """Gives each new connection its root object."""

    def rootObject(broker: Any) -> Any:
        """Return the root object (a Referenceable) for ``broker``'s connection."""


def _call(method: Any, args: Any, kw: Any) -> Any:
    # Call a remote_/view_/observe_/perspective_ method; coroutine functions
    # become Deferreds.
    result = method(*args, **kw)
    if hasattr(result, "__await__") and not isinstance(result, Deferred):
        return ensureDeferred(result)
    return result


def _methodName(message: Any) -> str:
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace")
    return str(message)


def _checkCall(args: Any, kw: Any) -> None:
    if not isinstance(args, (tuple, list)) or not isinstance(kw, dict):
        raise MalformedJelly("a call's arguments are a tuple and a dictionary")
    for key in kw:
        if not isinstance(key, str):
            raise MalformedJelly("keyword argument names must be strings")


class Serializable(Jellyable):
    """An object PB sends specially (the base of every flavor)."""

    def processUniqueID(self) -> int:
        """Return an id unique to this object in this process."""
        return id(self)


class Referenceable(Serializable):
    """
    Sent by reference: the peer gets a ``RemoteReference`` whose
    ``callRemote("name", ...)`` calls this object's ``remote_name(...)``.
    """

    perspective: Any = None

    def remoteMessageReceived(self, broker: Broker, message: Any, args: Any, kw: Any) -> Any:
        """
        A peer called ``message``: call ``remote_<message>`` with the
        unjellied arguments; return the jellied result (or a Deferred of it).

        Raises:
            NoSuchMethod: there is no such method.
        """
        args = broker.unserialize(args)
        kw = broker.unserialize(kw)
        _checkCall(args, kw)
        name = _methodName(message)
        method = getattr(self, "remote_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: remote_{name}")
        state = _call(method, args, kw)
        return broker.serialize(state, self.perspective)

    def jellyFor(self, jellier: Any) -> Any:
        """Send a reference (``[b"remote", luid]``) to this object."""
        if jellier.invoker is None:
            return getInstanceState(self, jellier)
        return [remote_atom, jellier.invoker.registerReference(self)]


@implementer(IPBRoot)
class Root(Referenceable):
    """A root object: every connection gets this same object."""

    def rootObject(self, broker: Any) -> Any:
        """Return ``self``."""
        return self


class ViewPoint(Referenceable):
    """
    A :class:`Viewable` as one perspective sees it: calls to it become
    ``view_<name>(perspective, ...)`` on the Viewable.
    """

    def __init__(self, perspective: Any, object: Any) -> None:
        self.perspective = perspective
        self.object = object

    def processUniqueID(self) -> Any:
        """One id per (perspective, object) pair."""
        return (id(self.perspective), id(self.object))

    def remoteMessageReceived(self, broker: Broker, message: Any, args: Any, kw: Any) -> Any:
        """Call ``view_<message>(perspective, ...)`` on the Viewable."""
        args = broker.unserialize(args, self.perspective)
        kw = broker.unserialize(kw, self.perspective)
        _checkCall(args, kw)
        name = _methodName(message)
        method = getattr(self.object, "view_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: view_{name}")
        state = _call(method, (self.perspective, *args), kw)
        return broker.serialize(state, self.perspective)


class Viewable(Serializable):
    """
    Sent by reference, like a :class:`Referenceable`, but its ``view_*``
    methods receive the caller's perspective (avatar) as first argument.
    """

    def jellyFor(self, jellier: Any) -> Any:
        """Send a ViewPoint of the perspective being served."""
        if jellier.invoker is None:
            return getInstanceState(self, jellier)
        return ViewPoint(jellier.invoker.serializingPerspective, self).jellyFor(jellier)


class Copyable(Serializable):
    """
    Sent by copy: the peer rebuilds a :class:`RemoteCopy` registered for
    this class's type name with :func:`setUnjellyableForClass`.
    """

    def getStateToCopy(self) -> Any:
        """Return the state to send: by default a copy of ``__dict__``."""
        return dict(self.__dict__)

    def getStateToCopyFor(self, perspective: Any) -> Any:
        """Return the state to send to ``perspective``: :meth:`getStateToCopy`."""
        return self.getStateToCopy()

    def getTypeToCopy(self) -> bytes | str:
        """Return the type name sent: the class's fully qualified name."""
        return qual(type(self)).encode("utf-8")

    def getTypeToCopyFor(self, perspective: Any) -> bytes | str:
        """Return the type name sent to ``perspective``: :meth:`getTypeToCopy`."""
        return self.getTypeToCopy()

    def jellyFor(self, jellier: Any) -> Any:
        """Send ``[type name, state]``."""
        if jellier.invoker is None:
            return getInstanceState(self, jellier)
        perspective = jellier.invoker.serializingPerspective
        typeName: bytes | str = self.getTypeToCopyFor(perspective)
        if isinstance(typeName, str):
            typeName = typeName.encode("utf-8")
        state = self.getStateToCopyFor(perspective)
        sxp = jellier.prepare(self)
        sxp.extend([typeName, jellier.jelly(state)])
        return jellier.preserve(self, sxp)


class RemoteCopy(Unjellyable):
    """The peer's copy of a :class:`Copyable`."""

    def setCopyableState(self, state: Any) -> None:
        """Take the state sent: by default it becomes ``__dict__``."""
        if not isinstance(state, dict):
            raise MalformedJelly(f"the state of a {type(self).__name__} is not a dictionary")
        self.__dict__ = state

    def unjellyFor(self, unjellier: Any, jellyList: Any) -> Any:
        """Rebuild from ``[type name, state]``."""
        if unjellier.invoker is None:
            return setInstanceState(self, unjellier, jellyList)
        if len(jellyList) != 2:
            raise MalformedJelly("a copy is [type name, state]")
        self.setCopyableState(unjellier.unjelly(jellyList[1]))
        return self


class Cacheable(Copyable):
    """
    Sent by copy once per connection, then kept up to date: the
    :class:`RemoteCacheObserver` given to
    :meth:`getStateToCacheAndObserveFor` calls ``observe_*`` methods of the
    peer's :class:`RemoteCache`.
    """

    def getStateToCacheAndObserveFor(self, perspective: Any, observer: RemoteCacheObserver) -> Any:
        """
        Return the state to send, and remember ``observer`` to send it
        updates (``observer.callRemote("name", ...)``).  By default the
        state is :meth:`getStateToCopyFor` and the observer is forgotten.
        """
        return self.getStateToCopyFor(perspective)

    def stoppedObserving(self, perspective: Any, observer: RemoteCacheObserver) -> None:
        """The peer's copy is gone: stop sending ``observer`` updates."""

    def jellyFor(self, jellier: Any) -> Any:
        """Send the state the first time, ``[b"cached", luid]`` after."""
        if jellier.invoker is None:
            return getInstanceState(self, jellier)
        broker = jellier.invoker
        luid = broker.cachedRemotelyAs(self, 1)
        if luid is not None:
            return [cached_atom, luid]
        perspective = broker.serializingPerspective
        luid = broker.cacheRemotely(perspective, self)
        observer = RemoteCacheObserver(broker, self, perspective)
        typeName: bytes | str = self.getTypeToCopyFor(perspective)
        if isinstance(typeName, str):
            typeName = typeName.encode("utf-8")
        state = self.getStateToCacheAndObserveFor(perspective, observer)
        broker._setCacheObserver(luid, observer)
        sxp = jellier.prepare(self)
        sxp.extend([typeName, luid, jellier.jelly(state)])
        return jellier.preserve(self, sxp)


class RemoteCache(RemoteCopy):
    """
    The peer's copy of a :class:`Cacheable`: the Cacheable's observer calls
    its ``observe_*`` methods.  Sent back, it becomes the Cacheable again.
    """

    broker: Any = None
    luid: Any = None

    def remoteMessageReceived(self, broker: Broker, message: Any, args: Any, kw: Any) -> Any:
        """Call ``observe_<message>`` with the unjellied arguments."""
        args = broker.unserialize(args)
        kw = broker.unserialize(kw)
        _checkCall(args, kw)
        name = _methodName(message)
        method = getattr(self, "observe_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: observe_{name}")
        state = _call(method, args, kw)
        return broker.serialize(state, None)

    def jellyFor(self, jellier: Any) -> Any:
        """Send ``[b"lcache", luid]``: the peer finds its Cacheable."""
        if jellier.invoker is None or jellier.invoker is not self.broker:
            from fw.spread.pb import Error

            raise Error("a RemoteCache can only be sent back to the broker it came from")
        return [lcache_atom, self.luid]

    def unjellyFor(self, unjellier: Any, jellyList: Any) -> Any:
        """Rebuild from ``[type name, luid, state]``."""
        if unjellier.invoker is None:
            return setInstanceState(self, unjellier, jellyList)
        if len(jellyList) != 3:
            raise MalformedJelly("a cache is [type name, luid, state]")
        broker = unjellier.invoker
        luid = jellyList[1]
        self.broker = broker
        self.luid = luid
        broker.cacheLocally(luid, self)
        self.setCopyableState(unjellier.unjelly(jellyList[2]))
        # setCopyableState may have replaced __dict__.
        self.broker = broker
        self.luid = luid
        return self

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


class RemoteCacheObserver:
    """
    Sends updates to one peer's :class:`RemoteCache`:
    ``observer.callRemote("name", ...)`` calls its ``observe_name(...)``.
    """

    def __init__(self, broker: Broker, cached: Cacheable, perspective: Any) -> None:
        self.broker = broker
        self.cached = cached
        self.perspective = perspective

    def __repr__(self) -> str:
        return f"<RemoteCacheObserver({self.broker!r}, {self.cached!r}, {self.perspective!r})>"

    def __hash__(self) -> int:
        return hash((id(self.broker), id(self.perspective), id(self.cached)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteCacheObserver):
            return NotImplemented
        return (self.broker, self.perspective, self.cached) == (
            other.broker,
            other.perspective,
            other.cached,
        )

    def callRemote(self, _name: str | bytes, *args: Any, **kw: Any) -> Deferred[Any]:
        """Call ``observe_<_name>`` on the peer's copy; return a Deferred of the result."""
        cacheID = self.broker.cachedRemotelyAs(self.cached)
        if cacheID is None:
            from fw.spread.pb import NoSuchMethod as _Missing

            return maybeDeferred(_raise, _Missing("the peer no longer has a copy of this object"))
        return self.broker._sendMessage(b"cache", self.perspective, cacheID, _name, args, kw)

    def remoteMethod(self, key: str) -> RemoteCacheMethod:
        """Return a callable that calls :meth:`callRemote` with ``key``."""
        return RemoteCacheMethod(key, self.broker, self.cached, self.perspective)


class RemoteCacheMethod:
    """``observer.remoteMethod("name")``: call it to call ``observe_name`` remotely."""

    def __init__(self, name: str, broker: Broker, cached: Cacheable, perspective: Any) -> None:
        self.name = name
        self.broker = broker
        self.cached = cached
        self.perspective = perspective

    def __call__(self, *args: Any, **kw: Any) -> Deferred[Any]:
        return RemoteCacheObserver(self.broker, self.cached, self.perspective).callRemote(
            self.name, *args, **kw
        )


def _raise(error: Exception) -> Any:
    raise error


# PB's reference types, rebuilt by the broker doing the unjellying.


def _broker(unjellier: _Unjellier) -> Broker:
    if unjellier.invoker is None:
        raise MalformedJelly("PB references can only be unjellied by a PB broker")
    return unjellier.invoker  # type: ignore[no-any-return]


def _luid(sexp: list[Any]) -> Any:
    if len(sexp) != 2 or type(sexp[1]) not in (int, bytes):
        raise MalformedJelly(f"malformed {sexp[0]!r} reference")
    return sexp[1]


def _unjellyRemote(unjellier: _Unjellier, sexp: list[Any]) -> Any:
    broker = _broker(unjellier)
    return broker._remoteReferenceFor(_luid(sexp))


def _unjellyLocal(unjellier: _Unjellier, sexp: list[Any]) -> Any:
    broker = _broker(unjellier)
    obj = broker.localObjectForID(_luid(sexp))
    if obj is None:
        raise MalformedJelly(f"no local object {sexp[1]!r}")
    if isinstance(obj, ViewPoint):
        return obj.object
    return obj


def _unjellyCached(unjellier: _Unjellier, sexp: list[Any]) -> Any:
    broker = _broker(unjellier)
    cache = broker.cachedLocallyAs(_luid(sexp), received=True)
    if cache is None:
        raise MalformedJelly(f"no cached object {sexp[1]!r}")
    return cache


def _unjellyLCache(unjellier: _Unjellier, sexp: list[Any]) -> Any:
    broker = _broker(unjellier)
    obj = broker.remotelyCachedForLUID(_luid(sexp))
    if obj is None:
        raise MalformedJelly(f"no cacheable object {sexp[1]!r}")
    return obj


_registerTypeHandler(remote_atom, _unjellyRemote)
_registerTypeHandler(local_atom, _unjellyLocal)
_registerTypeHandler(cached_atom, _unjellyCached)
_registerTypeHandler(lcache_atom, _unjellyLCache)
