"""
Services: the pieces of a long-running program that are started and stopped.

A *service* is something with a start and a stop: a listening port, a timer,
a connection kept open.  Services form a tree: a :class:`MultiService` holds
children, starts them in the order they were added and stops them in reverse
order, waiting for each one's stop to finish.  The root of the tree is an
:class:`Application`, which ``fwd`` runs::

    from fw.application import internet, service

    application = service.Application("finger")
    internet.TCPServer(8079, FingerFactory()).setServiceParent(application)

Starting happens in two steps: :meth:`IService.privilegedStartService` runs
while the process may still hold root privileges (to bind ports below
1024), then ``fwd`` drops them and calls :meth:`IService.startService`.

``fwd NAME`` sub-commands are :class:`IServiceMaker` plugins, found in the
``fw.service_makers`` entry-point group (see :mod:`fw.plugin`).
"""

from __future__ import annotations

import importlib
import os
import runpy
from collections.abc import Callable, Iterator
from typing import Any, cast

from zope.interface import Attribute, Interface, implementer

from fw.internet.defer import Deferred, maybeDeferred
from fw.plugin import IPlugin, declarePluginGroup
from fw.python import components, usage
from fw.python.failure import Failure

__all__ = [
    "Application",
    "IProcess",
    "IService",
    "IServiceCollection",
    "IServiceMaker",
    "MultiService",
    "Process",
    "Service",
    "ServiceMaker",
    "loadApplication",
]


@declarePluginGroup("fw.service_makers")
class IServiceMaker(Interface):
    """
    A ``fwd`` sub-command: makes a service from command-line options.

    Offered as a plugin in the ``fw.service_makers`` entry-point group, whose
    entry point's name should be the ``tapname``.
    """

    tapname: str = Attribute("The sub-command's name, as in ``fwd finger``.")
    description: str = Attribute("A one-line description, for ``fwd --help``.")
    options: Callable[[], usage.Options] = Attribute(
        "A callable returning a new :class:`~fw.python.usage.Options` for the sub-command."
    )

    def makeService(options: usage.Options) -> IService:
        """Make the service to run from the parsed ``options``."""


@implementer(IServiceMaker, IPlugin)
class ServiceMaker:
    """
    An :class:`IServiceMaker` whose options and service come from a module.

    The module is imported only when the options or the service are needed,
    so listing plugins stays cheap.  It defines ``Options`` (a
    :class:`~fw.python.usage.Options` subclass) and ``makeService(options)``.

    Args:
        name: a human-readable name.
        module: the dotted name of the module.
        description: a one-line description.
        tapname: the sub-command's name.
    """

    def __init__(self, name: str, module: str, description: str, tapname: str) -> None:
        self.name = name
        self.module = module
        self.description = description
        self.tapname = tapname

    def __repr__(self) -> str:
        return f"<ServiceMaker {self.tapname!r} from {self.module}>"

    @property
    def options(self) -> Callable[[], usage.Options]:
        """The module's ``Options`` class."""
        return cast("Callable[[], usage.Options]", importlib.import_module(self.module).Options)

    def makeService(self, options: usage.Options) -> IService:
        """Call the module's ``makeService(options)``."""
        made = importlib.import_module(self.module).makeService(options)
        return cast("IService", made)


class IService(Interface):
    """
    A service: something started when the program starts and stopped when it
    stops.

    Lifecycle: ``setServiceParent`` -> ``privilegedStartService`` ->
    ``startService`` -> ``stopService`` [-> ``disownServiceParent``].
    """

    name: str | None = Attribute("The service's name, unique among its siblings, or None.")
    running: bool = Attribute("Whether the service is started and not stopped.")
    parent: IServiceCollection | None = Attribute("The collection holding this service, or None.")

    def setName(name: str) -> None:
        """
        Set the service's name.

        Raises:
            RuntimeError: the service already has a parent.
        """

    def setServiceParent(parent: IServiceCollection) -> None:
        """
        Add the service to ``parent`` (which starts it if it is running).

        Raises:
            RuntimeError: the service already has a parent.
        """

    def disownServiceParent() -> Deferred[None] | None:
        """Remove the service from its parent, stopping it; may return a Deferred."""

    def privilegedStartService() -> None:
        """Do what needs the start-up privileges (bind low ports), before they are dropped."""

    def startService() -> None:
        """Start the service."""

    def stopService() -> Deferred[None] | None:
        """Stop the service; return a Deferred when stopping takes time."""


