"""A lock between processes, held through the filesystem.

``FilesystemLock(path).lock()`` returns whether this process now holds the
lock; a lock left behind by a process that died is detected and broken.
"""

from fw.python._lockfile import FilesystemLock, isLocked

__all__ = ["FilesystemLock", "isLocked"]
