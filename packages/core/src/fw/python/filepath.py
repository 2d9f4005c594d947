"""Safe filesystem paths.

:class:`FilePath` is a path object that only lets you go *down*:
``FilePath("/srv/www").child(name)`` raises :class:`InsecurePath` for any
``name`` that would lead outside ``/srv/www`` (separators, ``..``, NUL
characters), so code serving a tree can take names from the network.  It
also reads, writes (atomically, with :meth:`FilePath.setContent`), lists,
walks, copies and moves files.
"""

from fw.python._filepath import FilePath
from fw.python._filepath_base import (
    RWX,
    AbstractFilePath,
    FileMode,
    IFilePath,
    InsecurePath,
    LinkError,
    OtherAnyStr,
    Permissions,
    UnlistableError,
)

__all__ = [
    "RWX",
    "AbstractFilePath",
    "FileMode",
    "FilePath",
    "IFilePath",
    "InsecurePath",
    "LinkError",
    "OtherAnyStr",
    "Permissions",
    "UnlistableError",
]
