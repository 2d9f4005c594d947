"""
Static resources: files and directories from disk, and bytes held in memory.

:class:`File` serves a tree of files with content types from their names,
directory listings, index files, byte ranges (``Range``/``If-Range``,
multiple ranges as ``multipart/byteranges``) and conditional requests
(``If-Modified-Since``, ``If-None-Match``, ``If-Match``,
``If-Unmodified-Since``).  Requests cannot leave the served tree: ``..``,
separators smuggled in as ``%2f``, NUL bytes and (by default) symbolic links
pointing outside the root are all refused.

File bodies are streamed by a pull producer reading large chunks, so a
gigabyte download costs a few hundred kilobytes of memory.
"""

from __future__ import annotations

import errno
import html
import os
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, ClassVar

from zope.interface import implementer

from fw.internet.interfaces import IPullProducer
from fw.python.filepath import FilePath, InsecurePath
from fw.web import resource
from fw.web._static_paths import (
    UnsafePath,
    checkSegment,
    getTypeAndEncoding,
    isInside,
    loadMimeTypes,
)
from fw.web._static_ranges import (
    Condition,
    RangeNotSatisfiable,
    evaluateConditions,
    ifRangeMatches,
    makeETag,
    multipartLayout,
    parseRange,
    resolveRanges,
)
from fw.web.server import NOT_DONE_YET

__all__ = [
    "Data",
    "DirectoryLister",
    "File",
    "MultipleRangeStaticProducer",
    "NoRangeStaticProducer",
    "Registry",
    "SingleRangeStaticProducer",
    "StaticProducer",
    "addSlash",
    "formatFileSize",
    "getTypeAndEncoding",
    "loadMimeTypes",
]

#: How much a producer reads from disk per ``resumeProducing`` call.  Large
#: reads keep system-call overhead low; 256 KiB fits well within a socket
#: send buffer's worth of kernel memory per connection.
DEFAULT_CHUNK_SIZE = 256 * 1024


def _header(request: Any, name: bytes) -> bytes | None:
    values = request.requestHeaders.getRawHeaders(name)
    if not values:
        return None
    return b", ".join(values)


def addSlash(request: Any) -> bytes:
    """The request's URI (path and query) with a slash added to its path."""
    uri: bytes = request.uri
    path, sep, query = uri.partition(b"?")
    return path + b"/" + sep + query


def formatFileSize(size: int) -> str:
    """A short human-readable size: ``"1K"``, ``"3M"``, ``"12B"``."""
    if size < 1024:
        return f"{size}B"
    if size < 1024**2:
        return f"{size // 1024}K"
    if size < 1024**3:
        return f"{size // 1024**2}M"
    return f"{size // 1024**3}G"


class Data(resource.Resource):
    """
    A resource serving fixed bytes with a fixed content type.

    Args:
        data: the body.
        type: its content type, such as ``"text/plain"``.
    """

    isLeaf = True

    def __init__(self, data: bytes, type: str | bytes) -> None:
        super().__init__()
        self.data = data
        self.type = type.encode("ascii") if isinstance(type, str) else type

    def render_GET(self, request: Any) -> bytes:
        """Send the data (``HEAD``: only its headers)."""
        request.setHeader(b"content-type", self.type)
        request.setHeader(b"content-length", b"%d" % len(self.data))
        if request.method == b"HEAD":
            return b""
        return self.data

    render_HEAD = render_GET


class Registry:
    """
    State shared by the :class:`File` resources of one tree, handed to
    processors.  It caches what processors build per path.
    """

    def __init__(self) -> None:
        self._cache: dict[str, object] = {}

    def cachePath(self, path: str, rsrc: object) -> None:
        """Remember ``rsrc`` as what ``path`` was processed into."""
        self._cache[path] = rsrc

    def getCachedPath(self, path: str) -> object | None:
        """What ``path`` was processed into, or ``None``."""
        return self._cache.get(path)


