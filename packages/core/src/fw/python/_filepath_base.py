"""The parts of :mod:`fw.python.filepath` that do not touch the filesystem themselves.

Errors, permission values, the :class:`IFilePath` interface, path-type
coercion helpers and :class:`AbstractFilePath`, the base that implements
the tree-walking operations in terms of a few primitives.
"""

from __future__ import annotations

import base64
import errno
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, AnyStr, Generic, Literal, Self, TypeVar

from zope.interface import Attribute, Interface

#: A second string type variable, for methods whose result's mode follows an argument.
OtherAnyStr = TypeVar("OtherAnyStr", str, bytes)

#: The modes :meth:`FilePath.open` accepts; files are always opened in binary.
FileMode = Literal["r", "w", "a", "r+", "w+", "a+", "rb", "wb", "ab", "r+b", "w+b", "a+b"]

_IS_WINDOWS = sys.platform == "win32"

# Windows error codes that, like ENOENT and ENOTDIR, mean "not a directory
# you can list" (winerror.h: ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND,
# ERROR_INVALID_NAME, ERROR_DIRECTORY).
_WINDOWS_UNLISTABLE = frozenset({2, 3, 123, 267})


class InsecurePath(Exception):
    """A path given to a :class:`FilePath` would lead outside where it is allowed to go."""


class LinkError(Exception):
    """A symbolic link problem: a cycle, or links unsupported where one was needed."""


class UnlistableError(OSError):
    """Listing a directory failed because it does not exist or is not a directory.

    It is an :class:`OSError` carrying the original error's ``errno``,
    ``strerror`` and ``filename``, so callers can tell "not a directory you
    can list" apart from more serious failures (permissions, resources).

    Args:
        originalException: the error the listing raised.
    """

    def __init__(self, originalException: OSError) -> None:
        super().__init__(
            originalException.errno, originalException.strerror, originalException.filename
        )
        #: The error the listing raised.
        self.originalException = originalException
        if _IS_WINDOWS:  # pragma: no cover - attribute only exists on Windows
            self.winerror = getattr(originalException, "winerror", None)


class RWX:
    """Read, write and execute permission for one class of user (owner, group or other).

    Args:
        readable: whether reading is allowed.
        writable: whether writing is allowed.
        executable: whether executing (or, for a directory, searching) is allowed.
    """

    __slots__ = ("execute", "read", "write")

    def __init__(self, readable: bool, writable: bool, executable: bool) -> None:
        self.read = readable
        self.write = writable
        self.execute = executable

    def _key(self) -> tuple[bool, bool, bool]:
        return (self.read, self.write, self.execute)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RWX):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"RWX(read={self.read}, write={self.write}, execute={self.execute})"

    def shorthand(self) -> str:
        """Return the permissions as ``ls -l`` shows them, such as ``"rw-"``."""
        return "".join(
            letter if allowed else "-" for letter, allowed in zip("rwx", self._key(), strict=True)
        )


class Permissions:
    """The permission bits of a file: :class:`RWX` values for ``user``, ``group`` and ``other``.

    Args:
        statModeInt: a mode (such as ``st_mode``); only its permission bits are used.
    """

    __slots__ = ("group", "other", "user")

    def __init__(self, statModeInt: int) -> None:
        self.user, self.group, self.other = (
            RWX(*(bool(statModeInt & bit) for bit in bits))
            for bits in (
                (stat.S_IRUSR, stat.S_IWUSR, stat.S_IXUSR),
                (stat.S_IRGRP, stat.S_IWGRP, stat.S_IXGRP),
                (stat.S_IROTH, stat.S_IWOTH, stat.S_IXOTH),
            )
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Permissions):
            return NotImplemented
        return (self.user, self.group, self.other) == (other.user, other.group, other.other)

    def __hash__(self) -> int:
        return hash((self.user, self.group, self.other))

    def __repr__(self) -> str:
        return f"[{self.user} | {self.group} | {self.other}]"

    def shorthand(self) -> str:
        """Return the permissions as ``ls -l`` shows them, such as ``"rwxr-x---"``."""
        return "".join(rwx.shorthand() for rwx in (self.user, self.group, self.other))


