"""Tests for the usage messages of fw.python.usage.Options: --help, getUsage, getSynopsis."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from fw.python import usage


@pytest.fixture(autouse=True)
def program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run as ``prog.py``, from a main module without docstring, in an 80-column terminal."""
    script = tmp_path / "prog.py"
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    monkeypatch.delenv("COLUMNS", raising=False)
    return script


class Server(usage.Options):
    optFlags = (("daemon", "d", "Run in the background."), ("quiet", "q", None))
    optParameters = (
        ("port", "p", 8080, "Port to listen on.", usage.portCoerce),
        ("logfile", "l", None, "Where to log."),
        ("root", None, "/srv", None),
    )

    def opt_define(self, value: str) -> None:
        """Define a symbol.

        May be given    more than once.
        """

    opt_D = opt_define

    def opt_x(self) -> None:
        """Enable experiments."""


SERVER_OPTIONS = """\
Options:
  -D, --define=   Define a symbol. May be given more than once.
  -d, --daemon    Run in the background.
      --help      Display this help and exit.
  -l, --logfile=  Where to log.
  -p, --port=     Port to listen on. [default: 8080]. Must be an int between 0
                  and 65535.
  -q, --quiet
      --root=     [default: /srv]
  -x              Enable experiments.
"""


class TestOptionsTable:
    def test_fullMessage(self) -> None:
        assert str(Server()) == "Usage: prog [options]\n" + SERVER_OPTIONS

    def test_getUsageHasNoSynopsis(self) -> None:
        assert Server().getUsage() == SERVER_OPTIONS

    def test_noTrailingWhitespace(self) -> None:
        for line in str(Server()).splitlines():
            assert line == line.rstrip()

    def test_narrowWidth(self) -> None:
        assert Server().getUsage(width=40).splitlines()[1:6] == [
            "  -D, --define=   Define a symbol. May",
            "                  be given more than",
            "                  once.",
            "  -d, --daemon    Run in the background.",
            "      --help      Display this help and",
        ]

    def test_columnsEnvironment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("COLUMNS", "40")
        assert Server().getUsage() == Server().getUsage(width=40)

    @pytest.mark.parametrize("columns", ["", "wide", "-3", "0"])
    def test_badColumnsMeans80(self, monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
        monkeypatch.setenv("COLUMNS", columns)
        assert Server().getUsage() == SERVER_OPTIONS

    def test_descriptionsKeepAMinimumWidth(self) -> None:
        lines = Server().getUsage(width=10).splitlines()
        assert lines[4:6] == ["  -d, --daemon    Run in the", "                  background."]

    def test_flagAndParameterDocsAreStripped(self) -> None:
        class Opts(usage.Options):
            optFlags = (("aflag", "f", "\n\n   flagallicious docstringness\n\n   "),)

        assert "  -f, --aflag  flagallicious docstringness" in str(Opts()).splitlines()

    def test_defaultWithoutDoc(self) -> None:
        class Opts(usage.Options):
            optParameters = (("n", None, 3, None, int),)

        assert "      --n=    [default: 3]" in str(Opts()).splitlines()

    def test_coerceDocWithoutDocOrDefault(self) -> None:
        class Opts(usage.Options):
            optParameters = (("port", None, None, None, usage.portCoerce),)

        lines = str(Opts()).splitlines()
        assert "      --port=  Must be an int between 0 and 65535." in lines

    def test_handlerWithoutDocstringUsesDeclaredDoc(self) -> None:
        class Opts(usage.Options):
            optFlags = (("verbose", "v", "Talk more."),)

            def opt_verbose(self) -> None:
                self["verbose"] = 2

        assert "  -v, --verbose  Talk more." in str(Opts()).splitlines()

    def test_aliasesAreShownOnce(self) -> None:
        class Opts(usage.Options):
            def opt_very_long(self) -> None:
                """Aliased."""

            opt_short = opt_very_long
            opt_s = opt_very_long

        assert Opts().getUsage() == (
            "Options:\n"
            "      --help       Display this help and exit.\n"
            "  -s, --very-long  Aliased.\n"
        )

    def test_noOptions(self) -> None:
        class Bare(usage.Options):
            opt_help = None  # type: ignore[assignment]

        assert str(Bare()) == "Usage: prog\nOptions: None\n"

    def test_version(self) -> None:
        class Opts(usage.Options):
            version = "2.0"

        assert "      --version  Display version information and exit." in str(Opts()).splitlines()


class Quest(usage.Options):
    optFlags = (("horseback", "h", "Use a horse."),)


class Inquisition(usage.Options):
    synopsis = "[options] <heretic>"

    def parseArgs(self, heretic: str) -> None:
        self["heretic"] = heretic


class Root(usage.Options):
    optFlags = (("swallow", None, "Set the default swallow type to European."),)
    subCommands = (
        ("inquisition", None, Inquisition, "Perform an inquisition."),
        (
            "holyquest",
            "quest",
            Quest,
            "Embark upon a holy quest to find the Grail, or die trying.",
        ),
    )


ROOT_HELP = """\
Usage: prog [options]
Options:
      --help     Display this help and exit.
      --swallow  Set the default swallow type to European.
Commands:
    holyquest (quest)      Embark upon a holy quest to find the Grail, or die
                           trying.
    inquisition            Perform an inquisition.
"""


class TestSubCommands:
    def test_commandsAreListedByName(self) -> None:
        assert str(Root()) == ROOT_HELP

    def test_subCommandSynopsis(self) -> None:
        root = Root()
        root.parseOptions(["quest"])
        assert root.subOptions.getSynopsis() == "Usage: prog [options] holyquest [options]"

    def test_customSubCommandSynopsis(self) -> None:
        root = Root()
        root.parseOptions(["inquisition", "Galileo"])
        expected = "Usage: prog [options] inquisition [options] <heretic>"
        assert root.subOptions.getSynopsis() == expected

    def test_afterSubCommandTheMessageIsItsOwn(self) -> None:
        root = Root()
        with pytest.raises(usage.UsageError):
            root.parseOptions(["quest", "--walking"])
        assert str(root) == str(root.subOptions)
        assert str(root).startswith("Usage: prog [options] holyquest [options]\nOptions:\n")
        assert "--horseback" in root.getUsage()

    def test_emptySubCommandsListsNothing(self) -> None:
        class Opts(usage.Options):
            subCommands = ()

        assert "Commands" not in str(Opts())

    def test_nestedSynopsis(self) -> None:
        class Leaf(usage.Options):
            pass

        class Middle(usage.Options):
            subCommands = (("leaf", None, Leaf, ""),)

        class Top(usage.Options):
            subCommands = (("middle", None, Middle, ""),)

        top = Top()
        top.parseOptions(["middle", "leaf"])
        leaf = top.subOptions.subOptions
        assert leaf.getSynopsis() == "Usage: prog [options] middle [options] leaf [options]"


class TestDescription:
    def test_longdesc(self) -> None:
        class Opts(usage.Options):
            longdesc = (
                "Frobnicate the widgets of the named hosts, one at a time, "
                "in the order given on the command line."
            )

        assert (
            Opts()
            .getUsage(width=40)
            .endswith(
                "\nFrobnicate the widgets of the named\n"
                "hosts, one at a time, in the order given\n"
                "on the command line.\n"
            )
        )

    def test_paragraphsAreKept(self) -> None:
        class Opts(usage.Options):
            longdesc = """
                First paragraph,
                two lines.

                Second paragraph.
            """

        assert Opts().getUsage().endswith("\nFirst paragraph, two lines.\n\nSecond paragraph.\n")

    def test_classDocstring(self) -> None:
        class Opts(usage.Options):
            """Mirror a directory tree to a remote host."""

        assert Opts().getUsage().endswith("\nMirror a directory tree to a remote host.\n")

    def test_inheritedClassDocstring(self) -> None:
        class Base(usage.Options):
            """Shared description."""

        class Sub(Base):
            pass

        assert Sub().getUsage().endswith("\nShared description.\n")

    def test_mainModuleDocstring(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__", "Tool doc."))

        class Opts(usage.Options):
            pass

        assert Opts().getUsage().endswith("\nTool doc.\n")

    def test_emptyLongdescSilencesDocstrings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__", "Tool doc."))

        class Opts(usage.Options):
            """Class doc."""

            longdesc = ""

        assert Opts().getUsage() == "Options:\n      --help  Display this help and exit.\n"

    def test_plainOptionsHasNoDescription(self) -> None:
        assert (
            usage.Options().getUsage() == "Options:\n      --help  Display this help and exit.\n"
        )

    def test_descriptionComesBeforeCommands(self) -> None:
        class Opts(Root):
            longdesc = "Monty."

        text = str(Opts())
        assert "European.\n\nMonty.\nCommands:\n" in text


class TestSynopsis:
    def test_default(self) -> None:
        assert Server().getSynopsis() == "Usage: prog [options]"

    def test_custom(self) -> None:
        class Opts(usage.Options):
            synopsis = "Usage: prog [options] <file>...   "

        assert Opts().getSynopsis() == "Usage: prog [options] <file>..."

    def test_scriptInPackage(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        package = tmp_path / "tools"
        package.mkdir()
        (package / "__init__.py").write_text("")
        monkeypatch.setattr(sys, "argv", [str(package / "sync.py")])
        assert usage.Options().getSynopsis() == "Usage: tools.sync [options]"

    def test_runAsModule(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        package = tmp_path / "outer" / "inner"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package.parent / "__init__.py").write_text("")
        monkeypatch.setattr(sys, "argv", [str(package / "__main__.py")])
        monkeypatch.setattr(sys, "executable", "/opt/bin/python3.11")
        expected = "Usage: python3.11 -m outer.inner [options]"
        assert usage.Options().getSynopsis() == expected

    def test_interactive(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(sys, "argv", [""])
        assert usage.Options().getSynopsis() == "Usage: python [options]"


class TestDocMakeChunks:
    def test_rows(self) -> None:
        chunks = usage.docMakeChunks(
            [
                {
                    "long": "zeta",
                    "short": "a",
                    "doc": "Last long, first short.",
                    "optType": "flag",
                },
                {"long": "beta", "doc": "  Spaced  out  ", "optType": "parameter", "default": 2},
                {"long": "beta", "doc": "A duplicate, dropped."},
                {"short": "x", "doc": "Short only."},
            ],
            width=60,
        )
        assert chunks == [
            "  -a, --zeta   Last long, first short.\n",
            "      --beta=  Spaced out [default: 2]\n",
            "  -x           Short only.\n",
        ]

    def test_commands(self) -> None:
        chunks = usage.docMakeChunks(
            [
                {"long": "stop", "doc": "Stop it.", "optType": "command"},
                {"long": "start", "short": "go", "doc": "Start it.", "optType": "command"},
            ]
        )
        assert chunks == [
            "    start (go)      Start it.\n",
            "    stop            Stop it.\n",
        ]

    def test_defaultWidthIs80(self) -> None:
        [chunk] = usage.docMakeChunks([{"long": "a", "doc": "word " * 30}])
        assert max(len(line) for line in chunk.splitlines()) <= 80

    def test_empty(self) -> None:
        assert usage.docMakeChunks([]) == []
