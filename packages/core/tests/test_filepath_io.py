"""Tests for fw.python.filepath: reading, writing, listing, walking, copying and moving."""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from fw.python.filepath import FilePath, UnlistableError

posixOnly = pytest.mark.skipif(sys.platform == "win32", reason="POSIX behaviour")


@pytest.fixture
def tree(tmp_path: Path) -> FilePath[str]:
    """root/{a/{b/c.txt, x.html, x.txt, .hidden}, f}"""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c.txt").write_bytes(b"c")
    (tmp_path / "a" / "x.html").write_bytes(b"html")
    (tmp_path / "a" / "x.txt").write_bytes(b"txt")
    (tmp_path / "a" / ".hidden").write_bytes(b"")
    (tmp_path / "f").write_bytes(b"0123456789")
    return FilePath(str(tmp_path))


def names(paths: list[FilePath[str]]) -> list[str]:
    return sorted(p.basename() for p in paths)


class TestOpen:
    def test_read(self, tree: FilePath[str]) -> None:
        with tree.child("f").open() as f:
            assert f.read() == b"0123456789"
        with tree.child("f").open("rb") as f:
            assert f.read(3) == b"012"

    def test_write_and_append(self, tree: FilePath[str]) -> None:
        g = tree.child("g")
        with g.open("w") as f:
            f.write(b"one")
        with g.open("a") as f:
            f.write(b"two")
        assert g.getContent() == b"onetwo"
        with g.open("r+") as f:
            f.write(b"ON")
        assert g.getContent() == b"ONetwo"
        with g.open("w+b") as f:
            f.write(b"x")
            f.seek(0)
            assert f.read() == b"x"

    def test_missing(self, tree: FilePath[str]) -> None:
        with pytest.raises(FileNotFoundError):
            tree.child("nothing").open()

    def test_always_create(self, tree: FilePath[str]) -> None:
        existing = FilePath(tree.child("f").path, alwaysCreate=True)
        with pytest.raises(FileExistsError):
            existing.open("w")
        with pytest.raises(ValueError, match="Appending"):
            existing.open("a")
        fresh = tree.child("fresh")
        fresh.requireCreate()
        with fresh.open("w") as f:
            f.write(b"new")
        # alwaysCreate stays set: reading would try to create the file again.
        with pytest.raises(FileExistsError):
            fresh.getContent()
        fresh.requireCreate(False)
        assert fresh.getContent() == b"new"

    def test_create(self, tree: FilePath[str]) -> None:
        new = tree.child("new")
        with new.create() as f:
            f.write(b"abc")
            f.seek(0)
            assert f.read() == b"abc"
        with pytest.raises(FileExistsError):
            new.create()

    @posixOnly
    def test_created_files_not_executable(self, tree: FilePath[str]) -> None:
        new = tree.child("new")
        new.create().close()
        assert not os.stat(new.path).st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class TestSetContent:
    def test_replaces(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        assert f.getsize() == 10
        f.setContent(b"new")
        assert f.getContent() == b"new"
        assert f.getsize() == 3
        assert sorted(os.listdir(tree.path)) == ["a", "f"]

    def test_creates(self, tree: FilePath[str]) -> None:
        g = tree.child("g")
        g.setContent(b"")
        assert g.exists()
        assert g.getContent() == b""

    def test_bytes_mode(self, tree: FilePath[str]) -> None:
        g = tree.asBytesMode().child(b"g")
        g.setContent(b"data", ext=".tmp")
        assert g.getContent() == b"data"
        tree.asBytesMode().child(b"h").setContent(b"x", ext=b".tmp")
        assert sorted(os.listdir(tree.path)) == ["a", "f", "g", "h"]

    def test_uses_temporary_with_extension(
        self, tree: FilePath[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        moves: list[tuple[Any, Any]] = []
        realReplace = os.replace

        def recordingReplace(source: Any, destination: Any) -> None:
            moves.append((source, destination))
            assert Path(source).read_bytes() == b"content"
            assert Path(destination).read_bytes() == b"0123456789"
            realReplace(source, destination)

        monkeypatch.setattr(os, "replace", recordingReplace)
        f = tree.child("f")
        f.setContent(b"content", ext=".partial")
        [(source, destination)] = moves
        assert destination == f.path
        assert os.path.dirname(source) == tree.path
        assert os.path.basename(source).endswith("f.partial")

    def test_failure_keeps_old_content(
        self, tree: FilePath[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def failingFsync(fd: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", failingFsync)
        f = tree.child("f")
        with pytest.raises(OSError, match="No space"):
            f.setContent(b"new")
        monkeypatch.undo()
        assert f.getContent() == b"0123456789"
        assert sorted(os.listdir(tree.path)) == ["a", "f"]

    def test_into_missing_directory(self, tree: FilePath[str]) -> None:
        with pytest.raises(FileNotFoundError):
            tree.child("nodir").child("f").setContent(b"x")


class TestTemporarySibling:
    def test_name(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        first = f.temporarySibling()
        second = f.temporarySibling()
        assert first != second
        assert first.parent() == tree
        assert first.basename().endswith("f")
        assert len(first.basename()) == 16 + 1
        assert first.alwaysCreate
        assert not first.exists()

    def test_extension(self, tree: FilePath[str]) -> None:
        sibling = tree.child("f").temporarySibling(".tmp")
        assert sibling.basename().endswith("f.tmp")
        as_bytes = tree.child("f").temporarySibling(b".tmp")
        assert isinstance(as_bytes.path, bytes)
        assert as_bytes.basename().endswith(b"f.tmp")


class TestTouchAndDirectories:
    def test_touch_creates(self, tree: FilePath[str]) -> None:
        t = tree.child("t")
        assert not t.exists()
        t.touch()
        assert t.exists()
        assert t.getContent() == b""

    def test_touch_updates_times(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        os.utime(f.path, (1000, 1000))
        f.changed()
        assert f.getModificationTime() == 1000
        f.touch()
        assert f.getModificationTime() > 1000
        assert f.getContent() == b"0123456789"

    def test_touch_impossible(self, tree: FilePath[str]) -> None:
        with pytest.raises(FileNotFoundError):
            tree.child("nodir").child("t").touch()

    def test_create_directory(self, tree: FilePath[str]) -> None:
        d = tree.child("d")
        assert not d.exists()
        d.createDirectory()
        assert d.isdir()
        with pytest.raises(FileExistsError):
            d.createDirectory()
        with pytest.raises(FileNotFoundError):
            tree.descendant(["x", "y"]).createDirectory()

    def test_makedirs(self, tree: FilePath[str]) -> None:
        deep = tree.descendant(["x", "y", "z"])
        assert not deep.exists()
        deep.makedirs()
        assert deep.isdir()
        with pytest.raises(FileExistsError):
            deep.makedirs()
        deep.makedirs(ignoreExistingDirectory=True)

    def test_makedirs_file_in_the_way(self, tree: FilePath[str]) -> None:
        with pytest.raises(FileExistsError):
            tree.child("f").makedirs(ignoreExistingDirectory=True)
        with pytest.raises(NotADirectoryError):
            tree.child("f").child("sub").makedirs(ignoreExistingDirectory=True)


class TestRemove:
    def test_file(self, tree: FilePath[str]) -> None:
        f = tree.child("f")
        assert f.exists()
        f.remove()
        assert not f.exists()
        with pytest.raises(FileNotFoundError):
            f.remove()

    def test_tree(self, tree: FilePath[str]) -> None:
        a = tree.child("a")
        a.remove()
        assert not a.exists()
        assert names(tree.children()) == ["f"]

    @posixOnly
    def test_link_to_directory(self, tree: FilePath[str]) -> None:
        link = tree.child("link")
        tree.child("a").linkTo(link)
        link.remove()
        assert not os.path.lexists(link.path)
        assert tree.child("a").child("x.txt").exists()


class TestListing:
    def test_children(self, tree: FilePath[str]) -> None:
        a = tree.child("a")
        assert names(a.children()) == [".hidden", "b", "x.html", "x.txt"]
        assert all(c.parent() == a for c in a.children())
        assert sorted(a.listdir()) == [".hidden", "b", "x.html", "x.txt"]

    def test_children_bytes(self, tree: FilePath[str]) -> None:
        found = tree.asBytesMode().child(b"a").children()
        assert sorted(c.basename() for c in found) == [b".hidden", b"b", b"x.html", b"x.txt"]

    @pytest.mark.parametrize(("name", "code"), [("nothing", errno.ENOENT), ("f", errno.ENOTDIR)])
    def test_unlistable(self, tree: FilePath[str], name: str, code: int) -> None:
        with pytest.raises(UnlistableError) as info:
            tree.child(name).children()
        error = info.value
        assert isinstance(error, OSError)
        assert error.errno == code
        assert error.originalException.errno == code
        assert error.filename == tree.child(name).path
        assert error.strerror == os.strerror(code)

    def test_serious_error_not_unlistable(
        self, tree: FilePath[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def denied(path: Any) -> list[str]:
            raise PermissionError(errno.EACCES, "Permission denied", path)

        monkeypatch.setattr(os, "listdir", denied)
        with pytest.raises(PermissionError) as info:
            tree.children()
        assert not isinstance(info.value, UnlistableError)

    def test_glob_children(self, tree: FilePath[str]) -> None:
        a = tree.child("a")
        assert a.globChildren("x.*") == [a.child("x.html"), a.child("x.txt")]
        assert names(a.globChildren("*")) == ["b", "x.html", "x.txt"]
        assert names(a.globChildren(".*")) == [".hidden"]
        assert a.globChildren("nothing*") == []
        assert a.globChildren(b"*.txt") == [a.child(b"x.txt")]
        assert tree.child("nothing").globChildren("*") == []

    def test_glob_in_directory_with_magic_name(self, tmp_path: Path) -> None:
        odd = tmp_path / "[odd]*"
        odd.mkdir()
        (odd / "one").write_bytes(b"")
        assert names(FilePath(odd).globChildren("*")) == ["one"]


class TestWalk:
    def test_order(self, tree: FilePath[str]) -> None:
        walked = list(tree.walk())
        assert walked[0] == tree
        assert sorted(p.segmentsFrom(tree) for p in walked[1:]) == [
            ["a"],
            ["a", ".hidden"],
            ["a", "b"],
            ["a", "b", "c.txt"],
            ["a", "x.html"],
            ["a", "x.txt"],
            ["f"],
        ]
        # Depth first: each directory comes before what is inside it.
        position = {p: i for i, p in enumerate(walked)}
        for p in walked[1:]:
            assert position[p.parent()] < position[p]

    def test_descend(self, tree: FilePath[str]) -> None:
        seen: list[FilePath[str]] = []

        def notB(p: FilePath[str]) -> bool:
            seen.append(p)
            return p.basename() != "b"

        walked = list(tree.walk(notB))
        assert tree.descendant(["a", "b"]) in walked
        assert tree.descendant(["a", "b", "c.txt"]) not in walked
        assert tree.child("a") in seen

    def test_file(self, tree: FilePath[str]) -> None:
        assert list(tree.child("f").walk()) == [tree.child("f")]

    def test_missing(self, tree: FilePath[str]) -> None:
        assert list(tree.child("nothing").walk()) == [tree.child("nothing")]


class TestCopy:
    def test_file(self, tree: FilePath[str]) -> None:
        target = tree.child("copy")
        tree.child("f").copyTo(target)
        assert target.getContent() == b"0123456789"
        tree.child("a").child("x.txt").copyTo(target)
        assert target.getContent() == b"txt"

    def test_large_file(self, tree: FilePath[str]) -> None:
        data = os.urandom(3 * 65536 + 7)
        source = tree.child("big")
        source.setContent(data)
        source.copyTo(tree.child("big2"))
        assert tree.child("big2").getContent() == data

    def test_directory(self, tree: FilePath[str]) -> None:
        target = tree.child("copy")
        tree.child("a").copyTo(target)
        assert target.descendant(["b", "c.txt"]).getContent() == b"c"
        assert names(target.children()) == [".hidden", "b", "x.html", "x.txt"]
        assert tree.child("a").child("x.txt").exists()

    def test_directory_into_existing(self, tree: FilePath[str]) -> None:
        target = tree.child("copy")
        target.createDirectory()
        target.child("keep").setContent(b"k")
        tree.child("a").copyTo(target)
        assert names(target.children()) == [".hidden", "b", "keep", "x.html", "x.txt"]

    def test_directory_into_itself(self, tree: FilePath[str]) -> None:
        with pytest.raises(OSError) as info:
            tree.child("a").copyTo(tree.child("a").child("inner"))
        assert info.value.errno == errno.EINVAL
        assert not tree.child("a").child("inner").exists()

    def test_file_onto_directory(self, tree: FilePath[str]) -> None:
        with pytest.raises(IsADirectoryError):
            tree.child("f").copyTo(tree.child("a"))

    def test_directory_onto_file(self, tree: FilePath[str]) -> None:
        with pytest.raises(OSError):
            tree.child("a").copyTo(tree.child("f"))

    def test_missing(self, tree: FilePath[str]) -> None:
        with pytest.raises(OSError) as info:
            tree.child("nothing").copyTo(tree.child("copy"))
        assert info.value.errno == errno.ENOENT

    @posixOnly
    def test_special_file(self, tree: FilePath[str]) -> None:
        fifo = tree.child("fifo")
        os.mkfifo(fifo.path)
        with pytest.raises(NotImplementedError):
            fifo.copyTo(tree.child("copy"))

    @posixOnly
    def test_links(self, tree: FilePath[str]) -> None:
        link = tree.child("link")
        os.symlink("f", link.path)
        followed, kept = tree.child("followed"), tree.child("kept")
        link.copyTo(followed)
        assert not followed.islink()
        assert followed.getContent() == b"0123456789"
        link.copyTo(kept, followLinks=False)
        assert kept.islink()
        assert os.readlink(kept.path) == "f"

    @posixOnly
    def test_links_inside_directory(self, tree: FilePath[str]) -> None:
        os.symlink("x.txt", tree.child("a").child("alias").path)
        tree.child("a").copyTo(tree.child("kept"), followLinks=False)
        assert tree.child("kept").child("alias").islink()
        tree.child("a").copyTo(tree.child("followed"))
        assert not tree.child("followed").child("alias").islink()

    def test_mixed_modes(self, tree: FilePath[str]) -> None:
        tree.child("a").copyTo(tree.asBytesMode().child(b"copy"))
        assert tree.descendant(["copy", "b", "c.txt"]).getContent() == b"c"


class TestMove:
    def test_file(self, tree: FilePath[str]) -> None:
        f, g = tree.child("f"), tree.child("g")
        assert f.exists()
        assert not g.exists()
        f.moveTo(g)
        assert not f.exists()
        assert g.getContent() == b"0123456789"

    def test_directory(self, tree: FilePath[str]) -> None:
        tree.child("a").moveTo(tree.child("z"))
        assert tree.descendant(["z", "b", "c.txt"]).getContent() == b"c"
        assert not tree.child("a").exists()

    def test_onto_non_empty_directory(self, tree: FilePath[str]) -> None:
        tree.child("d").createDirectory()
        tree.child("d").child("x").touch()
        with pytest.raises(OSError):
            tree.child("a").moveTo(tree.child("d"))
        assert tree.child("a").exists()

    def test_missing(self, tree: FilePath[str]) -> None:
        with pytest.raises(FileNotFoundError):
            tree.child("nothing").moveTo(tree.child("x"))

    def test_mixed_modes(self, tree: FilePath[str]) -> None:
        tree.child("f").moveTo(tree.asBytesMode().child(b"g"))
        assert tree.child("g").getContent() == b"0123456789"

    @pytest.mark.parametrize("name", ["f", "a"])
    def test_across_filesystems(
        self, tree: FilePath[str], monkeypatch: pytest.MonkeyPatch, name: str
    ) -> None:
        """rename() fails with EXDEV between filesystems: the tree is copied instead."""
        source, destination = tree.child(name), tree.child("moved")
        realRename = os.rename
        renames: list[tuple[Any, Any]] = []

        def crossDeviceRename(src: Any, dst: Any) -> None:
            renames.append((src, dst))
            if src == source.path and dst == destination.path:
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            realRename(src, dst)

        monkeypatch.setattr(os, "rename", crossDeviceRename)
        before = sorted(str(p.segmentsFrom(source)) for p in list(source.walk())[1:])
        source.moveTo(destination)
        assert len(renames) == 3
        assert not source.exists()
        after = sorted(str(p.segmentsFrom(destination)) for p in list(destination.walk())[1:])
        assert after == before
        if name == "f":
            assert destination.getContent() == b"0123456789"
        # No staging copies or set-aside originals are left behind.
        assert sorted(os.listdir(tree.path)) == sorted({"a", "f", "moved"} - {name})

    def test_other_errors_propagate(
        self, tree: FilePath[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def failing(src: Any, dst: Any) -> None:
            raise OSError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(os, "rename", failing)
        with pytest.raises(PermissionError):
            tree.child("f").moveTo(tree.child("g"))


@posixOnly
class TestLinkTo:
    def test_link(self, tree: FilePath[str]) -> None:
        link = tree.child("link")
        tree.child("f").linkTo(link)
        assert link.islink()
        assert link.getContent() == b"0123456789"
        assert link.realpath() == tree.child("f")
        assert not tree.child("f").islink()

    def test_existing(self, tree: FilePath[str]) -> None:
        with pytest.raises(FileExistsError):
            tree.child("f").linkTo(tree.child("a"))

    def test_missing_parent(self, tree: FilePath[str]) -> None:
        with pytest.raises(FileNotFoundError):
            tree.child("f").linkTo(tree.child("nodir").child("link"))

    def test_stat_follows_link(self, tree: FilePath[str]) -> None:
        link = tree.child("link")
        tree.child("a").linkTo(link)
        assert link.isdir()
        assert link.islink()
        assert names(link.children()) == [".hidden", "b", "x.html", "x.txt"]
