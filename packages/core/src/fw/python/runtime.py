"""Facts about the running platform and Python.

``platform`` describes the platform fw runs on (``platform.isLinux()``,
``platform.isWindows()``, ``platform.supportsThreads()``...); ``platformType``
is its type (``"posix"`` or ``"win32"``); ``seconds()`` is the current time.
"""

from fw.python._runtime import (
    Platform,
    knownPlatforms,
    platform,
    platformType,
    seconds,
    shortPythonVersion,
)

__all__ = [
    "Platform",
    "knownPlatforms",
    "platform",
    "platformType",
    "seconds",
    "shortPythonVersion",
]
