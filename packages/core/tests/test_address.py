"""Tests for fw.internet.address."""

from __future__ import annotations

import dataclasses
import os
import pickle
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from zope.interface.verify import verifyObject

from fw.internet.address import (
    HostnameAddress,
    IPv4Address,
    IPv6Address,
    UNIXAddress,
    _ProcessAddress,
)
from fw.internet.interfaces import IAddress


@pytest.mark.parametrize(
    "address",
    [
        IPv4Address("TCP", "127.0.0.1", 80),
        IPv6Address("UDP", "::1", 53),
        HostnameAddress(b"example.com", 443),
        UNIXAddress("/tmp/x.sock"),
        UNIXAddress(None),
        _ProcessAddress(),
    ],
)
def test_provides_iaddress(address: object) -> None:
    assert verifyObject(IAddress, address)


def test_ipv4_fields_repr_equality_hash() -> None:
    a = IPv4Address("TCP", "127.0.0.1", 8080)
    assert (a.type, a.host, a.port) == ("TCP", "127.0.0.1", 8080)
    assert repr(a) == "IPv4Address(type='TCP', host='127.0.0.1', port=8080)"
    b = IPv4Address("TCP", "127.0.0.1", 8080)
    assert a == b
    assert hash(a) == hash(b)
    assert a != IPv4Address("UDP", "127.0.0.1", 8080)
    assert a != IPv4Address("TCP", "127.0.0.2", 8080)
    assert a != IPv4Address("TCP", "127.0.0.1", 8081)
    assert {a, b} == {a}


def test_ipv4_is_not_ipv6() -> None:
    v4: object = IPv4Address("TCP", "1.2.3.4", 1)
    assert v4 != IPv6Address("TCP", "1.2.3.4", 1)


def test_ipv6_defaults_and_repr() -> None:
    a = IPv6Address("TCP", "::1", 80)
    assert (a.flowInfo, a.scopeID) == (0, 0)
    assert repr(a) == "IPv6Address(type='TCP', host='::1', port=80, flowInfo=0, scopeID=0)"
    b = IPv6Address("TCP", "fe80::1", 80, 5, 2)
    assert (b.flowInfo, b.scopeID) == (5, 2)
    assert b != IPv6Address("TCP", "fe80::1", 80, 5, 3)


def test_ordering() -> None:
    addresses = [
        IPv4Address("TCP", "10.0.0.2", 1),
        IPv4Address("TCP", "10.0.0.1", 2),
        IPv4Address("TCP", "10.0.0.1", 1),
    ]
    assert sorted(addresses) == [addresses[2], addresses[1], addresses[0]]
    assert HostnameAddress(b"a", 2) < HostnameAddress(b"b", 1)


@pytest.mark.parametrize("kind", ["SCTP", "tcp", ""])
def test_bad_type_rejected(kind: Any) -> None:
    with pytest.raises(ValueError, match="TCP"):
        IPv4Address(kind, "1.2.3.4", 5)
    with pytest.raises(ValueError, match="UDP"):
        IPv6Address(kind, "::1", 5)


@pytest.mark.parametrize(
    "address",
    [IPv4Address("TCP", "1.1.1.1", 1), IPv6Address("TCP", "::", 1), HostnameAddress(b"h", 1)],
)
def test_frozen(address: Any) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.port = 2


def test_hostname_address() -> None:
    a = HostnameAddress(b"example.com", 80)
    assert repr(a) == "HostnameAddress(hostname=b'example.com', port=80)"
    assert a == HostnameAddress(b"example.com", 80)
    assert hash(a) == hash(HostnameAddress(b"example.com", 80))
    assert a != HostnameAddress(b"example.org", 80)


@pytest.mark.parametrize(
    "address",
    [
        IPv4Address("UDP", "1.2.3.4", 5),
        IPv6Address("TCP", "::1", 5, 1, 2),
        HostnameAddress(b"h", 1),
        UNIXAddress("/some/path"),
        UNIXAddress(None),
    ],
)
def test_pickle_roundtrip(address: object) -> None:
    assert pickle.loads(pickle.dumps(address)) == address


def test_unix_name_is_bytes() -> None:
    assert UNIXAddress("/tmp/a").name == b"/tmp/a"
    assert UNIXAddress(b"/tmp/a").name == b"/tmp/a"
    assert UNIXAddress(Path("/tmp/a")).name == b"/tmp/a"
    assert UNIXAddress(None).name is None
    assert UNIXAddress("/tmp/a") == UNIXAddress(b"/tmp/a")


def test_unix_repr() -> None:
    assert repr(UNIXAddress(b"/tmp/a")) == "UNIXAddress('/tmp/a')"
    assert repr(UNIXAddress(None)) == "UNIXAddress(None)"


def test_unix_immutable() -> None:
    a = UNIXAddress("/x")
    with pytest.raises(AttributeError):
        a.name = b"/y"
    with pytest.raises(AttributeError):
        del a.name


def test_unix_inequality() -> None:
    assert UNIXAddress("/nonexistent/a") != UNIXAddress("/nonexistent/b")
    assert UNIXAddress(None) != UNIXAddress("/nonexistent/a")
    assert UNIXAddress("/nonexistent/a") != UNIXAddress(None)
    assert UNIXAddress(None) == UNIXAddress(None)
    assert hash(UNIXAddress(None)) == hash(UNIXAddress(None))
    assert UNIXAddress("/x") != IPv4Address("TCP", "1.2.3.4", 1)
    assert UNIXAddress("/x").__eq__(object()) is NotImplemented


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_unix_same_file_is_equal(tmp_path: Path) -> None:
    target = tmp_path / "sock"
    target.write_bytes(b"")
    link = tmp_path / "link"
    link.symlink_to(target)
    a, b = UNIXAddress(str(target)), UNIXAddress(str(link))
    assert a == b
    assert hash(a) == hash(b)
    assert UNIXAddress(str(tmp_path / "sub" / ".." / "sock")) != UNIXAddress(
        str(tmp_path / "missing")
    )


def test_unix_bound_socket_address(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(path)
        assert UNIXAddress(path) == UNIXAddress(s.getsockname())
        # Dotted paths name the same socket file.
        assert UNIXAddress(str(tmp_path / "." / "s")) == UNIXAddress(path)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="abstract namespace is Linux-only"
)
def test_unix_abstract_names() -> None:
    a = UNIXAddress(b"\0abstract")
    assert a == UNIXAddress(b"\0abstract")
    assert a != UNIXAddress(b"\0other")
    assert hash(a) == hash(UNIXAddress(b"\0abstract"))
    assert repr(a) == "UNIXAddress('\\x00abstract')"


def test_process_address() -> None:
    assert repr(_ProcessAddress()) == "_ProcessAddress()"
