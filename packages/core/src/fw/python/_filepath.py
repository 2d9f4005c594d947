"""Implementation of :class:`fw.python.filepath.FilePath`."""

from __future__ import annotations

import errno
import glob
import os
import shutil
import stat
from collections.abc import Iterator, Sequence
from pathlib import PureWindowsPath
from typing import IO, Any, AnyStr, cast, overload

from zope.interface import implementer

from fw.python._filepath_base import (
    _IS_WINDOWS,
    AbstractFilePath,
    FileMode,
    IFilePath,
    InsecurePath,
    LinkError,
    OtherAnyStr,
    Permissions,
    _asFilesystemBytes,
    _asFilesystemText,
    _coerceToFilesystemEncoding,
    _isWithin,
    _secureEnoughString,
)

_CREATE_FLAGS = os.O_EXCL | os.O_CREAT | os.O_RDWR | getattr(os, "O_BINARY", 0)


def _isReservedOnWindows(name: str | bytes) -> bool:
    """Whether Windows gives ``name`` a special meaning (``CON``, ``NUL``, ``COM1``...)."""
    return PureWindowsPath(os.fsdecode(name)).is_reserved()


def _checkChildName(name: AnyStr) -> None:
    """Refuse ``name`` unless it names an entry directly inside a directory.

    Raises:
        InsecurePath: ``name`` holds a NUL or a separator, is ``..``, or (on
            Windows) holds a drive colon or is a reserved device name.
    """
    if _coerceToFilesystemEncoding(name, "\0") in name:
        raise InsecurePath(f"{name!r} contains a NUL character")
    separators = [os.sep, *([os.altsep] if os.altsep else [])]
    if any(_coerceToFilesystemEncoding(name, sep) in name for sep in separators):
        raise InsecurePath(f"{name!r} contains one or more directory separators")
    if os.path.normpath(name) == _coerceToFilesystemEncoding(name, os.pardir):
        raise InsecurePath(f"{name!r} refers to the parent directory")
    if _IS_WINDOWS:
        # "C:x" is relative to drive C's current directory; "CON" is the console.
        if _coerceToFilesystemEncoding(name, ":") in name:
            raise InsecurePath(f"{name!r} contains a colon.")
        if _isReservedOnWindows(name):
            raise InsecurePath(f"{name!r} is a reserved Windows path.")


def _checkNoSeparators(text: AnyStr, what: str) -> None:
    """Refuse ``text`` (an extension or pattern) if it could reach another directory."""
    for forbidden in ("\0", os.sep, os.altsep):
        if forbidden and _coerceToFilesystemEncoding(text, forbidden) in text:
            raise InsecurePath(f"{what} {text!r} contains {forbidden!r}")


