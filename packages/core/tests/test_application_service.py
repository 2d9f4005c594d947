"""fw.application.service: Service, MultiService, Application, ServiceMaker, loadApplication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from zope.interface.verify import verifyObject

from fw.application import service
from fw.application.service import (
    Application,
    IProcess,
    IService,
    IServiceCollection,
    IServiceMaker,
    MultiService,
    Service,
    ServiceMaker,
    loadApplication,
)
from fw.internet.defer import Deferred
from fw.plugin import pluginGroup


class Recorder(Service):
    """Records its lifecycle calls in a shared list."""

    def __init__(self, name: str, log: list[str], stopWith: Deferred[None] | None = None) -> None:
        self.setName(name)
        self.log = log
        self.stopWith = stopWith

    def privilegedStartService(self) -> None:
        self.log.append(f"privileged {self.name}")
        super().privilegedStartService()

    def startService(self) -> None:
        self.log.append(f"start {self.name}")
        super().startService()

    def stopService(self) -> Deferred[None] | None:
        self.log.append(f"stop {self.name}")
        super().stopService()
        return self.stopWith


def test_serviceProvidesIService() -> None:
    s = Service()
    assert verifyObject(IService, s)
    assert not s.running
    s.startService()
    assert s.running
    assert s.stopService() is None
    assert not s.running


def test_multiServiceStartsInOrderStopsInReverse() -> None:
    log: list[str] = []
    parent = MultiService()
    for name in "abc":
        Recorder(name, log).setServiceParent(parent)
    parent.privilegedStartService()
    parent.startService()
    d = parent.stopService()
    assert log == [
        "privileged a",
        "privileged b",
        "privileged c",
        "start a",
        "start b",
        "start c",
        "stop c",
        "stop b",
        "stop a",
    ]
    assert d.called
    assert d.result is None
    assert all(not s.running for s in parent)


def test_multiServiceStopWaitsForEachChild() -> None:
    log: list[str] = []
    parent = MultiService()
    slowA: Deferred[None] = Deferred()
    slowC: Deferred[None] = Deferred()
    Recorder("a", log, slowA).setServiceParent(parent)
    Recorder("b", log).setServiceParent(parent)
    Recorder("c", log, slowC).setServiceParent(parent)
    parent.startService()
    log.clear()
    done = parent.stopService()
    # c's stop has not finished: b waits.
    assert log == ["stop c"]
    assert not done.called
    slowC.callback(None)
    assert log == ["stop c", "stop b", "stop a"]
    assert not done.called
    slowA.callback(None)
    assert done.called


def test_multiServiceStopReportsFirstErrorAfterStoppingAll() -> None:
    log: list[str] = []
    parent = MultiService()

    class Failing(Recorder):
        def stopService(self) -> Deferred[None] | None:
            super().stopService()
            raise RuntimeError("cannot stop")

    Recorder("a", log).setServiceParent(parent)
    Failing("b", log).setServiceParent(parent)
    parent.startService()
    done = parent.stopService()
    failures: list[Any] = []
    done.addErrback(failures.append)
    assert log[-2:] == ["stop b", "stop a"]
    assert failures[0].check(RuntimeError)


def test_namedServices() -> None:
    parent = MultiService()
    child = Service()
    child.setName("web")
    child.setServiceParent(parent)
    assert parent.getServiceNamed("web") is child
    other = Service()
    other.setName("web")
    with pytest.raises(RuntimeError):
        other.setServiceParent(parent)
    with pytest.raises(RuntimeError):
        child.setName("renamed")
    with pytest.raises(KeyError):
        parent.getServiceNamed("nope")


def test_addingToRunningParentStartsChild() -> None:
    log: list[str] = []
    parent = MultiService()
    parent.startService()
    Recorder("late", log).setServiceParent(parent)
    assert log == ["privileged late", "start late"]


def test_disownServiceParentStopsAndReturnsDeferred() -> None:
    log: list[str] = []
    parent = MultiService()
    slow: Deferred[None] = Deferred()
    child = Recorder("x", log, slow)
    child.setServiceParent(parent)
    parent.startService()
    d = child.disownServiceParent()
    assert child.parent is None
    assert list(parent) == []
    assert "x" not in parent.namedServices
    assert log[-1] == "stop x"
    assert d is not None
    assert not d.called
    slow.callback(None)
    assert d.called
    # Disowning again, or without a parent, does nothing.
    assert child.disownServiceParent() is None


def test_disownWhenParentNotRunningDoesNotStop() -> None:
    log: list[str] = []
    parent = MultiService()
    child = Recorder("x", log)
    child.setServiceParent(parent)
    assert child.disownServiceParent() is None
    assert log == []


def test_reparentingMovesTheService() -> None:
    one, two = MultiService(), MultiService()
    child = Service()
    child.setServiceParent(one)
    child.setServiceParent(two)
    assert list(one) == []
    assert list(two) == [child]


def test_applicationIsComponentized() -> None:
    application = Application("app", uid=1000, gid=1001)
    root = IService(application)
    assert isinstance(root, MultiService)
    assert root.name == "app"
    assert IServiceCollection(application) is root
    process = IProcess(application)
    assert (process.uid, process.gid, process.processName) == (1000, 1001, "app")
    child = Service()
    child.setServiceParent(application)
    assert list(root) == [child]
    assert child.parent is root


def test_applicationDefaultsHaveNoIds() -> None:
    process = IProcess(Application("x"))
    assert process.uid is None
    assert process.gid is None


def test_loadApplication(tmp_path: Path) -> None:
    tac = tmp_path / "app.tac"
    tac.write_text(
        "from fw.application import service\napplication = service.Application('loaded')\n"
    )
    assert IService(loadApplication(str(tac))).name == "loaded"
    empty = tmp_path / "empty.tac"
    empty.write_text("x = 1\n")
    with pytest.raises(ValueError, match="application"):
        loadApplication(str(empty))
    with pytest.raises(ValueError, match=r"pickle|Python"):
        loadApplication(str(tac), kind="pickle")


def test_serviceMakerImportsLazily() -> None:
    maker = ServiceMaker("fw finger", "fw.application.tap.finger", "finger", "finger")
    assert verifyObject(IServiceMaker, maker)
    assert maker.tapname == "finger"
    from fw.application.tap import finger

    assert maker.options is finger.Options
    assert "finger" in repr(maker)


def test_serviceMakerGroup() -> None:
    assert pluginGroup(IServiceMaker) == "fw.service_makers"


def test_publicNames() -> None:
    for name in service.__all__:
        assert getattr(service, name).__doc__
