"""Implementation of :mod:`fw.python.runtime`: facts about the running platform."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

#: ``os.name`` values fw knows, mapped to the platform type they mean.
knownPlatforms: Final[Mapping[str, str]] = MappingProxyType(
    {
        "nt": "win32",
        "ce": "win32",
        "posix": "posix",
        "java": "java",
        "org.python.modules.os": "java",
    }
)


def shortPythonVersion() -> str:
    """Return the running Python's version as ``"major.minor.micro"``, such as ``"3.11.9"``."""
    return "{}.{}.{}".format(*sys.version_info[:3])


class Platform:
    """Facts about a platform: by default the one fw is running on.

    Args:
        name: an ``os.name`` value to describe instead of the running one.
        platform: a ``sys.platform`` value to describe instead of the running one.
    """

    #: The platform type: ``"posix"``, ``"win32"`` or ``"java"``; ``None`` if unknown.
    type: str | None = knownPlatforms.get(os.name)
    #: The current time, in seconds since the epoch, as this platform measures it.
    seconds: Callable[[], float] = staticmethod(time.time)
    _platform: str = sys.platform

    def __init__(self, name: str | None = None, platform: str | None = None) -> None:
        if name is not None:
            self.type = knownPlatforms.get(name)
        if platform is not None:
            self._platform = platform

    def isKnown(self) -> bool:
        """Return whether the platform type is one fw knows."""
        return self.type is not None

    def getType(self) -> str | None:
        """Return the platform type: ``"posix"``, ``"win32"``, ``"java"`` or ``None``."""
        return self.type

    def isMacOSX(self) -> bool:
        """Return whether this is macOS."""
        return self._platform == "darwin"

    def isWinNT(self) -> bool:
        """Return whether this is Windows (every supported Windows is NT-based)."""
        return self.getType() == "win32"

    def isWindows(self) -> bool:
        """Return whether this is Windows."""
        return self.getType() == "win32"

    def isVista(self) -> bool:
        """Return whether this is Windows Vista (Windows 6.0) or a later Windows 6.x."""
        getwindowsversion = getattr(sys, "getwindowsversion", None)
        if not self.isWindows() or getwindowsversion is None:
            return False
        return bool(getwindowsversion().major == 6)

    def isLinux(self) -> bool:
        """Return whether this is Linux."""
        return self._platform.startswith("linux")

    def isDocker(self, _initCGroupLocation: str = "/proc/1/cgroup") -> bool:
        """Return whether this process runs inside a Docker container (Linux only).

        Decided from the control groups of process 1, which Docker places
        under ``/docker/``.
        """
        if not self.isLinux():
            return False
        try:
            with open(_initCGroupLocation, "rb") as cgroups:
                content = cgroups.read()
        except OSError:
            return False
        for line in content.split(b"\n"):
            fields = line.split(b":")
            if len(fields) == 3 and fields[2].startswith(b"/docker/"):
                return True
        return False

    def _supportsSymlinks(self) -> bool:
        """Return whether this process can create symbolic links."""
        if not self.isWindows():
            return hasattr(os, "symlink")
        with tempfile.TemporaryDirectory() as directory:
            try:
                os.symlink(directory, os.path.join(directory, "link"))
            except (OSError, NotImplementedError):
                return False
            return True

    def supportsThreads(self) -> bool:
        """Return whether threads are available (always, on the Pythons fw supports)."""
        try:
            import threading  # noqa: F401
        except ImportError:
            return False
        return True

    def supportsINotify(self) -> bool:
        """Return whether the Linux inotify API is available to this process."""
        if not self.isLinux():
            return False
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return False
        return all(
            hasattr(libc, name)
            for name in ("inotify_init", "inotify_add_watch", "inotify_rm_watch")
        )


#: The platform fw is running on.
platform: Final = Platform()
#: The running platform's type: ``"posix"``, ``"win32"`` or ``"java"``.
platformType: Final = platform.getType()
#: The current time in seconds since the epoch (:func:`time.time`).
seconds: Final = platform.seconds
