"""
fw.web.static.File on the in-memory DummyRequest: the producers' output for
every chunk size and range set, checked against the file's bytes.
"""

from __future__ import annotations

import email.parser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.web import static
from fw.web.test.requesthelper import DummyRequest, render

CONTENT = bytes(range(256)) * 3  # 768 bytes


@pytest.fixture(scope="module")
def filePath(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("static") / "data.bin"
    path.write_bytes(CONTENT)
    return path


def get(path: Path, chunkSize: int, headers: dict[bytes, bytes] | None = None) -> DummyRequest:
    resource = static.File(str(path))
    resource.chunkSize = chunkSize
    request = DummyRequest([])
    for name, value in (headers or {}).items():
        request.requestHeaders.setRawHeaders(name, [value])
    d = render(resource, request)
    results: list[Any] = []
    d.addBoth(results.append)
    assert results == [None]
    return request


@settings(max_examples=60, deadline=None)
@given(chunkSize=st.integers(1, 1000))
def test_wholeFileAnyChunkSize(filePath: Path, chunkSize: int) -> None:
    request = get(filePath, chunkSize)
    assert b"".join(request.written) == CONTENT
    assert request.responseHeaders.getRawHeaders(b"content-length") == [b"768"]


@settings(max_examples=60, deadline=None)
@given(chunkSize=st.integers(1, 1000), first=st.integers(0, 767), length=st.integers(1, 800))
def test_singleRangeAnyChunkSize(filePath: Path, chunkSize: int, first: int, length: int) -> None:
    last = first + length - 1
    request = get(filePath, chunkSize, {b"range": b"bytes=%d-%d" % (first, last)})
    assert request.responseCode == 206
    assert b"".join(request.written) == CONTENT[first : last + 1]


@settings(max_examples=60, deadline=None)
@given(
    chunkSize=st.integers(1, 300),
    ranges=st.lists(st.tuples(st.integers(0, 767), st.integers(1, 100)), min_size=2, max_size=4),
)
def test_multipleRangesAnyChunkSize(
    filePath: Path, chunkSize: int, ranges: list[tuple[int, int]]
) -> None:
    spec = b",".join(b"%d-%d" % (first, first + length - 1) for first, length in ranges)
    request = get(filePath, chunkSize, {b"range": b"bytes=" + spec})
    body = b"".join(request.written)
    expected = [CONTENT[first : first + length] for first, length in ranges]
    if sum(len(e) for e in expected) > len(CONTENT):
        # Overlapping ranges adding up to more than the file: sent whole.
        assert body == CONTENT
        return
    assert request.responseCode == 206
    assert request.responseHeaders.getRawHeaders(b"content-length") == [b"%d" % len(body)]
    contentType = request.responseHeaders.getRawHeaders(b"content-type")[0]
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + contentType + b"\r\n\r\n" + body
    )
    parts = message.get_payload()
    assert isinstance(parts, list)
    assert [p.get_payload(decode=True) for p in parts] == expected


def test_stopProducingClosesFile(filePath: Path) -> None:
    resource = static.File(str(filePath))
    request = DummyRequest([])
    # Render without pulling: take the producer the file made.
    fileObject = resource.openForReading()
    producer = resource.makeProducer(request, fileObject)
    producer.stopProducing()
    assert fileObject.closed
    producer.resumeProducing()  # harmless after stopping
    assert request.written == []


def test_notFoundAndDirectoryChild(filePath: Path) -> None:
    directory = static.File(str(filePath.parent))
    request = DummyRequest([b"missing"])
    assert isinstance(directory.getChild(b"missing", request), static.resource.NoResource)
    assert isinstance(directory.getChild(b"..", request), static.resource.ForbiddenResource)
    child = directory.getChild(b"data.bin", request)
    assert isinstance(child, static.File)
    assert child.path == str(filePath)
