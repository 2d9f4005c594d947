"""FilePath's security: no name or trick leads a child outside its parent.

``child`` takes one name from an untrusted source and must give a direct
child (or, as in Twisted, the directory itself for ``""`` and ``"."``);
``preauthChild`` takes a relative path and must stay inside; everything
built on them (``sibling``, ``descendant``, extensions, globbing, temporary
siblings) inherits that.  Symbolic links are not resolved by ``child``:
``realpath`` shows where a link really leads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.python import _filepath
from fw.python.filepath import FilePath, InsecurePath, LinkError

ESCAPING_NAMES = [
    "..",
    "../",
    "..//",
    "./..",
    "../x",
    "../../etc/passwd",
    "a/../..",
    "/",
    "/etc",
    "/etc/passwd",
    "a/b",
    "sub/",
    "\0",
    "a\0b",
    "..\0",
    "x\0/../y",
]


@pytest.fixture
def root(tmp_path: Path) -> FilePath[str]:
    base = tmp_path / "root"
    (base / "sub").mkdir(parents=True)
    (base / "sub" / "file").write_bytes(b"inside")
    (tmp_path / "outside").write_bytes(b"secret")
    (tmp_path / "root2").mkdir()
    return FilePath(str(base))


def isDirectChildOrSelf(parent: FilePath[str], candidate: FilePath[str]) -> bool:
    return candidate == parent or candidate.parent() == parent


class TestChild:
    @pytest.mark.parametrize("name", ESCAPING_NAMES)
    def test_refused(self, root: FilePath[str], name: str) -> None:
        with pytest.raises(InsecurePath):
            root.child(name)

    @pytest.mark.parametrize("name", ESCAPING_NAMES)
    def test_refused_bytes(self, root: FilePath[str], name: str) -> None:
        with pytest.raises(InsecurePath):
            root.child(name.encode())
        with pytest.raises(InsecurePath):
            root.asBytesMode().child(name.encode())

    def test_every_separator(self, root: FilePath[str]) -> None:
        for sep in filter(None, [os.sep, os.altsep]):
            with pytest.raises(InsecurePath, match="separators"):
                root.child(f"a{sep}b")

    def test_nul_message(self, root: FilePath[str]) -> None:
        with pytest.raises(InsecurePath, match="NUL"):
            root.child("a\0")

    def test_parent_message(self, root: FilePath[str]) -> None:
        with pytest.raises(InsecurePath, match="parent directory"):
            root.child("..")

    @pytest.mark.parametrize(
        "name",
        [
            "...",
            "....",
            " ..",
            ".. ",
            "..%2f..",
            "%2e%2e",
            "%2e%2e%2fetc",
            "..\N{DIVISION SLASH}etc",
            "\N{ONE DOT LEADER}\N{ONE DOT LEADER}",
            "\N{FULLWIDTH FULL STOP}\N{FULLWIDTH FULL STOP}",
            "~",
            "$HOME",
            "*",
            "a:b",
        ],
    )
    def test_lookalikes_are_literal_names(self, root: FilePath[str], name: str) -> None:
        """Encoded or look-alike separators and dots are ordinary characters."""
        child = root.child(name)
        assert child.parent() == root
        assert child.basename() == name

    @pytest.mark.skipif(os.sep != "/", reason="backslash is a separator on Windows")
    def test_backslash_is_literal_on_posix(self, root: FilePath[str]) -> None:
        child = root.child("..\\..\\etc")
        assert child.parent() == root
        assert child.basename() == "..\\..\\etc"

    def test_self(self, root: FilePath[str]) -> None:
        """As in Twisted, "" and "." are the directory itself, not an escape."""
        assert root.child("") == root
        assert root.child(".") == root
        assert root.child(b".") == root.asBytesMode()

    def test_root_directory(self) -> None:
        top = FilePath(os.path.abspath(os.sep))
        with pytest.raises(InsecurePath):
            top.child("..")
        assert top.child("etc").parent() == top

    def test_invalid_utf8_bytes_name(self, root: FilePath[str]) -> None:
        child = root.asBytesMode().child(b"\xff\xfe")
        assert child.basename() == b"\xff\xfe"
        assert child.parent() == root.asBytesMode()

    @given(st.text(max_size=12))
    def test_any_text(self, name: str) -> None:
        parent = FilePath(os.path.abspath("fwsec-hypothesis-root"))
        try:
            child = parent.child(name)
        except InsecurePath:
            return
        assert isDirectChildOrSelf(parent, child)

    @given(st.binary(max_size=12))
    def test_any_bytes(self, name: bytes) -> None:
        parent = FilePath(os.path.abspath(b"fwsec-hypothesis-root"))
        try:
            child = parent.child(name)
        except InsecurePath:
            return
        assert child == parent or child.parent() == parent


class TestWindowsChecks:
    """The Windows-only rules, checked by pretending to be on Windows."""

    @pytest.fixture(autouse=True)
    def windows(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(_filepath, "_IS_WINDOWS", True)

    @pytest.mark.parametrize("name", ["C:", "C:x", "c:..", "a:b", b"D:evil"])
    def test_colon(self, root: FilePath[str], name: Any) -> None:
        with pytest.raises(InsecurePath, match="colon"):
            root.child(name)

    @pytest.mark.parametrize("name", ["CON", "nul", "NUL.txt", "COM1", "lpt1", "aux.c", "PRN"])
    def test_reserved(self, root: FilePath[str], name: str) -> None:
        with pytest.raises(InsecurePath, match="reserved"):
            root.child(name)

    def test_ordinary_names(self, root: FilePath[str]) -> None:
        assert root.child("console").basename() == "console"


class TestPreauthChild:
    @pytest.mark.parametrize(
        "path",
        [
            "..",
            "../x",
            "../root2",
            "a/../..",
            "sub/../../outside",
            "/etc/passwd",
            os.path.abspath(os.sep),
            "sub/file/../../../root2",
            "\0",
            "sub\0",
        ],
    )
    def test_refused(self, root: FilePath[str], path: str) -> None:
        with pytest.raises(InsecurePath):
            root.preauthChild(path)

    def test_sibling_sharing_a_prefix(self, root: FilePath[str]) -> None:
        """ ".../root2" starts with ".../root" but is not inside it."""
        with pytest.raises(InsecurePath, match="not a child"):
            root.preauthChild("../root2/x")
        with pytest.raises(InsecurePath):
            root.preauthChild("sub/../../root2")

    @pytest.mark.parametrize(
        ("path", "segments"),
        [
            ("sub", ["sub"]),
            ("sub/file", ["sub", "file"]),
            ("a/../sub", ["sub"]),
            ("./sub//file", ["sub", "file"]),
        ],
    )
    def test_allowed(self, root: FilePath[str], path: str, segments: list[str]) -> None:
        assert root.preauthChild(path).segmentsFrom(root) == segments

    def test_itself(self, root: FilePath[str]) -> None:
        assert root.preauthChild("") == root
        assert root.preauthChild("sub/..") == root

    def test_bytes(self, root: FilePath[str]) -> None:
        assert root.preauthChild(b"sub/file").path == os.fsencode(root.path) + b"/sub/file"
        with pytest.raises(InsecurePath):
            root.preauthChild(b"../x")

    @given(st.lists(st.sampled_from(["..", ".", "a", "b", "", "root", "/"]), max_size=6))
    def test_any_combination(self, parts: list[str]) -> None:
        parent = FilePath(os.path.abspath("fwsec-hypothesis-root"))
        try:
            result = parent.preauthChild("/".join(parts))
        except InsecurePath:
            return
        assert result == parent or parent in list(result.parents())


class TestDerived:
    """Everything built on child() refuses the same escapes."""

    def test_descendant(self, root: FilePath[str]) -> None:
        assert root.descendant(["sub", "file"]).getContent() == b"inside"
        for segments in (["sub", ".."], ["..", "outside"], ["sub/file"], ["sub", "/etc"]):
            with pytest.raises(InsecurePath):
                root.descendant(segments)

    def test_sibling(self, root: FilePath[str]) -> None:
        sub = root.child("sub")
        assert sub.sibling("other").parent() == root
        for name in ("..", "../x", "a/b", "\0"):
            with pytest.raises(InsecurePath):
                sub.sibling(name)

    def test_sibling_extension(self, root: FilePath[str]) -> None:
        page = root.child("index")
        assert page.siblingExtension(".html").basename() == "index.html"
        extensions: list[Any] = ["/../../outside", "/x", "\0", b"/y"]
        for ext in extensions:
            with pytest.raises(InsecurePath):
                page.siblingExtension(ext)
        with pytest.raises(InsecurePath):
            page.siblingExtensionSearch(".html", "/../../outside")

    def test_temporary_sibling(self, root: FilePath[str], tmp_path: Path) -> None:
        target = root.child("data")
        with pytest.raises(InsecurePath):
            target.temporarySibling("/../../evil")
        with pytest.raises(InsecurePath):
            target.setContent(b"x", ext="/../../evil")
        assert not target.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "root", "root2"]

    @pytest.mark.parametrize("pattern", ["../*", "*/..", "../outside", "sub/*", "/*", "\0"])
    def test_glob_patterns_with_separators(self, root: FilePath[str], pattern: str) -> None:
        with pytest.raises(InsecurePath):
            root.globChildren(pattern)

    @pytest.mark.parametrize("pattern", ["..", ".", ".*", "[.][.]"])
    def test_glob_never_yields_parent_or_self(self, root: FilePath[str], pattern: str) -> None:
        for found in root.globChildren(pattern):
            assert found.parent() == root


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
class TestSymlinks:
    def test_child_is_lexical_realpath_tells(self, root: FilePath[str], tmp_path: Path) -> None:
        """A link inside the tree may point out; child() does not follow it, realpath() does."""
        link = root.child("escape")
        os.symlink(str(tmp_path / "outside"), link.path)
        assert link.parent() == root
        assert link.islink()
        real = link.realpath()
        assert real.path == str(tmp_path / "outside")
        assert root not in list(real.parents())
        assert link.getContent() == b"secret"

    def test_link_to_directory_outside(self, root: FilePath[str], tmp_path: Path) -> None:
        os.symlink(str(tmp_path / "root2"), root.child("dir").path)
        inner = root.child("dir").child("x")
        assert inner.path.startswith(root.path + os.sep)
        assert not root.child("dir").realpath().path.startswith(root.path + os.sep)

    def test_realpath_cycle(self, root: FilePath[str]) -> None:
        a, b = root.child("a"), root.child("b")
        os.symlink(a.path, b.path)
        os.symlink(b.path, a.path)
        with pytest.raises(LinkError, match="Cyclical"):
            a.realpath()

    def test_realpath_self_link(self, root: FilePath[str]) -> None:
        me = root.child("me")
        os.symlink(me.path, me.path)
        with pytest.raises(LinkError):
            me.realpath()

    def test_realpath_chain_and_dangling(self, root: FilePath[str]) -> None:
        target = root.child("sub").child("file")
        first, second = root.child("first"), root.child("second")
        os.symlink(target.path, second.path)
        os.symlink(second.path, first.path)
        assert first.realpath() == target
        dangling = root.child("dangling")
        os.symlink(root.child("nothing").path, dangling.path)
        assert dangling.realpath() == root.child("nothing")
        assert target.realpath() is target

    def test_walk_cycle(self, root: FilePath[str]) -> None:
        os.symlink(root.path, root.child("sub").child("loop").path)
        with pytest.raises(LinkError, match="Cycle"):
            list(root.walk())

    def test_walk_cycle_to_itself(self, root: FilePath[str]) -> None:
        os.symlink(".", root.child("sub").child("here").path)
        with pytest.raises(LinkError):
            list(root.walk())

    def test_walk_avoiding_links(self, root: FilePath[str]) -> None:
        os.symlink(root.path, root.child("sub").child("loop").path)
        walked = list(root.walk(lambda p: not p.islink()))
        assert walked[0] == root
        found = sorted(p.segmentsFrom(root) for p in walked[1:])
        assert found == [["sub"], ["sub", "file"], ["sub", "loop"]]

    def test_cycle_through_another_tree(self, root: FilePath[str], tmp_path: Path) -> None:
        """root/sub/away -> root2, root2/back -> root/sub: the loop never passes root itself."""
        os.symlink(str(tmp_path / "root2"), root.child("sub").child("away").path)
        os.symlink(root.child("sub").path, str(tmp_path / "root2" / "back"))
        with pytest.raises(LinkError):
            list(root.walk())

    def test_link_to_ancestor_not_descended(self, root: FilePath[str]) -> None:
        """A link back up is only a cycle if the walk goes into it."""
        os.symlink(root.path, root.child("sub").child("up").path)
        walked = [p.basename() for p in root.walk(lambda p: not p.islink())]
        assert "up" in walked

    def test_link_to_sibling_directory_is_not_a_cycle(
        self, root: FilePath[str], tmp_path: Path
    ) -> None:
        (tmp_path / "root2" / "inner").write_bytes(b"")
        os.symlink(str(tmp_path / "root2"), root.child("other").path)
        names = sorted(p.basename() for p in root.walk())
        assert "inner" in names