class IServiceCollection(Interface):
    """A collection of named and unnamed services."""

    def getServiceNamed(name: str) -> IService:
        """
        Return the child service called ``name``.

        Raises:
            KeyError: there is none.
        """

    def __iter__() -> Iterator[IService]:
        """Iterate over the child services, in the order they were added."""

    def addService(service: IService) -> None:
        """
        Add a child service, starting it if the collection is running.

        Raises:
            RuntimeError: a child already has that name.
        """

    def removeService(service: IService) -> Deferred[None] | None:
        """Remove a child service, stopping it if it runs; may return a Deferred."""


class IProcess(Interface):
    """What the process running the application should be: its user and group."""

    processName: str | None = Attribute("The process's name, shown by ``ps`` if supported.")
    uid: int | None = Attribute("The user id to run as, or None for the current one.")
    gid: int | None = Attribute("The group id to run as, or None for the current one.")


@implementer(IService)
class Service:
    """
    A base for services: keeps the name, the parent and the running flag.

    Subclasses override :meth:`startService` and :meth:`stopService` and call
    the base implementation.
    """

    running: bool = False
    name: str | None = None
    parent: IServiceCollection | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("running", None)
        return state

    def setName(self, name: str) -> None:
        """Set the name (before the service gets a parent)."""
        if self.parent is not None:
            raise RuntimeError("cannot change the name of a service that has a parent")
        self.name = name

    def setServiceParent(self, parent: IServiceCollection) -> None:
        """Add this service to ``parent``, adapting it to :class:`IServiceCollection`."""
        if self.parent is not None:
            self.disownServiceParent()
        collection = IServiceCollection(parent)
        self.parent = collection
        collection.addService(self)

    def disownServiceParent(self) -> Deferred[None] | None:
        """Remove this service from its parent (stopping it if it runs)."""
        parent = self.parent
        if parent is None:
            return None
        result = parent.removeService(self)
        self.parent = None
        return result

    def privilegedStartService(self) -> None:
        """Do nothing: override to use the start-up privileges."""

    def startService(self) -> None:
        """Mark the service running."""
        self.running = True

    def stopService(self) -> Deferred[None] | None:
        """Mark the service stopped."""
        self.running = False
        return None

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name is not None else ""
        return f"<{type(self).__name__}{name} at 0x{id(self):x}>"


