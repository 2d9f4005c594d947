"""Tests for the shell completion of fw.python.usage: Completers, Completions, scripts.

The generated scripts are checked three ways: their text, the shells' own
syntax check (``bash -n``, ``zsh -n``), and real completion: the bash
function is called with ``COMP_WORDS`` set as bash sets them, and zsh runs
its completion system in a pseudo-terminal (``zsh/zpty``), with ``compadd``
wrapped to record the matches.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fw.python import usage
from fw.python._usage_shellcomp import buildScope, completionScript, functionName
from fw.trial.pytestplugin import requirePeer as requireProgram

# -- helpers


def syntaxCheck(shell: str, script: str, tmp_path: Path) -> None:
    path = tmp_path / f"script.{shell}"
    path.write_text(script)
    result = subprocess.run(
        [requireProgram(shell), "-n", str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def bashWords(line: str) -> list[str]:
    """Split a command line into COMP_WORDS as bash does: at blanks and at ``=``, ``:``, ``@``."""
    words = [piece for chunk in line.split() for piece in re.findall(r"[=:@]|[^=:@]+", chunk)]
    if line.endswith(" "):
        words.append("")
    return words


_BASH_DRIVER = r"""
source "$1"
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
fn=$3
shift 3
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"$fn"
((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
exit 0
"""


def bashComplete(
    script: Path, cmdName: str, line: str, cwd: Path, env: dict[str, str] | None = None
) -> list[str]:
    """The matches the generated bash function gives with the cursor at the end of ``line``."""
    result = subprocess.run(
        [
            requireProgram("bash"),
            "-c",
            _BASH_DRIVER,
            "bash",
            str(script),
            line,
            functionName(cmdName),
            *bashWords(line),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


# Runs in the zsh under test: record every match compadd is given (calls
# that already collect matches with -O/-A/-D are passed through), and make
# TAB complete then print a marker the driver waits for.
_ZSH_SETUP = r"""
PS1=''
bindkey -e
unsetopt autolist
compadd() {
  if (( ${@[(I)-[ODA]]} )); then
    builtin compadd "$@"
    return
  fi
  local -a fwhits
  builtin compadd -O fwhits "$@"
  (( $#fwhits )) && print -rl -- $fwhits >> $fwout
  builtin compadd "$@"
}
fwtab() {
  fwout=$fwprefix.$(( ++fwn ))
  : >| $fwout
  zle complete-word
  print -u2 -- "FW${fwx}DONE-$fwn."
}
zle -N fwtab
bindkey '^I' fwtab
"""

# Drives an interactive zsh in a pseudo-terminal: types each line and TAB,
# waits for the marker, then clears the line (^U).
_ZSH_DRIVER = r"""
zmodload zsh/zpty || exit 3
zpty fwz zsh -f -i || exit 4
zpty -w fwz "fwprefix=${(q)1}; source ${(q)2}; $3"
shift 3
integer n=0
for line in "$@"; do
  (( ++n ))
  zpty -w -n fwz "$line"$'\t'
  zpty -r fwz junk "*FWDONE-$n.*" || exit 5
  zpty -w -n fwz $'\x15'
done
zpty -d fwz
"""


def zshComplete(setup: str, lines: list[str], tmp_path: Path) -> list[list[str]]:
    """The matches zsh's completion system offers for each line, cursor at the end.

    Args:
        setup: zsh commands run first (to load completion for the command).
    """
    zsh = requireProgram("zsh")
    probe = subprocess.run([zsh, "-fc", "zmodload zsh/zpty"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("zsh has no zsh/zpty module")
    out = tmp_path / "matches"
    setupFile = tmp_path / "setup.zsh"
    setupFile.write_text(_ZSH_SETUP)
    result = subprocess.run(
        [zsh, "-f", "-c", _ZSH_DRIVER, "zsh", str(out), str(setupFile), setup, *lines],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "TERM": "dumb", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    return [
        sorted(set(Path(f"{out}.{n}").read_text().split("\n")) - {""})
        for n in range(1, len(lines) + 1)
    ]


# -- a command to complete


class ImportOptions(usage.Options):
    optParameters = (
        ("module", "m", None, "Module to import."),
        ("vendor", "v", None, "Vendor tag."),
        ("release", "r", None),
    )
    compData = usage.Completions(
        optActions={"vendor": usage.CompleteList(["acme", "globex", "initech"])},
        extraActions=[
            usage.CompleteFiles("*.py", descr="source"),
            usage.CompleteDirs(descr="target", repeat=True),
        ],
    )

    def parseArgs(self, *paths: str) -> None:
        self["paths"] = paths


class CheckoutOptions(usage.Options):
    optFlags = (("quiet", "q", "Say nothing."), ("loud", "l", "Say everything."))
    optParameters = (("tag", "r", None, "Tags, comma separated."),)
    compData = usage.Completions(
        mutuallyExclusive=[("quiet", "loud")],
        optActions={"tag": usage.CompleteMultiList(["red", "green", "blue"])},
    )


class Cvs(usage.Options):
    optFlags = (("verbose", "v", "More output."),)
    optParameters = (
        ("compression", "z", "0", "Use compression."),
        ("repository", "d", None, "Repository: an alternate [root]."),
        ("host", None, None, "Server, as user@host."),
        ("owner", None, None, "Owner."),
        ("group", None, None, "Group."),
        ("interface", None, None, "Network interface."),
        ("server", None, None, "Server name."),
        ("cache", None, None, "Cache directory."),
    )
    subCommands = (
        ("import", "im", ImportOptions, "Do an import."),
        ("checkout", "co", CheckoutOptions, "Do a checkout: it's quick."),
    )
    compData = usage.Completions(
        multiUse=["verbose"],
        optActions={
            "compression": usage.CompleteList(["0", "1", "9"]),
            "host": usage.CompleteUserAtHost(),
            "owner": usage.CompleteUsernames(),
            "group": usage.CompleteGroups(),
            "interface": usage.CompleteNetInterfaces,
            "server": usage.CompleteHostnames(),
            "cache": usage.CompleteDirs(),
        },
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A directory to complete in: a.py, b.txt, sub/c.py, sub/d.txt, sub/deeper/."""
    work = tmp_path / "work"
    (work / "sub" / "deeper").mkdir(parents=True)
    for name in ["a.py", "b.txt", "sub/c.py", "sub/d.txt"]:
        (work / name).write_text("")
    return work


# -- Completer actions


class TestCompleterZsh:
    def test_completer(self) -> None:
        assert usage.Completer()._shellCode("some-option", usage._ZSH) == ":some-option:"
        c = usage.Completer(descr="some action", repeat=True)
        assert c._shellCode("some-option", usage._ZSH) == "*:some action:"

    def test_files(self) -> None:
        c = usage.CompleteFiles()
        assert c._shellCode("some-option", usage._ZSH) == ':some-option (*):_files -g "*"'
        c = usage.CompleteFiles("*.py")
        assert c._shellCode("some-option", usage._ZSH) == ':some-option (*.py):_files -g "*.py"'
        c = usage.CompleteFiles("*.py", descr="some action", repeat=True)
        assert c._shellCode("some-option", usage._ZSH) == '*:some action (*.py):_files -g "*.py"'

    def test_dirs(self) -> None:
        c = usage.CompleteDirs()
        assert c._shellCode("some-option", usage._ZSH) == ":some-option:_directories"
        c = usage.CompleteDirs(descr="some action", repeat=True)
        assert c._shellCode("some-option", usage._ZSH) == "*:some action:_directories"

    def test_list(self) -> None:
        assert usage.CompleteList("ABC")._shellCode("some-option", usage._ZSH) == (
            ":some-option:(A B C)"
        )
        c = usage.CompleteList(["1", "2", "3"], descr="some action", repeat=True)
        assert c._shellCode("some-option", usage._ZSH) == "*:some action:(1 2 3)"

    def test_listQuotesSpecialCharacters(self) -> None:
        c = usage.CompleteList(["a b", "(x)", "it's"])
        assert c._shellCode("o", usage._ZSH) == r":o:(a\ b \(x\) it\'s)"

    def test_multiList(self) -> None:
        c = usage.CompleteMultiList("ABC")
        assert c._shellCode("some-option", usage._ZSH) == (
            ":some-option:_values -s , 'some-option' A B C"
        )
        c = usage.CompleteMultiList(["1", "2", "3"], descr="some action", repeat=True)
        assert c._shellCode("some-option", usage._ZSH) == (
            "*:some action:_values -s , 'some action' 1 2 3"
        )

    def test_systemNames(self) -> None:
        assert usage.CompleteUsernames()._shellCode("o", usage._ZSH) == ":o:_users"
        assert usage.CompleteGroups()._shellCode("o", usage._ZSH) == ":group:_groups"
        assert usage.CompleteHostnames()._shellCode("o", usage._ZSH) == ":o:_hosts"
        assert usage.CompleteNetInterfaces()._shellCode("o", usage._ZSH) == ":o:_net_interfaces"
        c = usage.CompleteGroups(descr="some action", repeat=True)
        assert c._shellCode("o", usage._ZSH) == "*:some action:_groups"

    def test_userAtHost(self) -> None:
        code = usage.CompleteUserAtHost()._shellCode("o", usage._ZSH)
        assert code == (
            ":host | user@host:_alternative 'hosts:remote host name:_hosts' "
            "'users:login name:_user_at_host'"
        )
        c = usage.CompleteUserAtHost(descr="some action", repeat=True)
        assert c._shellCode("o", usage._ZSH).startswith("*:some action:_alternative ")

    def test_colonInDescriptionIsEscaped(self) -> None:
        assert usage.Completer(descr="a:b")._shellCode("o", usage._ZSH) == r":a\:b:"


class TestCompleterBash:
    @pytest.mark.parametrize(
        ("action", "code"),
        [
            (usage.Completer(), ":"),
            (usage.CompleteFiles(), "_fw_usage_files '*'"),
            (usage.CompleteFiles("*.py"), "_fw_usage_files '*.py'"),
            (usage.CompleteDirs(), "_fw_usage_dirs"),
            (usage.CompleteList(["a", "b c"]), "_fw_usage_words a 'b c'"),
            (usage.CompleteMultiList(["x", "y"]), "_fw_usage_multi x y"),
            (usage.CompleteUsernames(), "_fw_usage_compgen -u"),
            (usage.CompleteGroups(), "_fw_usage_compgen -g"),
            (usage.CompleteHostnames(), "_fw_usage_compgen -A hostname"),
            (usage.CompleteUserAtHost(), "_fw_usage_userathost"),
            (usage.CompleteNetInterfaces(), "_fw_usage_interfaces"),
        ],
    )
    def test_code(self, action: usage.Completer, code: str) -> None:
        assert action._shellCode("some-option", usage._BASH) == code

    @pytest.mark.parametrize(
        "cls",
        [
            usage.Completer,
            usage.CompleteFiles,
            usage.CompleteDirs,
            usage.CompleteUsernames,
            usage.CompleteGroups,
            usage.CompleteHostnames,
            usage.CompleteUserAtHost,
            usage.CompleteNetInterfaces,
        ],
    )
    def test_unknownShell(self, cls: type[usage.Completer]) -> None:
        with pytest.raises(NotImplementedError, match="Unknown shellType 'fish'"):
            cls()._shellCode("o", "fish")

    @pytest.mark.parametrize("cls", [usage.CompleteList, usage.CompleteMultiList])
    def test_unknownShellWithItems(self, cls: type[usage.CompleteList]) -> None:
        with pytest.raises(NotImplementedError):
            cls(["a"])._shellCode("o", "fish")


class TestCompletions:
    def test_defaultsAreNotShared(self) -> None:
        a, b = usage.Completions(), usage.Completions()
        a.multiUse.append("x")
        a.optActions["x"] = usage.Completer()
        assert b.multiUse == []
        assert b.optActions == {}

    def test_attributes(self) -> None:
        files = usage.CompleteFiles()
        c = usage.Completions(
            descriptions={"a": "A"},
            multiUse=("a",),
            mutuallyExclusive=[("a", "b")],
            optActions={"a": files},
            extraActions=[files],
        )
        assert c.descriptions == {"a": "A"}
        assert c.multiUse == ["a"]
        assert c.mutuallyExclusive == [("a", "b")]
        assert c.optActions == {"a": files}
        assert c.extraActions == [files]


# -- what the generators see


def _notACompleter() -> Any:
    return "nope"


class TestScope:
    def test_options(self) -> None:
        scope = buildScope(Cvs())
        verbose = scope.option("verbose")
        assert (verbose.longNames, verbose.shortNames) == (["verbose"], ["v"])
        assert verbose.action is None
        assert verbose.multiUse
        assert verbose.description == "More output."
        assert scope.option("compression").takesArg
        assert [s.name for s in scope.subCommands] == ["import", "checkout"]
        assert scope.subCommands[1].shortcut == "co"
        assert scope.subCommands[1].scope.path == ("checkout",)
        assert scope.subCommands[1].scope.option("quiet").excludes == ["loud"]
        assert scope.subCommands[1].scope.option("loud").excludes == ["quiet"]

    def test_descriptionPrecedence(self) -> None:
        class Opts(usage.Options):
            optFlags = (("a", None, "Declared."), ("b", None, "Declared."), ("c", None, None))
            compData = usage.Completions(descriptions={"a": "Replaced."})

            def opt_d(self) -> None:
                """Method doc,
                on two lines."""

            def opt_e(self) -> None:
                pass

        scope = buildScope(Opts())
        descriptions = [scope.option(n).description for n in "abcde"]
        assert descriptions == ["Replaced.", "Declared.", "c", "Method doc, on two lines.", "e"]

    def test_compDataIsMergedFromBases(self) -> None:
        class Base(usage.Options):
            optFlags = (("a", None, None), ("b", None, None))
            compData = usage.Completions(multiUse=["a"], extraActions=[usage.CompleteDirs()])

        class Sub(Base):
            compData = usage.Completions(multiUse=["b"])

        class SubSub(Sub):
            compData = usage.Completions(extraActions=[usage.CompleteList(["x"])])

        scope = buildScope(SubSub())
        assert scope.option("a").multiUse
        assert scope.option("b").multiUse
        assert [type(a) for a in scope.extraActions] == [usage.CompleteList]
        assert [type(a) for a in buildScope(Sub()).extraActions] == [usage.CompleteDirs]

    def test_callableAction(self) -> None:
        scope = buildScope(Cvs())
        assert isinstance(scope.option("interface").action, usage.CompleteNetInterfaces)

    def test_badAction(self) -> None:
        class Opts(usage.Options):
            optParameters = (("a", None, None, None),)
            compData = usage.Completions(optActions={"a": _notACompleter})

        with pytest.raises(TypeError, match=r"optActions\['a'\] is not a Completer"):
            buildScope(Opts())

    def test_defaultValueActionIsFiles(self) -> None:
        action = buildScope(Cvs()).option("repository").action
        assert action is not None
        assert action._shellCode("repository", usage._ZSH) == ":repository:_files"
        assert action._shellCode("repository", usage._BASH) == "_fw_usage_files '*'"

    def test_aliasesAreSpellings(self) -> None:
        class Opts(usage.Options):
            def opt_very_long(self, value: str) -> None:
                """Aliased."""

            opt_short = opt_very_long
            opt_s = opt_very_long

        option = buildScope(Opts()).option("very-long")
        assert option.spellings() == ["--very-long", "--short", "-s"]

    @pytest.mark.parametrize(
        "data",
        [
            usage.Completions(descriptions={"nope": "x"}),
            usage.Completions(multiUse=["nope"]),
            usage.Completions(mutuallyExclusive=[("verbose", "nope")]),
            usage.Completions(optActions={"nope": usage.Completer()}),
        ],
    )
    def test_unknownNames(self, data: usage.Completions) -> None:
        cls = type(
            "Typo", (usage.Options,), {"optFlags": [("verbose", "v", None)], "compData": data}
        )
        with pytest.raises(ValueError, match='Unknown option name "nope" found while examining'):
            buildScope(cls())

    def test_repeatMustBeLast(self) -> None:
        class Opts(usage.Options):
            compData = usage.Completions(
                extraActions=[usage.Completer(repeat=True), usage.Completer()]
            )

        with pytest.raises(ValueError, match="repeat=True must be the last item"):
            buildScope(Opts())

    def test_selfNestingStops(self) -> None:
        class Loop(usage.Options):
            pass

        Loop.subCommands = (("again", None, Loop, "Nest."),)  # type: ignore[attr-defined]
        scope = buildScope(Loop())
        inner = scope.subCommands[0].scope
        assert inner.path == ("again",)
        assert inner.options == []
        assert inner.subCommands == []


# -- zsh


class TestZshScript:
    def script(self) -> str:
        return completionScript(Cvs(), "cvs", "zsh")

    def test_header(self) -> None:
        assert self.script().startswith("#compdef cvs\n")

    def test_options(self) -> None:
        lines = self.script().splitlines()
        for spec in [
            "'*--verbose[More output.]'",
            "'*-v[More output.]'",
            "'(--compression -z)--compression=[Use compression.]:compression:(0 1 9)'",
            "'(--compression -z)-z+[Use compression.]:compression:(0 1 9)'",
            (
                r"'(--repository -d)--repository=[Repository: an alternate \[root\].]"
                ":repository:_files'"
            ),
            "'(--cache)--cache=[Cache directory.]:cache:_directories'",
            "'(--help)--help[Display this help and exit.]'",
            "': :->subcommand'",
            "'*:: :->subargs'",
            "'(--loud --quiet -l -q)--quiet[Say nothing.]'",
            "'(--loud --quiet -l -q)-l[Say everything.]'",
            (
                "'(--tag -r)--tag=[Tags, comma separated.]:tag:_values -s , "
                """'"'"'tag'"'"' red green blue'"""
            ),
            """':source (*.py):_files -g "*.py"'""",
            "'*:target:_directories'",
        ]:
            assert f"    {spec} \\" in lines

    def test_subCommands(self) -> None:
        script = self.script()
        assert "        'import:Do an import.'\n" in script
        assert """        'checkout:Do a checkout: it'"'"'s quick.'\n""" in script
        assert "        (import|im) _fw_cvs_1 && ret=0 ;;\n" in script
        assert "        (checkout|co) _fw_cvs_2 && ret=0 ;;\n" in script
        assert "_fw_cvs_1() {\n" in script
        assert "_fw_cvs_2() {\n" in script

    def test_footer(self) -> None:
        assert self.script().endswith(
            'if (( $+compstate )); then\n  _fw_cvs "$@"\nelse\n  compdef _fw_cvs cvs\nfi\n'
        )

    def test_commandNameIsSanitized(self) -> None:
        script = completionScript(Cvs(), "my-cvs.py", "zsh")
        assert script.startswith("#compdef my-cvs.py\n")
        assert "\n_fw_my_cvs_py() {\n" in script
        assert "  compdef _fw_my_cvs_py my-cvs.py\n" in script

    def test_syntax(self, tmp_path: Path) -> None:
        syntaxCheck("zsh", self.script(), tmp_path)

    def test_syntaxOfAwkwardNames(self, tmp_path: Path) -> None:
        class Awkward(usage.Options):
            optFlags = (("it's", "'", "Quote ' and \" and $HOME and `x` and [brackets]."),)
            optParameters = (("a:b", None, None, "Colon: yes.", None),)
            subCommands = (("sub:cmd", "s'", usage.Options, "Colon: and 'quotes'."),)
            compData = usage.Completions(
                optActions={"a:b": usage.CompleteList(["x y", "$z", "(p)"])}
            )

        syntaxCheck("zsh", completionScript(Awkward(), "we ird$", "zsh"), tmp_path)

    def test_completion(self, tmp_path: Path, files: Path) -> None:
        functions = tmp_path / "functions"
        functions.mkdir()
        (functions / "_cvs").write_text(self.script())
        setup = f"fpath=({functions} $fpath); autoload -Uz compinit; compinit -u -D; cd {files}"
        results = zshComplete(
            setup,
            [
                "cvs ",
                "cvs -",
                "cvs -z ",
                "cvs --compression=",
                "cvs -v -",
                "cvs co -",
                "cvs checkout -q -",
                "cvs co --tag=red,",
                "cvs im --vendor ",
                "cvs import ",
                "cvs import x ",
                "cvs --cache ",
            ],
            tmp_path,
        )
        everything = ["--cache", "--compression", "--group", "--help", "--host", "--interface"]
        everything += ["--owner", "--repository", "--server", "--verbose", "-d", "-v", "-z"]
        assert results == [
            ["checkout", "import"],
            everything,
            ["0", "1", "9"],
            ["0", "1", "9"],
            everything,
            ["--help", "--loud", "--quiet", "--tag", "-l", "-q", "-r"],
            ["--help", "--tag", "-r"],
            ["blue", "green"],
            ["acme", "globex", "initech"],
            ["a.py", "sub"],
            ["sub"],
            ["sub"],
        ]

    def test_sourcedScriptRegisters(self, tmp_path: Path) -> None:
        script = tmp_path / "cvs.zsh"
        script.write_text(self.script())
        setup = f"autoload -Uz compinit; compinit -u -D; source {script}"
        assert zshComplete(setup, ["cvs ", "cvs co --l"], tmp_path) == [
            ["checkout", "import"],
            ["--loud"],
        ]

    def test_evalByStubPassingPosition(self, tmp_path: Path) -> None:
        bin = tmp_path / "bin"
        bin.mkdir()
        program = bin / "cvs"
        program.write_text(
            f"#!{sys.executable}\n"
            "from fw.python import usage\n"
            "class Sub(usage.Options):\n"
            "    optFlags = [['fast', 'f', 'Quickly.']]\n"
            "class Cvs(usage.Options):\n"
            "    subCommands = [['go', None, Sub, 'Go.']]\n"
            "Cvs().parseOptions()\n"
        )
        program.chmod(0o755)
        functions = tmp_path / "functions"
        functions.mkdir()
        # A stub in the manner of Twisted's: run the command line being
        # completed with --_shell-completion zsh:N and eval what it prints.
        (functions / "_cvs").write_text(
            "#compdef cvs\n"
            'local output=$("$words[@]" --_shell-completion zsh:$CURRENT 2>/dev/null)\n'
            '[[ $output == "#compdef "* ]] && eval "$output"\n'
        )
        setup = f"PATH={bin}:$PATH; fpath=({functions} $fpath); autoload -Uz compinit; "
        setup += "compinit -u -D"
        assert zshComplete(setup, ["cvs ", "cvs go -"], tmp_path) == [
            ["go"],
            ["--fast", "--help", "-f"],
        ]


# -- bash


class TestBashScript:
    def script(self) -> str:
        return completionScript(Cvs(), "cvs", "bash")

    def test_registration(self) -> None:
        assert self.script().endswith("\ncomplete -F _fw_cvs cvs\n")
        quoted = completionScript(Cvs(), "my cvs", "bash")
        assert quoted.endswith("\ncomplete -F _fw_my_cvs 'my cvs'\n")

    def test_scopeFunctions(self) -> None:
        script = self.script()
        for n in range(3):
            for kind in ["opt", "sub", "value", "options", "args"]:
                assert f"\n_fw_cvs_{n}_{kind}() {{\n" in script
        assert "        --verbose|-v) name=verbose; takes=0 ;;\n" in script
        assert "        import|im) scope=1 ;;\n" in script
        assert "        compression) _fw_usage_words 0 1 9 ;;\n" in script
        assert "    [[ $used == *' quiet '* || $used == *' loud '* ]] || " in script
        assert "        0) _fw_usage_files '*.py' ;;\n        *) _fw_usage_dirs ;;\n" in script

    def test_syntax(self, tmp_path: Path) -> None:
        syntaxCheck("bash", self.script(), tmp_path)

    def test_syntaxOfAwkwardNames(self, tmp_path: Path) -> None:
        class Awkward(usage.Options):
            optFlags = (("it's", "'", "Quote ' and \" and $HOME and `x`."),)
            optParameters = (("a b", None, None, None, None),)
            subCommands = (("sub cmd", "s'", usage.Options, "Spaces and 'quotes'."),)
            compData = usage.Completions(optActions={"a b": usage.CompleteList(["x y", "$z"])})

        syntaxCheck("bash", completionScript(Awkward(), "we ird$", "bash"), tmp_path)

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("cvs ", ["import", "checkout"]),
            ("cvs i", ["import"]),
            ("cvs --c", ["--compression", "--cache"]),
            ("cvs -z ", ["0", "1", "9"]),
            ("cvs -z", ["-z"]),
            ("cvs --compression ", ["0", "1", "9"]),
            # "=" is a word break: bash replaces only what follows it.
            ("cvs --compression=", ["=0", "=1", "=9"]),
            ("cvs --compression=1", ["1"]),
            ("cvs --comp=", ["=0", "=1", "=9"]),
            ("cvs --verbose=", []),
            ("cvs --comp 9 co --l", ["--loud"]),
            ("cvs --c 9 co --l", []),
            # --verbose may be repeated; -z may not.
            ("cvs -v -z 9 --v", ["--verbose"]),
            ("cvs -vz9 --c", ["--cache"]),
            (
                "cvs -z9 -",
                [
                    "--verbose",
                    "-v",
                    "--repository",
                    "-d",
                    "--host",
                    "--owner",
                    "--group",
                    "--interface",
                    "--server",
                    "--cache",
                    "--help",
                ],
            ),
            ("cvs -v co ", []),
            ("cvs co -", ["--quiet", "-q", "--loud", "-l", "--tag", "-r", "--help"]),
            ("cvs checkout -q -", ["--tag", "-r", "--help"]),
            ("cvs co --loud --", ["--tag", "--help"]),
            ("cvs co --tag ", ["red", "green", "blue"]),
            ("cvs co --tag=red,", ["red,green", "red,blue"]),
            ("cvs co -r red,g", ["red,green"]),
            ("cvs co -r red,green,", ["red,green,blue"]),
            ("cvs im --vendor g", ["globex"]),
            ("cvs im -v ", ["acme", "globex", "initech"]),
            ("cvs import x.py ", ["sub/"]),
            ("cvs import x.py y ", ["sub/"]),
            ("cvs import ", ["sub/", "a.py"]),
            ("cvs import sub/", ["sub/deeper/", "sub/c.py"]),
            ("cvs --cache ", ["sub/"]),
            ("cvs --cache s", ["sub/"]),
            ("cvs -d ", ["a.py", "b.txt", "sub/"]),
            ("cvs nonsense ", []),
            ("cvs -- -", []),
            ("cvs --server al", ["alpha", "alpha.example"]),
            ("cvs --host be", ["beta"]),
            ("cvs --host root@al", ["alpha", "alpha.example"]),
            ("cvs --host=root@b", ["beta"]),
            ("cvs --owner roo", ["root"]),
            ("cvs --group roo", ["root"]),
        ],
    )
    def test_completion(self, tmp_path: Path, files: Path, line: str, expected: list[str]) -> None:
        script = tmp_path / "cvs.bash"
        script.write_text(self.script())
        hosts = tmp_path / "hosts"
        hosts.write_text("10.0.0.1 alpha alpha.example\n10.0.0.2 beta\n")
        matches = bashComplete(script, "cvs", line, files, {"HOSTFILE": str(hosts)})
        # Bash marks directories itself (compopt -o filenames); show them as "name/".
        marked = [m + "/" if (files / m).is_dir() else m for m in matches]
        if "/" in "".join(marked):
            assert sorted(marked) == sorted(expected)
        else:
            assert marked == expected

    def test_userAtHostOffersUsers(self, tmp_path: Path, files: Path) -> None:
        script = tmp_path / "cvs.bash"
        script.write_text(self.script())
        assert "root@" in bashComplete(script, "cvs", "cvs --host r", files)

    def test_networkInterfaces(self, tmp_path: Path, files: Path) -> None:
        interfaces = Path("/sys/class/net")
        if not interfaces.is_dir():
            pytest.skip("no /sys/class/net on this system")
        script = tmp_path / "cvs.bash"
        script.write_text(self.script())
        matches = bashComplete(script, "cvs", "cvs --interface ", files)
        assert sorted(matches) == sorted(p.name for p in interfaces.iterdir())

    def test_withoutCompLine(self, tmp_path: Path) -> None:
        script = tmp_path / "cvs.bash"
        script.write_text(self.script())
        driver = _BASH_DRIVER.replace("COMP_LINE=$2", "unset COMP_LINE")
        result = subprocess.run(
            [
                requireProgram("bash"),
                "-c",
                driver,
                "bash",
                str(script),
                "",
                "_fw_cvs",
                "cvs",
                "co",
                "--l",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.stdout.splitlines() == ["--loud"]


# -- the --_shell-completion hook


class TestHook:
    def complete(self, options: usage.Options, *words: str) -> str:
        output = io.StringIO()
        options._shellCompFile = output
        with pytest.raises(SystemExit) as info:
            options.parseOptions(list(words))
        assert info.value.code == 0
        return output.getvalue()

    @pytest.fixture(autouse=True)
    def argv(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(sys, "argv", ["/usr/local/bin/cvs"])

    def test_bash(self) -> None:
        assert self.complete(Cvs(), "--_shell-completion", "bash") == self.script("bash")

    def test_zsh(self) -> None:
        assert self.complete(Cvs(), "--_shell-completion", "zsh") == self.script("zsh")

    def test_positionIsAccepted(self) -> None:
        assert self.complete(Cvs(), "co", "--_shell-completion", "zsh:3") == self.script("zsh")
        assert self.complete(Cvs(), "--_shell-completion", "bash:2") == self.script("bash")

    def test_halfTypedCommandLine(self) -> None:
        words = ["--compression", "--nonsense", "co", "--_shell-completion", "zsh:4"]
        assert self.complete(Cvs(), *words) == self.script("zsh")

    def test_handlersAreNotCalled(self) -> None:
        class Opts(usage.Options):
            def opt_boom(self) -> None:
                raise AssertionError("called")

        assert self.complete(Opts(), "--boom", "--_shell-completion", "bash")

    def test_unsupportedShell(self) -> None:
        with pytest.raises(usage.UsageError) as info:
            Cvs().parseOptions(["--_shell-completion", "fish:2"])
        assert str(info.value) == (
            "--_shell-completion: unsupported shell 'fish' (expected bash or zsh)"
        )

    def test_onlyAsSecondToLastWord(self) -> None:
        with pytest.raises(usage.UsageError, match="option --_shell-completion not recognized"):
            Cvs().parseOptions(["--_shell-completion", "bash", "co"])

    def test_writesToStdoutByDefault(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit):
            Cvs().parseOptions(["--_shell-completion", "bash"])
        assert capsys.readouterr().out == self.script("bash")

    def script(self, shell: str) -> str:
        return completionScript(Cvs(), "cvs", shell)


class TestProgram:
    """A real program prints scripts the shells accept."""

    @pytest.fixture
    def program(self, tmp_path: Path) -> Path:
        path = tmp_path / "frob"
        path.write_text(
            textwrap.dedent(
                """\
                from fw.python import usage

                class Sub(usage.Options):
                    optFlags = [["dry-run", "n", "Do nothing."]]

                class Frob(usage.Options):
                    optParameters = [["port", "p", 80, "Port.", usage.portCoerce]]
                    subCommands = [["run", "r", Sub, "Run it."]]

                Frob().parseOptions()
                """
            )
        )
        return path

    @pytest.mark.parametrize("shell", ["bash", "zsh"])
    def test_script(self, program: Path, tmp_path: Path, shell: str) -> None:
        result = subprocess.run(
            [sys.executable, str(program), "--_shell-completion", shell],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "frob" in result.stdout
        assert "dry-run" in result.stdout
        syntaxCheck(shell, result.stdout, tmp_path)