class IFilePath(Interface):
    """A location in a hierarchical filesystem-like store, and operations on it.

    Implementations need not be on the local disk: the same operations
    describe paths inside archives or remote stores.  Paths only go
    downwards from where they start: :meth:`child` refuses names that would
    lead elsewhere.
    """

    sep = Attribute("The separator between the segments of ``path``, as ``path``'s type.")
    path = Attribute("The path this object refers to, as ``str`` or ``bytes``.")

    def child(name: Any) -> Any:
        """Return the path of the child called ``name``.

        Raises:
            InsecurePath: ``name`` is not a plain child name.
        """

    def open(mode: FileMode = "r") -> IO[bytes]:
        """Open the file at this path, in binary, with ``mode``."""

    def changed() -> None:
        """Forget anything cached about the state of this path."""

    def getsize() -> int:
        """Return the size of the file, in bytes."""

    def getModificationTime() -> float:
        """Return the time of the last modification, in seconds since the epoch."""

    def getStatusChangeTime() -> float:
        """Return the time of the last status change, in seconds since the epoch."""

    def getAccessTime() -> float:
        """Return the time of the last access, in seconds since the epoch."""

    def exists() -> bool:
        """Return whether something exists at this path."""

    def isdir() -> bool:
        """Return whether this path is a directory."""

    def isfile() -> bool:
        """Return whether this path is a regular file."""

    def children() -> Any:
        """Return the paths of the existing children of this directory.

        Raises:
            UnlistableError: this is not a directory that exists.
        """

    def basename() -> Any:
        """Return the last segment of this path."""

    def parent() -> Any:
        """Return the path of the directory containing this one."""

    def sibling(name: Any) -> Any:
        """Return the path called ``name`` in the same directory as this one."""


def _asFilesystemBytes(path: str | bytes, encoding: str | None = None) -> bytes:
    """``path`` as ``bytes``, encoded with ``encoding`` or the filesystem encoding."""
    if isinstance(path, bytes):
        return path
    return path.encode(encoding or sys.getfilesystemencoding(), "surrogateescape")


def _asFilesystemText(path: str | bytes, encoding: str | None = None) -> str:
    """``path`` as ``str``, decoded with ``encoding`` or the filesystem encoding."""
    if isinstance(path, str):
        return path
    return path.decode(encoding or sys.getfilesystemencoding(), "surrogateescape")


def _coerceToFilesystemEncoding(
    path: AnyStr, newpath: str | bytes, encoding: str | None = None
) -> AnyStr:
    """``newpath`` as the same string type as ``path``, so that the two can be joined."""
    if isinstance(path, bytes):
        return _asFilesystemBytes(newpath, encoding)
    return _asFilesystemText(newpath, encoding)


def _secureEnoughString(path: AnyStr) -> AnyStr:
    """Sixteen unpredictable filename-safe characters, of ``path``'s type."""
    return _coerceToFilesystemEncoding(path, base64.urlsafe_b64encode(os.urandom(16))[:16])