@implementer(IServiceCollection)
class MultiService(Service):
    """
    A service made of child services.

    Children start in the order they were added and stop in the reverse
    order; :meth:`stopService` returns a Deferred that fires when every
    child's stop (and the Deferreds they returned) has finished.  A child
    stopping before the next one starts to stop is what a server needs:
    the last service added (say, a port) goes first.
    """

    def __init__(self) -> None:
        self.services: list[IService] = []
        self.namedServices: dict[str, IService] = {}

    def privilegedStartService(self) -> None:
        """Call every child's ``privilegedStartService``, in order."""
        Service.privilegedStartService(self)
        for service in list(self):
            service.privilegedStartService()

    def startService(self) -> None:
        """Start every child, in order."""
        Service.startService(self)
        for service in list(self):
            service.startService()

    def stopService(self) -> Deferred[None]:
        """
        Stop every child, last added first, each after the previous child's
        stop has finished.

        Returns:
            A Deferred firing once all children have stopped; it fails with
            the first child's error, after every child was stopped.
        """
        Service.stopService(self)
        children = list(self)
        children.reverse()
        errors: list[Failure] = []
        done: Deferred[None] = Deferred()

        def stopChild(child: IService) -> bool:
            # Stop one child; return whether it finished at once.
            state = {"synchronous": True, "finished": False}

            def finished(result: object) -> None:
                if isinstance(result, Failure):
                    errors.append(result)
                state["finished"] = True
                if not state["synchronous"]:
                    stopNext()

            maybeDeferred(child.stopService).addBoth(finished)
            state["synchronous"] = False
            return state["finished"]

        def stopNext() -> None:
            while children:
                if not stopChild(children.pop(0)):
                    return
            if errors:
                done.errback(errors[0])
            else:
                done.callback(None)

        stopNext()
        return done

    def getServiceNamed(self, name: str) -> IService:
        """The child called ``name`` (raises ``KeyError`` when there is none)."""
        return self.namedServices[name]

    def __iter__(self) -> Iterator[IService]:
        return iter(self.services)

    def addService(self, service: IService) -> None:
        """Add ``service``; start it (privileged part included) if we run."""
        if service.name is not None:
            if service.name in self.namedServices:
                raise RuntimeError(f"cannot have two services named {service.name!r}")
            self.namedServices[service.name] = service
        self.services.append(service)
        if self.running:
            # The privileged part is called too: a service added late still
            # gets to bind its ports (without privileges by now, usually).
            service.privilegedStartService()
            service.startService()

    def removeService(self, service: IService) -> Deferred[None] | None:
        """Remove ``service``, stopping it if we run; return its stop's Deferred."""
        if service.name is not None:
            del self.namedServices[service.name]
        self.services.remove(service)
        if self.running:
            stop: Callable[[], Any] = service.stopService
            stopping: Deferred[None] = maybeDeferred(stop)
            return stopping
        return None


@implementer(IProcess)
class Process:
    """
    The process the application runs in: its user and group ids.

    Args:
        uid: the user id to run as, or None.
        gid: the group id to run as, or None.
    """

    processName: str | None = None

    def __init__(self, uid: int | None = None, gid: int | None = None) -> None:
        self.uid = uid
        self.gid = gid


def Application(name: str, uid: int | None = None, gid: int | None = None) -> Any:
    """
    Make the root of an application: a componentized object providing
    :class:`IService`, :class:`IServiceCollection` and :class:`IProcess`
    through its components.

    ``fwd`` runs the object called ``application`` in a ``.tac`` file::

        application = service.Application("myapp")
        myService.setServiceParent(application)

    Args:
        name: the application's name (its root service's name and its
            process name).
        uid: the user id to run as (``fwd -u`` overrides it).
        gid: the group id to run as (``fwd -g`` overrides it).

    Returns:
        A :class:`~fw.python.components.Componentized`; use
        ``IService(application)`` to reach its root service.
    """
    application = components.Componentized()
    root = MultiService()
    application.setComponent(IService, root)
    application.setComponent(IServiceCollection, root)
    process = Process(uid, gid)
    application.setComponent(IProcess, process)
    root.setName(name)
    process.processName = name
    return application


def loadApplication(filename: str, kind: str = "python") -> Any:
    """
    Load the ``application`` a ``.tac`` (Python) file defines.

    Only Python files are read: Twisted's pickled ``.tap`` files are not
    supported (``fwd --config`` replaces them, without running stored code).

    Args:
        filename: the file to run.
        kind: ``"python"`` (the only kind).

    Raises:
        ValueError: ``kind`` is not ``"python"``, or the file defines no
            ``application``.
    """
    if kind not in ("python", "py", "tac"):
        raise ValueError(f"cannot load an application of kind {kind!r}: only Python files")
    namespace = runpy.run_path(os.fspath(filename), run_name="__fwd__")
    if "application" not in namespace:
        raise ValueError(f"{filename} does not define a variable called 'application'")
    return namespace["application"]
