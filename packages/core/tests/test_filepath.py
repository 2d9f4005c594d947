"""Tests for fw.python.filepath: construction, modes, navigation, status and permissions.

Reading, writing, copying and moving are in test_filepath_io.py; the
security rules are in test_filepath_security.py.
"""

from __future__ import annotations

import os
import pickle
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from zope.interface.verify import verifyObject

from fw.python import _filepath, filepath
from fw.python.filepath import (
    RWX,
    AbstractFilePath,
    FilePath,
    IFilePath,
    Permissions,
)


@pytest.fixture
def tree(tmp_path: Path) -> FilePath[str]:
    """root/{a/{b/c.txt, x.html, x.txt}, f}"""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c.txt").write_bytes(b"c")
    (tmp_path / "a" / "x.html").write_bytes(b"html")
    (tmp_path / "a" / "x.txt").write_bytes(b"txt")
    (tmp_path / "f").write_bytes(b"0123456789")
    return FilePath(str(tmp_path))


class TestConstruction:
    def test_absolute(self) -> None:
        assert FilePath("/a/b/../c").path == os.path.abspath("/a/c")

    def test_relative(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        assert FilePath("x/y").path == os.path.join(os.getcwd(), "x", "y")
        assert FilePath("").path == os.getcwd()

    def test_modes(self) -> None:
        assert isinstance(FilePath("/a").path, str)
        assert isinstance(FilePath(b"/a").path, bytes)

    def test_path_like(self, tmp_path: Path) -> None:
        fp = FilePath(tmp_path / "x")
        assert fp.path == str(tmp_path / "x")
        assert os.fspath(fp) == fp.path
        assert isinstance(fp, os.PathLike)
        assert Path(fp) == tmp_path / "x"
        assert FilePath(FilePath(b"/q")).path == b"/q"

    def test_always_create(self) -> None:
        assert FilePath("/a").alwaysCreate is False
        fp = FilePath("/a", alwaysCreate=True)
        states = [fp.alwaysCreate]
        fp.requireCreate(False)
        states.append(fp.alwaysCreate)
        fp.requireCreate()
        states.append(fp.alwaysCreate)
        assert states == [True, False, True]

    def test_repr(self) -> None:
        assert repr(FilePath("/a/b")) == "FilePath('/a/b')"
        assert repr(FilePath(b"/a/b")) == "FilePath(b'/a/b')"

    def test_clone_path(self) -> None:
        clone = FilePath("/a").clonePath(b"/b", alwaysCreate=True)
        assert clone == FilePath(b"/b")
        assert clone.alwaysCreate

    def test_pickle_drops_stat_cache(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        assert f.exists()
        assert f._statinfo is not None
        copy = pickle.loads(pickle.dumps(f))
        assert copy == f
        assert copy._statinfo is None
        assert copy.getsize() == 10

    def test_provides_interface(self, tree: FilePath[str]) -> None:
        assert IFilePath.providedBy(tree)
        assert verifyObject(IFilePath, tree)
        assert IFilePath(tree) is tree


class TestComparison:
    def test_equality_and_hash(self) -> None:
        assert FilePath("/a") == FilePath("/a/b/..")
        assert FilePath("/a") != FilePath("/b")
        assert hash(FilePath("/a")) == hash(FilePath("/a"))
        assert len({FilePath("/a"), FilePath("/a"), FilePath("/b")}) == 2

    def test_modes_differ(self) -> None:
        assert FilePath("/a") != FilePath(b"/a")
        with pytest.raises(TypeError):
            _ = FilePath("/a") < FilePath(b"/a")  # type: ignore[arg-type]

    def test_other_types(self) -> None:
        other: Any = "/a"
        assert FilePath("/a") != other
        assert (FilePath("/a") == other) is False
        with pytest.raises(TypeError):
            _ = FilePath("/a") < other
        with pytest.raises(TypeError):
            _ = FilePath("/a") >= other

    def test_ordering(self) -> None:
        a, b = FilePath("/a"), FilePath("/b")
        assert a < b
        assert a <= b
        assert a <= FilePath("/a")
        assert b > a
        assert b >= a
        assert sorted([b, a]) == [a, b]

    def test_subclass(self) -> None:
        class Sub(FilePath[str]):
            pass

        assert Sub("/a") == FilePath("/a")
        assert hash(Sub("/a")) == hash(FilePath("/a"))
        assert type(Sub("/a").child("x")) is FilePath


class TestModes:
    def test_sep(self) -> None:
        assert FilePath("/a").sep == os.sep
        assert FilePath(b"/a").sep == os.sep.encode()

    def test_as_bytes_mode(self) -> None:
        text = FilePath("/a/\N{LATIN SMALL LETTER E WITH ACUTE}")
        as_bytes = text.asBytesMode()
        assert as_bytes.path == os.fsencode(text.path)
        assert as_bytes.asBytesMode() is as_bytes
        assert text.asBytesMode("latin-1").path == text.path.encode("latin-1")

    def test_as_text_mode(self) -> None:
        raw = FilePath(b"/a/\xe9")
        assert raw.asTextMode().path == os.fsdecode(b"/a/\xe9")
        assert raw.asTextMode("latin-1").path == "/a/\N{LATIN SMALL LETTER E WITH ACUTE}"
        text = FilePath("/a")
        assert text.asTextMode() is text

    def test_round_trip_undecodable(self) -> None:
        raw = FilePath(b"/a/\xff")
        assert raw.asTextMode().asBytesMode() == raw

    def test_child_mode_follows_name(self) -> None:
        assert FilePath("/a").child(b"x") == FilePath(b"/a/x")
        assert FilePath(b"/a").child("x") == FilePath("/a/x")
        assert FilePath(b"/a").sibling("x") == FilePath("/x")
        assert FilePath("/a").descendant([b"x", b"y"]) == FilePath(b"/a/x/y")
        assert FilePath("/a").preauthChild(b"x/y") == FilePath(b"/a/x/y")
        assert FilePath("/a").siblingExtension(b".z") == FilePath(b"/a.z")


class TestNavigation:
    def test_names(self) -> None:
        fp = FilePath("/a/b/c.tar.gz")
        assert fp.basename() == "c.tar.gz"
        assert fp.dirname() == "/a/b"
        assert fp.splitext() == ("/a/b/c.tar", ".gz")
        assert fp.isabs()
        assert FilePath(b"/a/b").basename() == b"b"

    def test_parent(self) -> None:
        assert FilePath("/a/b").parent() == FilePath("/a")
        top = FilePath("/")
        assert top.parent() == top
        assert top.basename() == ""

    def test_parents(self) -> None:
        assert list(FilePath("/a/b/c").parents()) == [
            FilePath("/a/b"),
            FilePath("/a"),
            FilePath("/"),
        ]
        assert list(FilePath("/").parents()) == []

    def test_sibling_descendant(self) -> None:
        assert FilePath("/a/b").sibling("c") == FilePath("/a/c")
        assert FilePath("/a").descendant(["b", "c"]) == FilePath("/a/b/c")
        assert FilePath("/a").descendant([]) == FilePath("/a")

    def test_segments_from(self) -> None:
        assert FilePath("/a/b/c/d").segmentsFrom(FilePath("/a/b")) == ["c", "d"]
        assert FilePath(b"/a/b").segmentsFrom(FilePath(b"/")) == [b"a", b"b"]

    def test_segments_from_not_ancestor(self) -> None:
        with pytest.raises(ValueError, match="not parent of"):
            FilePath("/a/b").segmentsFrom(FilePath("/x"))
        with pytest.raises(ValueError):
            FilePath("/a/b").segmentsFrom(FilePath("/a/b"))
        with pytest.raises(ValueError):
            FilePath("/a").segmentsFrom(FilePath("/a/b"))

    def test_child_search_preauth(self, tree: FilePath[str]) -> None:
        a = tree.child("a")
        assert a.childSearchPreauth("nothing", "b/c.txt", "x.txt") == a.preauthChild("b/c.txt")
        assert a.childSearchPreauth("nothing") is None
        assert a.childSearchPreauth() is None

    def test_sibling_extension_search(self, tree: FilePath[str]) -> None:
        x = tree.child("a").child("x")
        assert x.siblingExtensionSearch(".pdf", ".txt", ".html") == x.siblingExtension(".txt")
        assert x.siblingExtensionSearch(".pdf") is None
        assert x.siblingExtensionSearch("") is None
        text = x.siblingExtension(".txt")
        assert text.siblingExtensionSearch("") == text
        assert x.siblingExtensionSearch("*") == x.siblingExtension(".html")
        assert tree.child("a").child("y").siblingExtensionSearch("*") is None
        assert x.siblingExtensionSearch(b".txt") == text.asBytesMode()


class TestStatus:
    def test_kinds(self, tree: FilePath[str]) -> None:
        f, d, missing = tree.child("f"), tree.child("a"), tree.child("nothing")
        assert (f.exists(), f.isfile(), f.isdir(), f.islink()) == (True, True, False, False)
        assert (d.exists(), d.isfile(), d.isdir()) == (True, False, True)
        assert (missing.exists(), missing.isfile(), missing.isdir()) == (False, False, False)
        assert not missing.isBlockDevice()
        assert not missing.isSocket()
        assert not f.isBlockDevice()
        assert not f.isSocket()

    @pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")
    def test_socket(self, tmp_path: Path) -> None:
        # Short path: AF_UNIX addresses are limited to about 100 bytes.
        name = tmp_path / "s"
        with socket.socket(socket.AF_UNIX) as server:
            try:
                server.bind(str(name))
            except OSError as e:  # pragma: no cover - path too long on some systems
                pytest.skip(f"cannot bind a Unix socket here: {e}")
            assert FilePath(name).isSocket()
            assert not FilePath(name).isfile()

    @pytest.mark.skipif(not os.path.exists("/dev/loop0"), reason="no block device to look at")
    def test_block_device(self) -> None:
        assert FilePath("/dev/loop0").isBlockDevice() == stat.S_ISBLK(
            os.stat("/dev/loop0").st_mode
        )

    def test_stat_values(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        info = os.stat(f.path)
        assert f.getsize() == 10
        assert f.getModificationTime() == info.st_mtime
        assert f.getAccessTime() == info.st_atime
        assert f.getStatusChangeTime() == info.st_ctime
        assert f.getmtime() == int(info.st_mtime)
        assert f.getatime() == int(info.st_atime)
        assert f.getctime() == int(info.st_ctime)
        assert isinstance(f.getModificationTime(), float)

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX stat fields")
    def test_posix_stat_values(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        info = os.stat(f.path)
        assert f.getInodeNumber() == info.st_ino
        assert f.getDevice() == info.st_dev
        assert f.getNumberOfHardLinks() == 1
        assert f.getUserID() == info.st_uid
        assert f.getGroupID() == info.st_gid
        os.link(f.path, tree.child("hard").path)
        f.changed()
        assert f.getNumberOfHardLinks() == 2

    def test_posix_only_on_windows(
        self, tree: FilePath[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(_filepath, "_IS_WINDOWS", True)
        f = tree.child("f")
        for method in (
            f.getInodeNumber,
            f.getDevice,
            f.getNumberOfHardLinks,
            f.getUserID,
            f.getGroupID,
        ):
            with pytest.raises(NotImplementedError):
                method()

    def test_missing_raises(self, tree: FilePath[str]) -> None:
        missing = tree.child("nothing")
        for method in (
            missing.getsize,
            missing.getModificationTime,
            missing.getAccessTime,
            missing.getStatusChangeTime,
            missing.getPermissions,
        ):
            with pytest.raises(FileNotFoundError):
                method()

    def test_cache(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        assert f.exists()
        os.remove(f.path)
        # Still cached...
        assert f.exists()
        assert f.getsize() == 10
        f.changed()
        assert not f.exists()
        assert f.statinfo is None

    def test_restat(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        assert f.getsize() == 10
        with open(f.path, "ab") as out:
            out.write(b"more")
        assert f.getsize() == 10
        f.restat()
        assert f.getsize() == 14
        os.remove(f.path)
        with pytest.raises(FileNotFoundError):
            f.restat()
        assert f._statinfo is None
        f.restat(reraise=False)
        assert not f.exists()

    def test_statinfo(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        info = f.statinfo
        assert info is not None
        assert info.st_size == 10
        assert f.statinfo is info
        assert tree.child("nothing").statinfo is None

    def test_nonexistent_appears(self, tree: FilePath[str]) -> None:
        """A missing path is not cached as missing: it is noticed once created."""
        later = tree.child("later")
        assert not later.exists()
        Path(later.path).write_bytes(b"")
        assert later.exists()


class TestPermissions:
    def test_rwx(self) -> None:
        rwx = RWX(True, False, True)
        assert (rwx.read, rwx.write, rwx.execute) == (True, False, True)
        assert rwx.shorthand() == "r-x"
        assert RWX(False, False, False).shorthand() == "---"
        assert repr(rwx) == "RWX(read=True, write=False, execute=True)"
        assert rwx == RWX(True, False, True)
        assert rwx != RWX(True, True, True)
        assert hash(rwx) == hash(RWX(True, False, True))
        assert rwx != "r-x"

    def test_permissions(self) -> None:
        perms = Permissions(0o751)
        assert perms.user == RWX(True, True, True)
        assert perms.group == RWX(True, False, True)
        assert perms.other == RWX(False, False, True)
        assert perms.shorthand() == "rwxr-x--x"
        assert repr(perms) == (
            "[RWX(read=True, write=True, execute=True) | "
            "RWX(read=True, write=False, execute=True) | "
            "RWX(read=False, write=False, execute=True)]"
        )
        assert perms == Permissions(0o100751)
        assert perms != Permissions(0o750)
        assert hash(perms) == hash(Permissions(0o751))
        assert perms != 0o751

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
    def test_get_permissions_and_chmod(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        f.chmod(0o640)
        assert f.getPermissions().shorthand() == "rw-r-----"
        f.chmod(0o755)
        assert f.getPermissions() == Permissions(0o755)


class TestAbstract:
    def test_primitives_unimplemented(self) -> None:
        path: AbstractFilePath[str] = AbstractFilePath()
        path.path = "/x"
        for method, args in (
            (path.listdir, ()),
            (path.child, ("a",)),
            (path.parent, ()),
            (path.basename, ()),
            (path.isdir, ()),
            (path.open, ()),
            (path.getModificationTime, ()),
            (path.getStatusChangeTime, ()),
            (path.getAccessTime, ()),
        ):
            with pytest.raises(NotImplementedError):
                method(*args)
        assert hash(path) == hash((AbstractFilePath, "/x"))


def test_public_surface() -> None:
    for name in filepath.__all__:
        assert hasattr(filepath, name), name
    for cls in (FilePath, AbstractFilePath, IFilePath, Permissions, RWX):
        assert cls.__doc__
    for name, member in vars(FilePath).items():
        if callable(member) and not name.startswith("_"):
            assert member.__doc__, name
