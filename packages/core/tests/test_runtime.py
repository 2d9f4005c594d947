"""Tests for fw.python.runtime."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from fw.python import runtime
from fw.python.runtime import (
    Platform,
    knownPlatforms,
    platform,
    platformType,
    seconds,
    shortPythonVersion,
)


def test_short_python_version() -> None:
    version = shortPythonVersion()
    assert version == "{}.{}.{}".format(*sys.version_info[:3])
    assert len(version.split(".")) == 3


def test_running_platform() -> None:
    assert isinstance(platform, Platform)
    assert platformType == knownPlatforms[os.name]
    assert platform.getType() == platformType
    assert platform.isKnown()
    assert platform.isLinux() == sys.platform.startswith("linux")
    assert platform.isMacOSX() == (sys.platform == "darwin")
    assert platform.isWindows() == (os.name == "nt")
    assert platform.supportsThreads()


def test_seconds() -> None:
    before = time.time()
    now = seconds()
    after = time.time()
    assert before <= now <= after
    assert Platform().seconds is platform.seconds


@pytest.mark.parametrize(
    ("name", "expected"),
    [("nt", "win32"), ("ce", "win32"), ("posix", "posix"), ("java", "java"), ("riscos", None)],
)
def test_types(name: str, expected: str | None) -> None:
    described = Platform(name)
    assert described.getType() == expected
    assert described.isKnown() == (expected is not None)
    assert described.isWindows() == (expected == "win32")
    assert described.isWinNT() == (expected == "win32")


def test_platform_names() -> None:
    assert Platform("posix", "darwin").isMacOSX()
    assert not Platform("posix", "darwin").isLinux()
    assert Platform("posix", "linux").isLinux()
    assert Platform("posix", "linux2").isLinux()
    assert not Platform("posix", "freebsd14").isLinux()
    assert not Platform("posix", "linux").isVista()


def test_is_docker(tmp_path: Path) -> None:
    cgroup = tmp_path / "cgroup"
    cgroup.write_bytes(b"12:cpu,cpuacct:/docker/4fe6a1b2\n11:memory:/docker/4fe6a1b2\n")
    linux = Platform("posix", "linux")
    assert linux.isDocker(_initCGroupLocation=str(cgroup))
    cgroup.write_bytes(b"12:cpu,cpuacct:/user.slice\n0::/init.scope\n")
    assert not linux.isDocker(_initCGroupLocation=str(cgroup))
    assert not linux.isDocker(_initCGroupLocation=str(tmp_path / "missing"))
    assert not Platform("posix", "darwin").isDocker(_initCGroupLocation=str(cgroup))


def test_symlinks() -> None:
    if os.name == "posix":
        assert platform._supportsSymlinks()
    assert not Platform("posix", "darwin").supportsINotify()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux-only")
def test_inotify_on_linux() -> None:
    assert platform.supportsINotify()


def test_public_surface() -> None:
    for name in runtime.__all__:
        assert hasattr(runtime, name)
    assert Platform.__doc__