class File(resource.Resource, FilePath[str]):  # type: ignore[misc]
    """
    A file or a directory tree on disk, served over HTTP.

    A directory serves its index file (the first of :attr:`indexNames`
    that exists) or, failing that, a listing; a request for a directory
    without a trailing slash is redirected to one.

    Args:
        path: the file or directory.
        defaultType: the content type of files whose extension is unknown.
        ignoredExts: extensions to try when a name does not exist as asked
            (``("html",)`` serves ``about.html`` for ``about``); ``"*"``
            matches any.
        registry: state shared with processors.
        allowExt: true is the same as ``ignoredExts=("*",)``.

    Attributes:
        processors: maps an extension (``".cgi"``) to a callable taking
            ``(path, registry)`` and returning the resource that serves the
            file.
        indexNames: the names tried as a directory's index.
        followSymlinks: whether symbolic links may lead outside the root;
            off by default, so a link out of the tree is answered 403.
        chunkSize: bytes read per producer step.
    """

    contentTypes: ClassVar[dict[str, str]] = loadMimeTypes()
    contentEncodings: ClassVar[dict[str, str]] = {".gz": "gzip", ".bz2": "bzip2", ".br": "br"}

    type: str | None
    encoding: str | None

    def __init__(
        self,
        path: str | bytes | os.PathLike[str],
        defaultType: str = "text/html",
        ignoredExts: Sequence[str] = (),
        registry: Registry | None = None,
        allowExt: int | bool = 0,
    ) -> None:
        resource.Resource.__init__(self)
        FilePath.__init__(self, os.fsdecode(path))
        self.defaultType = defaultType
        self.ignoredExts: list[str] = list(ignoredExts) if not allowExt else ["*"]
        self.registry = registry if registry is not None else Registry()
        self.processors: dict[str, Callable[[str, Registry], Any]] = {}
        self.indexNames: list[str] = ["index", "index.html", "index.htm"]
        self.followSymlinks = False
        self.chunkSize = DEFAULT_CHUNK_SIZE
        self.type = None
        self.encoding = None
        self._root: str = self.path

    # Resource and FilePath both have opinions about equality; a resource
    # is only ever equal to itself.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path!r}>"

    @property
    def childNotFound(self) -> resource.ErrorPage:
        """The resource answering for a child that does not exist (404)."""
        return resource.NoResource("File not found.")

    @property
    def forbidden(self) -> resource.ErrorPage:
        """The resource answering for a child that may not be served (403)."""
        return resource.ForbiddenResource()

    def ignoreExt(self, ext: str) -> None:
        """Also try ``ext`` when a requested name does not exist."""
        self.ignoredExts.append(ext)

    def createSimilarFile(self, path: str) -> File:
        """A :class:`File` for ``path`` configured like this one."""
        f = type(self)(path, self.defaultType, self.ignoredExts, self.registry)
        f.processors = self.processors
        f.indexNames = self.indexNames[:]
        f.followSymlinks = self.followSymlinks
        f.chunkSize = self.chunkSize
        f._root = self._root
        return f

    def listNames(self) -> list[str]:  # type: ignore[override]
        """The sorted names in this directory (empty for a file)."""
        if not self.isdir():
            return []
        names = sorted(self.listdir())
        if self.followSymlinks:
            return names
        # Entries leading out of the tree are not served, so not listed.
        return [name for name in names if isInside(self._root, os.path.join(self.path, name))]

    def directoryListing(self) -> resource.Resource:
        """The resource listing this directory."""
        return DirectoryLister(
            self.path,
            self.listNames(),
            self.contentTypes,
            self.contentEncodings,
            self.defaultType,
        )

    def _inTree(self, path: str) -> bool:
        return self.followSymlinks or isInside(self._root, path)

    def getChild(self, path: bytes, request: Any) -> resource.Resource:
        """
        The child called ``path`` (one decoded path segment), its index file
        or listing for ``b""``, or an error resource.
        """
        self.restat(False)
        if not self.isdir():
            return self.childNotFound
        if not path:
            if getattr(request, "postpath", None):
                # "a//b": an empty segment in the middle names this same
                # directory, as servers that merge slashes read it.
                return self
            for name in self.indexNames:
                candidate = self.child(name)
                if candidate.exists() and self._inTree(candidate.path):
                    return self._childResource(candidate)
            return self.directoryListing()
        try:
            name = checkSegment(path)
            fpath: FilePath[str] | None = self.child(name)
        except (UnsafePath, InsecurePath):
            return self.forbidden
        assert fpath is not None
        if not fpath.exists():
            fpath = fpath.siblingExtensionSearch(*self.ignoredExts)
            if fpath is None:
                return self.childNotFound
        if not self._inTree(fpath.path):
            return self.forbidden
        return self._childResource(fpath)

    def _childResource(self, fpath: FilePath[str]) -> resource.Resource:
        processor = self.processors.get(fpath.splitext()[1].lower())
        if processor is not None:
            child: resource.Resource = processor(fpath.path, self.registry)
            return child
        return self.createSimilarFile(fpath.path)

    def openForReading(self) -> IO[bytes]:
        """Open the file for reading."""
        return self.open("r")

    def getFileSize(self) -> int:
        """The file's size in bytes."""
        return self.getsize()

    def render_GET(self, request: Any) -> bytes | int:
        """Serve the file, a byte range of it, or a redirect for a directory."""
        self.restat(False)
        if self.type is None:
            self.type, self.encoding = getTypeAndEncoding(
                self.basename(), self.contentTypes, self.contentEncodings, self.defaultType
            )
        if not self.exists():
            return self.childNotFound.render(request)
        if not self._inTree(self.path):
            return self.forbidden.render(request)
        if self.isdir():
            from fw.web.util import redirectTo

            return redirectTo(addSlash(request), request)
        if not self.isfile():
            # A FIFO, socket or device: opening it could block the reactor
            # (a FIFO with no writer) or stream forever (/dev/zero).
            return self.forbidden.render(request)
        try:
            fileForReading = self.openForReading()
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM):
                return self.forbidden.render(request)
            if e.errno == errno.ENOENT:
                return self.childNotFound.render(request)
            raise
        try:
            return self._renderOpened(request, fileForReading)
        except BaseException:
            fileForReading.close()
            raise

    render_HEAD = render_GET

    def _renderOpened(self, request: Any, fileForReading: IO[bytes]) -> bytes | int:
        stat = os.fstat(fileForReading.fileno())
        etag = makeETag(stat)
        request.setHeader(b"accept-ranges", b"bytes")
        request.setHeader(b"etag", etag)
        request.setHeader(b"last-modified", _httpDate(stat.st_mtime))
        condition = evaluateConditions(
            request.method,
            etag,
            stat.st_mtime,
            ifMatch=_header(request, b"if-match"),
            ifUnmodifiedSince=_header(request, b"if-unmodified-since"),
            ifNoneMatch=_header(request, b"if-none-match"),
            ifModifiedSince=_header(request, b"if-modified-since"),
        )
        if condition is not Condition.PROCEED:
            fileForReading.close()
            request.setResponseCode(304 if condition is Condition.NOT_MODIFIED else 412)
            return b""
        producer = self.makeProducer(request, fileForReading, stat.st_size, etag, stat.st_mtime)
        if request.method == b"HEAD":
            fileForReading.close()
            return b""
        producer.start()
        return NOT_DONE_YET

    def _setContentHeaders(self, request: Any, size: int | None = None) -> None:
        if size is not None:
            request.setHeader(b"content-length", b"%d" % size)
        if self.type:
            request.setHeader(b"content-type", self.type.encode("ascii"))
        if self.encoding:
            request.setHeader(b"content-encoding", self.encoding.encode("ascii"))

    def makeProducer(
        self,
        request: Any,
        fileForReading: IO[bytes],
        size: int | None = None,
        etag: bytes | None = None,
        lastModified: float | None = None,
    ) -> StaticProducer:
        """
        Set the status and content headers for ``request`` and build the
        producer that will send the body.
        """
        if size is None:
            size = os.fstat(fileForReading.fileno()).st_size
        rangeHeader = _header(request, b"range")
        ifRange = _header(request, b"if-range")
        if (
            rangeHeader is not None
            and ifRange is not None
            and etag is not None
            and not ifRangeMatches(ifRange, etag, lastModified or 0.0)
        ):
            rangeHeader = None
        ranges: list[tuple[int, int]] | None = None
        if rangeHeader is not None:
            try:
                ranges = resolveRanges(parseRange(rangeHeader), size)
            except RangeNotSatisfiable:
                request.setResponseCode(416)
                request.setHeader(b"content-range", b"bytes */%d" % size)
                self._setContentHeaders(request, 0)
                return SingleRangeStaticProducer(request, fileForReading, 0, 0)
            except ValueError:
                ranges = None
            # Ranges adding up to more than the file (overlaps, repeats) are
            # a denial-of-service pattern; send the file once instead.
            if ranges is not None and sum(stop - start for start, stop in ranges) > size:
                ranges = None
        if not ranges:
            self._setContentHeaders(request, size)
            return NoRangeStaticProducer(request, fileForReading, self.chunkSize)
        if len(ranges) == 1:
            start, stop = ranges[0]
            request.setResponseCode(206)
            request.setHeader(b"content-range", b"bytes %d-%d/%d" % (start, stop - 1, size))
            self._setContentHeaders(request, stop - start)
            return SingleRangeStaticProducer(
                request, fileForReading, start, stop - start, self.chunkSize
            )
        boundary = secrets.token_hex(16).encode("ascii")
        partType = (self.type or self.defaultType).encode("ascii")
        parts, trailer, length = multipartLayout(ranges, size, partType, boundary)
        request.setResponseCode(206)
        request.setHeader(b"content-length", b"%d" % length)
        request.setHeader(b"content-type", b"multipart/byteranges; boundary=" + boundary)
        if self.encoding:
            request.setHeader(b"content-encoding", self.encoding.encode("ascii"))
        return MultipleRangeStaticProducer(request, fileForReading, parts, trailer, self.chunkSize)