@implementer(IFilePath)
class FilePath(AbstractFilePath[AnyStr]):
    """A path on the local filesystem that only allows going downwards.

    ``FilePath("/srv/www")`` refers to a file, a directory or nothing yet;
    :meth:`child` refuses any name that would leave the directory, so a tree
    can be served safely by doing every access through the ``FilePath``.
    Relative paths are made absolute when the ``FilePath`` is made.

    The type of ``path`` decides the *mode*: ``FilePath(b"/")`` works in
    ``bytes``, ``FilePath("/")`` in ``str``; methods taking a name return a
    path in the mode of that name.  A ``FilePath`` is also an
    :class:`os.PathLike`, usable wherever the standard library takes a path.

    Results of ``stat`` are cached: call :meth:`changed` (or :meth:`restat`)
    after the file changes behind the ``FilePath``'s back.

    Args:
        path: the path, absolute or relative to the current directory.
        alwaysCreate: if true, :meth:`open` only succeeds in creating a new file.
    """

    _statinfo: os.stat_result | None = None
    #: The absolute path this object refers to.
    path: AnyStr

    def __init__(self, path: AnyStr | os.PathLike[AnyStr], alwaysCreate: bool = False) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.alwaysCreate = alwaysCreate

    # Identity and modes.

    def clonePath(self, path: OtherAnyStr, alwaysCreate: bool = False) -> FilePath[OtherAnyStr]:
        """Return a new :class:`FilePath` for ``path``; subclasses override it for their type."""
        return FilePath(path, alwaysCreate)

    def __getstate__(self) -> dict[str, object]:
        """Pickle everything but the cached ``stat`` result."""
        state = self.__dict__.copy()
        state.pop("_statinfo", None)
        return state

    def __fspath__(self) -> AnyStr:
        return self.path

    @property
    def sep(self) -> AnyStr:
        """The path separator, as this path's type."""
        return _coerceToFilesystemEncoding(self.path, os.sep)

    def _asBytesPath(self, encoding: str | None = None) -> bytes:
        return _asFilesystemBytes(self.path, encoding)

    def _asTextPath(self, encoding: str | None = None) -> str:
        return _asFilesystemText(self.path, encoding)

    def asBytesMode(self, encoding: str | None = None) -> FilePath[bytes]:
        """Return this path in ``bytes`` mode (itself, if it already is).

        Args:
            encoding: the encoding to use; by default the filesystem's.
        """
        if isinstance(self.path, bytes):
            return self
        return self.clonePath(self._asBytesPath(encoding))

    def asTextMode(self, encoding: str | None = None) -> FilePath[str]:
        """Return this path in ``str`` mode (itself, if it already is).

        Args:
            encoding: the encoding to use; by default the filesystem's.
        """
        if isinstance(self.path, str):
            return self
        return self.clonePath(self._asTextPath(encoding))

    def _getPathAsSameTypeAs(self, pattern: OtherAnyStr) -> OtherAnyStr:
        """This path, in the mode of ``pattern``."""
        if isinstance(pattern, bytes):
            return self._asBytesPath()
        return self._asTextPath()

    def __repr__(self) -> str:
        return f"FilePath({self.path!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return type(self.path) is type(other.path) and self.path == other.path

    def __hash__(self) -> int:
        return hash(self.path)

    def __lt__(self, other: FilePath[AnyStr]) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path < other.path)

    def __le__(self, other: FilePath[AnyStr]) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path <= other.path)

    def __gt__(self, other: FilePath[AnyStr]) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path > other.path)

    def __ge__(self, other: FilePath[AnyStr]) -> bool:
        if not isinstance(other, FilePath):
            return NotImplemented
        return bool(self.path >= other.path)

    # Navigation.

    def child(self, path: OtherAnyStr) -> FilePath[OtherAnyStr]:
        """Return the entry called ``path`` directly inside this directory.

        ``""`` and ``"."`` name this path itself, as in Twisted.  Names are
        taken literally: ``"%2e%2e"`` or a backslash on POSIX are ordinary
        characters, not escapes.

        Raises:
            InsecurePath: ``path`` holds a separator or a NUL, is ``..``, or
                (on Windows) holds a colon or is a reserved device name.
        """
        _checkChildName(path)
        ourPath = self._getPathAsSameTypeAs(path)
        newpath = os.path.abspath(os.path.join(ourPath, os.path.normpath(path)))
        if newpath != ourPath and os.path.dirname(newpath) != ourPath:
            raise InsecurePath(f"{newpath!r} is not a child of {ourPath!r}")
        return self.clonePath(newpath)

    def preauthChild(self, path: OtherAnyStr) -> FilePath[OtherAnyStr]:
        """Return the descendant at the relative ``path``, which may contain separators.

        Use it for paths you trust to mean a descendant (from configuration,
        say); it still refuses any that would lead outside this directory.

        Raises:
            InsecurePath: ``path`` holds a NUL, is absolute, or leads outside.
        """
        if _coerceToFilesystemEncoding(path, "\0") in path:
            raise InsecurePath(f"{path!r} contains a NUL character")
        ourPath = self._getPathAsSameTypeAs(path)
        newpath = os.path.abspath(os.path.join(ourPath, os.path.normpath(path)))
        if not _isWithin(ourPath, newpath):
            raise InsecurePath(f"{newpath!r} is not a child of {ourPath!r}")
        return self.clonePath(newpath)

    def childSearchPreauth(self, *paths: OtherAnyStr) -> FilePath[OtherAnyStr] | None:
        """Return the first of the trusted relative ``paths`` that exists, or ``None``."""
        for path in paths:
            candidate = os.path.join(self._getPathAsSameTypeAs(path), path)
            if os.path.exists(candidate):
                return self.clonePath(candidate)
        return None

    def siblingExtensionSearch(self, *exts: OtherAnyStr) -> FilePath[OtherAnyStr] | None:
        """Return the first existing path made of this one plus one of ``exts``, or ``None``.

        ``""`` stands for this path itself; ``"*"`` for any existing entry
        whose name starts with this path's name and a dot.

        Raises:
            InsecurePath: an extension holds a separator or a NUL.
        """
        for ext in exts:
            _checkNoSeparators(ext, "extension")
            ourPath = self._getPathAsSameTypeAs(ext)
            if not ext:
                if self.exists():
                    return self.clonePath(ourPath)
                continue
            if ext == _coerceToFilesystemEncoding(ext, "*"):
                directory = os.path.dirname(ourPath)
                prefix = os.path.basename(ourPath) + _coerceToFilesystemEncoding(ext, ".")
                for name in sorted(os.listdir(directory)):
                    if name.startswith(prefix):
                        return self.clonePath(os.path.join(directory, name))
                continue
            if os.path.exists(ourPath + ext):
                return self.clonePath(ourPath + ext)
        return None

    def siblingExtension(self, ext: OtherAnyStr) -> FilePath[OtherAnyStr]:
        """Return this path with ``ext`` appended, such as ``.../index`` -> ``.../index.html``.

        Raises:
            InsecurePath: ``ext`` holds a separator or a NUL.
        """
        _checkNoSeparators(ext, "extension")
        return self.clonePath(self._getPathAsSameTypeAs(ext) + ext)

    def sibling(self, path: OtherAnyStr) -> FilePath[OtherAnyStr]:
        """Return the entry called ``path`` in this path's directory.

        Raises:
            InsecurePath: as for :meth:`child`.
        """
        return self.parent().child(path)

    def descendant(self, segments: Sequence[OtherAnyStr]) -> FilePath[OtherAnyStr]:
        """Return the path reached by taking each of ``segments`` as a :meth:`child` in turn.

        Raises:
            InsecurePath: a segment is not a plain child name.
        """
        path: FilePath[Any] = self
        for segment in segments:
            path = path.child(segment)
        return path

    def parent(self) -> FilePath[AnyStr]:
        """Return the directory containing this path (the root is its own parent)."""
        return self.clonePath(self.dirname())

    def parents(self) -> Iterator[FilePath[AnyStr]]:
        """Yield each ancestor of this path, from its parent up to the root."""
        return cast("Iterator[FilePath[AnyStr]]", super().parents())

    def basename(self) -> AnyStr:
        """Return the last segment of the path."""
        return os.path.basename(self.path)

    def dirname(self) -> AnyStr:
        """Return every segment of the path but the last."""
        return os.path.dirname(self.path)

    def splitext(self) -> tuple[AnyStr, AnyStr]:
        """Split the path into ``(root, extension)``, as :func:`os.path.splitext` does."""
        return os.path.splitext(self.path)

    def isabs(self) -> bool:
        """Return whether the path is absolute: always true."""
        return os.path.isabs(self.path)

    def realpath(self) -> FilePath[AnyStr]:
        """Return the path a symbolic link finally leads to, or this path if it is not a link.

        Use it to check where a path really is before trusting it: a link
        inside a directory may point anywhere.

        Raises:
            LinkError: the link leads to itself, possibly through other links.
        """
        if not self.islink():
            return self
        try:
            result = os.path.realpath(self.path, strict=True)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise LinkError("Cyclical link - will loop forever") from e
            # A dangling link: report where it points, as os.path.realpath does.
            result = os.path.realpath(self.path)
        if result == self.path:
            raise LinkError("Cyclical link - will loop forever")
        return self.clonePath(result)

    def globChildren(self, pattern: OtherAnyStr) -> list[FilePath[OtherAnyStr]]:
        """Return my children whose names match the glob ``pattern``, sorted by path.

        Raises:
            InsecurePath: ``pattern`` holds a separator or a NUL: it can only
                match names directly in this directory.
        """
        _checkNoSeparators(pattern, "pattern")
        ourPath = self._getPathAsSameTypeAs(pattern)
        names = glob.glob(pattern, root_dir=ourPath)
        found = (os.path.abspath(os.path.join(ourPath, name)) for name in names)
        return [self.clonePath(p) for p in sorted(found) if os.path.dirname(p) == ourPath]

    def listdir(self) -> list[AnyStr]:
        """Return the names of the entries in this directory."""
        return os.listdir(self.path)

    # Status.

    def restat(self, reraise: bool = True) -> None:
        """Refresh the cached ``stat`` result.

        Args:
            reraise: if false, a path that cannot be stat'ed is recorded as not
                existing instead of raising.

        Raises:
            OSError: ``stat`` failed and ``reraise`` is true.
        """
        try:
            self._statinfo = os.stat(self.path)
        except OSError:
            self._statinfo = None
            if reraise:
                raise

    def changed(self) -> None:
        """Forget the cached ``stat`` result: the file changed."""
        self._statinfo = None

    @property
    def statinfo(self) -> os.stat_result | None:
        """The cached ``stat`` result, fetched if there is none; ``None`` if the path is absent."""
        if self._statinfo is None:
            self.restat(False)
        return self._statinfo

    def _stat(self) -> os.stat_result:
        if self._statinfo is None:
            self.restat()
        assert self._statinfo is not None
        return self._statinfo

    def _mode(self) -> int | None:
        info = self.statinfo
        return None if info is None else info.st_mode

    def _posixOnly(self) -> None:
        if _IS_WINDOWS:
            raise NotImplementedError("not meaningful on Windows")

    def getsize(self) -> int:
        """Return the size of the file, in bytes.

        Raises:
            OSError: the path cannot be stat'ed (for instance, it does not exist).
        """
        return self._stat().st_size

    def getModificationTime(self) -> float:
        """Return the time of the last modification, in seconds since the epoch."""
        return float(self._stat().st_mtime)

    def getStatusChangeTime(self) -> float:
        """Return the time of the last status change, in seconds since the epoch."""
        return float(self._stat().st_ctime)

    def getAccessTime(self) -> float:
        """Return the time of the last access, in seconds since the epoch."""
        return float(self._stat().st_atime)

    def getInodeNumber(self) -> int:
        """Return the inode number.

        Raises:
            NotImplementedError: on Windows.
        """
        self._posixOnly()
        return self._stat().st_ino

    def getDevice(self) -> int:
        """Return the number of the device holding the file.

        Raises:
            NotImplementedError: on Windows.
        """
        self._posixOnly()
        return self._stat().st_dev

    def getNumberOfHardLinks(self) -> int:
        """Return the number of hard links to the file.

        Raises:
            NotImplementedError: on Windows.
        """
        self._posixOnly()
        return self._stat().st_nlink

    def getUserID(self) -> int:
        """Return the user ID of the file's owner.

        Raises:
            NotImplementedError: on Windows.
        """
        self._posixOnly()
        return self._stat().st_uid

    def getGroupID(self) -> int:
        """Return the group ID of the file.

        Raises:
            NotImplementedError: on Windows.
        """
        self._posixOnly()
        return self._stat().st_gid

    def getPermissions(self) -> Permissions:
        """Return the file's permission bits."""
        return Permissions(stat.S_IMODE(self._stat().st_mode))

    def exists(self) -> bool:
        """Return whether something exists at this path (following symbolic links)."""
        return self.statinfo is not None

    def isdir(self) -> bool:
        """Return whether this path is a directory (or a link to one)."""
        mode = self._mode()
        return mode is not None and stat.S_ISDIR(mode)

    def isfile(self) -> bool:
        """Return whether this path is a regular file (or a link to one)."""
        mode = self._mode()
        return mode is not None and stat.S_ISREG(mode)

    def isBlockDevice(self) -> bool:
        """Return whether this path is a block device."""
        mode = self._mode()
        return mode is not None and stat.S_ISBLK(mode)

    def isSocket(self) -> bool:
        """Return whether this path is a Unix socket."""
        mode = self._mode()
        return mode is not None and stat.S_ISSOCK(mode)

    def islink(self) -> bool:
        """Return whether this path is a symbolic link (never cached)."""
        return os.path.islink(self.path)

    # Reading and writing.

    def open(self, mode: FileMode = "r") -> IO[bytes]:
        """Open the file in binary with ``mode`` (a ``"b"`` in it is optional).

        With ``alwaysCreate`` set, the file is created and must not exist yet.

        Raises:
            ValueError: ``alwaysCreate`` is set and ``mode`` appends.
            OSError: the file cannot be opened.
        """
        if self.alwaysCreate:
            if "a" in mode:
                raise ValueError("Appending not supported when alwaysCreate is true")
            return self.create()
        return cast("IO[bytes]", open(self.path, mode.replace("b", "") + "b"))

    def create(self) -> IO[bytes]:
        """Create the file, which must not exist yet, and open it for reading and writing.

        Raises:
            FileExistsError: the file exists.
        """
        fd = os.open(self.path, _CREATE_FLAGS, 0o666)
        return os.fdopen(fd, "w+b")

    def requireCreate(self, val: bool = True) -> None:
        """Set ``alwaysCreate``: whether :meth:`open` must create the file."""
        self.alwaysCreate = val

    @overload
    def temporarySibling(self) -> FilePath[AnyStr]: ...
    @overload
    def temporarySibling(self, extension: OtherAnyStr | None) -> FilePath[OtherAnyStr]: ...
    def temporarySibling(self, extension: str | bytes | None = None) -> FilePath[Any]:
        """Return a new, unpredictably named path in this path's directory.

        Its name is random characters, this path's name, then ``extension``
        (include the dot yourself); :meth:`open` on it creates the file and
        fails if something took the name first.

        Raises:
            InsecurePath: ``extension`` holds a separator or a NUL.
        """
        ext: Any = self.path[0:0] if extension is None else extension
        ourPath: Any = self._getPathAsSameTypeAs(ext)
        sibling: FilePath[Any] = self.sibling(
            _secureEnoughString(ext) + os.path.basename(ourPath) + ext
        )
        sibling.requireCreate()
        return sibling

    def setContent(self, content: bytes, ext: str | bytes = ".new") -> None:
        """Replace the file's content with ``content``, atomically.

        The bytes go to a new temporary sibling (named with ``ext`` at the
        end, so leftovers of a crash can be recognised), are flushed to disk,
        and the sibling is then renamed over this path: readers see the old
        content or the new, never a mixture.  Concurrent writers do not
        corrupt the file, but which one wins is not defined.

        Raises:
            InsecurePath: ``ext`` holds a separator or a NUL.
            OSError: the file could not be written; the temporary is removed.
        """
        sibling = self.temporarySibling(_coerceToFilesystemEncoding(self.path, ext))
        done = False
        try:
            with sibling.open("w") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.replace(sibling.path, self.path)
            done = True
        finally:
            if not done and os.path.lexists(sibling.path):
                os.remove(sibling.path)
            self.changed()

    def touch(self) -> None:
        """Set the access and modification times to now, creating an empty file if need be.

        Raises:
            OSError: the file neither exists nor could be created.
        """
        try:
            with open(self.path, "ab"):
                pass
        except OSError:
            pass
        os.utime(self.path, None)
        self.changed()

    def chmod(self, mode: int) -> None:
        """Change the file's permission bits to ``mode`` (such as ``0o644``)."""
        os.chmod(self.path, mode)
        self.changed()

    # Creating, removing, moving.

    def createDirectory(self) -> None:
        """Create this directory; its parent must exist.

        Raises:
            FileExistsError: something exists at this path.
        """
        os.mkdir(self.path)
        self.changed()

    def makedirs(self, ignoreExistingDirectory: bool = False) -> None:
        """Create this directory and any missing parents.

        Args:
            ignoreExistingDirectory: succeed quietly if this directory exists.

        Raises:
            OSError: the directory exists (and ``ignoreExistingDirectory`` is
                false), something other than a directory is in the way, or
                creating failed.
        """
        self.changed()
        try:
            os.makedirs(self.path)
        except OSError as e:
            if not (e.errno == errno.EEXIST and ignoreExistingDirectory and self.isdir()):
                raise
        self.changed()

    def remove(self) -> None:
        """Remove the file, link or directory (with everything in it) at this path."""
        if self.isdir() and not self.islink():
            for child in self.children():
                child.remove()
            os.rmdir(self.path)
        else:
            os.remove(self.path)
        self.changed()

    def linkTo(self, linkFilePath: FilePath[AnyStr]) -> None:
        """Create a symbolic link at ``linkFilePath`` pointing to this path.

        Raises:
            OSError: the link cannot be created (it exists, say).
        """
        os.symlink(self._getPathAsSameTypeAs(linkFilePath.path), linkFilePath.path)
        linkFilePath.changed()

    def copyTo(self, destination: FilePath[Any], followLinks: bool = True) -> None:
        """Copy this file, or this directory's content recursively, to ``destination``.

        A file overwrites a destination file.  A directory's children are
        copied into ``destination``, which is created if need be.  Permissions
        and ownership are not copied.

        Args:
            destination: where to copy to.
            followLinks: if true, copy what symbolic links point to; if false,
                recreate the links themselves.

        Raises:
            OSError: this path does not exist, ``destination`` is inside this
                directory, or copying failed.
            NotImplementedError: this is neither a file, a directory nor a link.
        """
        if self.islink() and not followLinks:
            target = os.readlink(self.path)
            os.symlink(_coerceToFilesystemEncoding(destination.path, target), destination.path)
            destination.changed()
            return
        if self.isdir():
            ourReal = os.path.realpath(self._asTextPath())
            if _isWithin(ourReal, os.path.realpath(destination._asTextPath())):
                raise OSError(errno.EINVAL, "cannot copy a directory into itself", self.path)
            if not destination.exists():
                destination.createDirectory()
            for child in self.children():
                child.copyTo(destination.child(child.basename()), followLinks)
        elif self.isfile():
            with self.open() as reader, destination.open("w") as writer:
                shutil.copyfileobj(reader, writer)
            destination.changed()
        elif not self.exists():
            raise OSError(errno.ENOENT, "No such file or directory", self.path)
        else:
            raise NotImplementedError("Only copying of files and directories supported")

    def moveTo(self, destination: FilePath[Any], followLinks: bool = True) -> None:
        """Move (rename) this path to ``destination``.

        Across filesystems the tree is copied (see :meth:`copyTo`) next to
        ``destination``, renamed into place, and only then removed from here.

        Raises:
            OSError: the rename failed (for instance, ``destination`` is a
                non-empty directory).
        """
        try:
            os.rename(self._getPathAsSameTypeAs(destination.path), destination.path)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            # Different filesystems: copy beside the destination, rename it into
            # place, then set the original aside and remove it.
            staging = destination.temporarySibling()
            self.copyTo(staging, followLinks)
            staging.moveTo(destination, followLinks)
            leftover = self.temporarySibling()
            self.moveTo(leftover, followLinks)
            leftover.remove()
        self.changed()
        destination.changed()