class AbstractFilePath(Generic[AnyStr]):
    """A base for :class:`IFilePath` implementations.

    It implements the operations that follow from a few primitives that
    subclasses provide: ``path``, :meth:`child`, :meth:`parent`,
    :meth:`basename`, :meth:`listdir`, :meth:`isdir` and :meth:`open`.
    """

    path: AnyStr

    def listdir(self) -> list[AnyStr]:
        """Return the names of this directory's children."""
        raise NotImplementedError

    def child(self, path: OtherAnyStr) -> AbstractFilePath[OtherAnyStr]:
        """Return the child called ``path``."""
        raise NotImplementedError

    def parent(self) -> AbstractFilePath[AnyStr]:
        """Return the directory containing this path."""
        raise NotImplementedError

    def basename(self) -> AnyStr:
        """Return the last segment of this path."""
        raise NotImplementedError

    def isdir(self) -> bool:
        """Return whether this path is a directory."""
        raise NotImplementedError

    def open(self, mode: FileMode = "r") -> IO[bytes]:
        """Open the file at this path in binary."""
        raise NotImplementedError

    def getModificationTime(self) -> float:
        """Return the time of the last modification, in seconds since the epoch."""
        raise NotImplementedError

    def getStatusChangeTime(self) -> float:
        """Return the time of the last status change, in seconds since the epoch."""
        raise NotImplementedError

    def getAccessTime(self) -> float:
        """Return the time of the last access, in seconds since the epoch."""
        raise NotImplementedError

    def getContent(self) -> bytes:
        """Return the whole content of the file at this path."""
        with self.open() as f:
            return f.read()

    def parents(self) -> Iterator[AbstractFilePath[AnyStr]]:
        """Yield each ancestor of this path, from its parent up to the root."""
        path: AbstractFilePath[AnyStr] = self
        parent = path.parent()
        # The root is its own parent.
        while parent != path:
            yield parent
            path, parent = parent, parent.parent()

    def children(self) -> list[Self]:
        """Return the paths of this directory's children.

        Raises:
            UnlistableError: this path does not exist or is not a directory.
            OSError: the listing failed for another reason, such as permissions.
        """
        try:
            names = self.listdir()
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR) or (
                getattr(e, "winerror", None) in _WINDOWS_UNLISTABLE
            ):
                raise UnlistableError(e) from e
            raise
        # A subclass's child() returns its own kind of path, in its own mode.
        return [self.child(name) for name in names]  # type: ignore[misc]

    def walk(self, descend: Callable[[Self], bool] | None = None) -> Iterator[Self]:
        """Yield this path, then, depth first, every path below it.

        Args:
            descend: called with each path below this one; a directory's
                children are walked only if it returns true.  By default every
                directory is walked, following symbolic links.

        Raises:
            LinkError: a symbolic link leads back to a directory being walked.
        """
        return self._walk(descend, ())

    def _walk(
        self, descend: Callable[[Self], bool] | None, ancestors: tuple[Any, ...]
    ) -> Iterator[Self]:
        yield self
        if not self.isdir():
            return
        ancestors = (*ancestors, os.path.realpath(self.path))
        for child in self.children():
            if descend is not None and not descend(child):
                yield child
                continue
            if child.isdir():
                real = os.path.realpath(child.path)
                # Walking into something that really is a directory we are
                # already inside of would never end.
                if any(_isWithin(real, ancestor) for ancestor in ancestors):
                    raise LinkError("Cycle in file graph.")
            yield from child._walk(descend, ancestors)

    def sibling(self, path: OtherAnyStr) -> AbstractFilePath[OtherAnyStr]:
        """Return the path called ``path`` in the same directory as this one."""
        return self.parent().child(path)

    def descendant(self, segments: Sequence[OtherAnyStr]) -> AbstractFilePath[OtherAnyStr]:
        """Return the path reached by taking each of ``segments`` as a child in turn.

        Raises:
            InsecurePath: a segment is not a plain child name.
        """
        path: AbstractFilePath[Any] = self
        for segment in segments:
            path = path.child(segment)
        return path

    def segmentsFrom(self, ancestor: AbstractFilePath[AnyStr]) -> list[AnyStr]:
        """Return the segments leading from ``ancestor`` down to this path.

        For ``/a/b/c/d`` and the ancestor ``/a/b`` that is ``["c", "d"]``.

        Raises:
            ValueError: ``ancestor`` is not an ancestor of this path (a path
                is not its own ancestor).
        """
        segments: list[AnyStr] = []
        path: AbstractFilePath[AnyStr] = self
        parent = path.parent()
        while path != ancestor and parent != path:
            segments.insert(0, path.basename())
            path, parent = parent, parent.parent()
        if path == ancestor and segments:
            return segments
        raise ValueError(f"{ancestor!r} not parent of {self!r}")

    def __hash__(self) -> int:
        return hash((type(self), self.path))

    def getmtime(self) -> int:
        """Return :meth:`getModificationTime`, truncated to whole seconds."""
        return int(self.getModificationTime())

    def getatime(self) -> int:
        """Return :meth:`getAccessTime`, truncated to whole seconds."""
        return int(self.getAccessTime())

    def getctime(self) -> int:
        """Return :meth:`getStatusChangeTime`, truncated to whole seconds."""
        return int(self.getStatusChangeTime())


def _isWithin(ancestor: AnyStr, path: AnyStr) -> bool:
    """Whether ``path`` is ``ancestor`` or lies below it (both absolute and normalised)."""
    if path == ancestor:
        return True
    sep = _coerceToFilesystemEncoding(ancestor, os.sep)
    prefix = ancestor if ancestor.endswith(sep) else ancestor + sep
    return path.startswith(prefix)
