"""Paths of UNIX domain sockets: encoding, the abstract namespace, socket files."""

from __future__ import annotations

import os
import socket

from fw.internet.address import UNIXAddress

__all__ = ["bindFile", "fsPath", "inFilesystemNamespace", "removeSocketFile", "unixAddress"]

Path = str | bytes | os.PathLike[str] | os.PathLike[bytes]


def fsPath(address: Path) -> bytes:
    """``address`` as bytes (text is encoded with the file system encoding)."""
    return os.fsencode(address)


def inFilesystemNamespace(path: bytes) -> bool:
    """Whether ``path`` names a file (not a Linux abstract name, nor autobinding)."""
    return path[:1] not in (b"", b"\0")


def unixAddress(sockaddr: str | bytes | None) -> UNIXAddress:
    """The address for what ``getsockname``/``accept``/``recvfrom`` return."""
    return UNIXAddress(sockaddr or None)


def bindFile(skt: socket.socket, path: bytes, mode: int) -> tuple[int, int] | None:
    """
    Bind ``skt`` to ``path`` and give the socket file ``mode``.

    Returns:
        The file's identity (device and inode), to remove it later only if
        it is still the same file; ``None`` for an abstract name.

    Raises:
        OSError: the socket could not be bound (or the mode set: then the new
            file is removed).
    """
    skt.bind(path)
    if not inFilesystemNamespace(path):
        return None
    info = os.stat(path)
    identity = (info.st_dev, info.st_ino)
    try:
        os.chmod(path, mode)
    except OSError:
        removeSocketFile(path, identity)
        raise
    return identity


def removeSocketFile(path: bytes, identity: tuple[int, int] | None) -> None:
    """Remove the socket file at ``path`` if it is still the one with ``identity``."""
    if identity is None:
        return
    try:
        info = os.lstat(path)
        if (info.st_dev, info.st_ino) == identity:
            os.remove(path)
    except OSError:
        # Gone already; or replaced by someone else's file, which stays.
        pass