def _httpDate(when: float) -> bytes:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when)).encode("ascii")


@implementer(IPullProducer)
class StaticProducer:
    """
    The base of the producers sending a file's content to a request.

    It registers itself as a pull producer: each ``resumeProducing`` reads
    one chunk from the file and writes it; at the end it unregisters,
    finishes the request and closes the file.  ``stopProducing`` (the
    connection went away) closes the file.
    """

    def __init__(
        self, request: Any, fileObject: IO[bytes], chunkSize: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        self.request: Any = request
        self.fileObject = fileObject
        self.chunkSize = chunkSize

    def start(self) -> None:
        """Register with the request; the body then flows on demand."""
        assert self.request is not None
        self.request.registerProducer(self, False)

    def resumeProducing(self) -> None:
        """Write the next chunk, or finish."""
        raise NotImplementedError

    def pauseProducing(self) -> None:
        """Nothing to do for a pull producer."""

    def stopProducing(self) -> None:
        """The consumer is gone: close the file and forget the request."""
        self.fileObject.close()
        self.request = None

    def _done(self) -> None:
        request, self.request = self.request, None
        self.fileObject.close()
        if request is not None:
            request.unregisterProducer()
            request.finish()


class NoRangeStaticProducer(StaticProducer):
    """Sends a whole file."""

    def resumeProducing(self) -> None:
        """Write the next chunk of the file, or finish at its end."""
        if self.request is None:
            return
        data = self.fileObject.read(self.chunkSize)
        if data:
            self.request.write(data)
        else:
            self._done()


class SingleRangeStaticProducer(StaticProducer):
    """Sends ``size`` bytes of a file starting at ``offset``."""

    def __init__(
        self,
        request: Any,
        fileObject: IO[bytes],
        offset: int,
        size: int,
        chunkSize: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(request, fileObject, chunkSize)
        self.offset = offset
        self.bytesWritten = 0
        self.size = size

    def start(self) -> None:
        """Seek to the range and register with the request."""
        self.fileObject.seek(self.offset)
        super().start()

    def resumeProducing(self) -> None:
        """Write the next chunk of the range, or finish at its end."""
        if self.request is None:
            return
        remaining = self.size - self.bytesWritten
        data = self.fileObject.read(min(self.chunkSize, remaining)) if remaining > 0 else b""
        if data:
            self.bytesWritten += len(data)
            self.request.write(data)
        if not data or self.bytesWritten >= self.size:
            self._done()


class MultipleRangeStaticProducer(StaticProducer):
    """Sends several ranges of a file as a ``multipart/byteranges`` body."""

    def __init__(
        self,
        request: Any,
        fileObject: IO[bytes],
        rangeInfo: Sequence[tuple[bytes, int, int]],
        trailer: bytes = b"",
        chunkSize: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(request, fileObject, chunkSize)
        self.rangeInfo = list(rangeInfo)
        self.trailer = trailer
        self._partIndex = 0
        self._position = 0
        self._headerSent = False

    def resumeProducing(self) -> None:
        """Write the next part header or chunk, or the closing delimiter."""
        if self.request is None:
            return
        out: list[bytes] = []
        budget = self.chunkSize
        while budget > 0 and self._partIndex < len(self.rangeInfo):
            header, start, stop = self.rangeInfo[self._partIndex]
            if not self._headerSent:
                out.append(header)
                self._headerSent = True
                self._position = start
                self.fileObject.seek(start)
            data = self.fileObject.read(min(budget, stop - self._position))
            out.append(data)
            budget -= len(data)
            self._position += len(data)
            if not data or self._position >= stop:
                self._partIndex += 1
                self._headerSent = False
        if self._partIndex >= len(self.rangeInfo) and self.trailer:
            out.append(self.trailer)
            self.trailer = b""
            self.request.write(b"".join(out))
            return
        payload = b"".join(out)
        if payload:
            self.request.write(payload)
        else:
            self._done()


class DirectoryLister(resource.Resource):
    """
    An HTML listing of a directory: name, size, content type and encoding.

    Args:
        pathname: the directory.
        dirs: the names to list; ``None`` lists the directory's entries.
        contentTypes: the extension-to-type map.
        contentEncodings: the extension-to-encoding map.
        defaultType: the type of files with an unknown extension.
    """

    isLeaf = True

    template = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>%(header)s</title>
<style>
th, td {padding: 0 1em; text-align: left}
.even-dir {background-color: #efe0ef}
.odd-dir {background-color: #f0f0f0}
</style>
</head>
<body>
<h1>%(header)s</h1>
<table>
<thead><tr>
<th>Filename</th><th>Size</th><th>Content type</th><th>Content encoding</th>
</tr></thead>
<tbody>
%(tableContent)s
</tbody>
</table>
</body>
</html>
"""
    linePattern = (
        '<tr class="%(class)s"><td><a href="%(href)s">%(text)s</a></td>'
        "<td>%(size)s</td><td>%(type)s</td><td>%(encoding)s</td></tr>"
    )

    def __init__(
        self,
        pathname: str,
        dirs: Sequence[str] | None = None,
        contentTypes: Mapping[str, str] = File.contentTypes,
        contentEncodings: Mapping[str, str] = File.contentEncodings,
        defaultType: str = "text/html",
    ) -> None:
        super().__init__()
        self.path = pathname
        self.dirs = dirs
        self.contentTypes = contentTypes
        self.contentEncodings = contentEncodings
        self.defaultType = defaultType

    def _getFilesAndDirectories(
        self, names: Sequence[str]
    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        files: list[dict[str, str]] = []
        dirs: list[dict[str, str]] = []
        for name in names:
            full = os.path.join(self.path, name)
            text = html.escape(name)
            href = urllib.parse.quote(os.fsencode(name), safe="")
            if os.path.isdir(full):
                dirs.append(
                    {
                        "text": text + "/",
                        "href": href + "/",
                        "size": "",
                        "type": "[Directory]",
                        "encoding": "",
                    }
                )
            else:
                mimetype, encoding = getTypeAndEncoding(
                    name, self.contentTypes, self.contentEncodings, self.defaultType
                )
                try:
                    size = formatFileSize(os.path.getsize(full))
                except OSError:
                    continue
                files.append(
                    {
                        "text": text,
                        "href": href,
                        "size": size,
                        "type": "[" + html.escape(mimetype) + "]",
                        "encoding": "[" + html.escape(encoding) + "]" if encoding else "",
                    }
                )
        return dirs, files

    def _buildTableContent(self, elements: Sequence[dict[str, str]]) -> list[str]:
        rows = []
        for i, element in enumerate(elements):
            rows.append(
                self.linePattern % {**element, "class": "odd-dir" if i % 2 else "even-dir"}
            )
        return rows

    def render(self, request: Any) -> bytes:
        """The listing, as HTML."""
        names = self.dirs if self.dirs is not None else sorted(os.listdir(self.path))
        dirs, files = self._getFilesAndDirectories(names)
        title = "Directory listing for " + html.escape(
            urllib.parse.unquote(request.path.decode("latin-1"))
        )
        body = self.template % {
            "header": title,
            "tableContent": "\n".join(self._buildTableContent(dirs + files)),
        }
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        data = body.encode("utf-8", "surrogateescape")
        return b"" if request.method == b"HEAD" else data

    def __repr__(self) -> str:
        return f"<DirectoryLister of {self.path!r}>"

    __str__ = __repr__
