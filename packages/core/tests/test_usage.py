"""Tests for fw.python.usage: parsing command lines with Options.

Help output is tested in test_usage_help.py and shell completion in
test_usage_completion.py.
"""

from __future__ import annotations

import getopt
import sys
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.python import usage
from fw.python._usage_getopt import OptionSpelling, splitCommandLine


class WellBehaved(usage.Options):
    optParameters = (
        ("long", "w", "default", "and a docstring"),
        ("another", "n", "no docstring"),
        ("longonly", None, "noshort"),
        ("shortless", None, "except", "this one got docstring"),
    )
    optFlags = (
        ("aflag", "f", "\n\n     flagallicious docstringness for this here\n\n     "),
        ("flout", "o"),
    )

    def opt_myflag(self) -> None:
        self["myflag"] = "PONY!"

    def opt_myparam(self, value: str) -> None:
        self["myparam"] = f"{value} WITH A PONY!"

    def parseArgs(self, *args: str) -> None:
        self["args"] = list(args)


def parsed(options: usage.Options, *words: str) -> usage.Options:
    options.parseOptions(list(words))
    return options


def usageError(options: usage.Options, *words: str) -> str:
    with pytest.raises(usage.UsageError) as info:
        options.parseOptions(list(words))
    return str(info.value)


class TestFlagsAndParameters:
    def test_defaults(self) -> None:
        o = parsed(WellBehaved())
        assert o["long"] == "default"
        assert o["another"] == "no docstring"
        assert o["longonly"] == "noshort"
        assert o["shortless"] == "except"
        assert o["aflag"] == 0
        assert o["flout"] == 0
        assert "myflag" not in o
        assert o["args"] == []

    def test_values(self) -> None:
        words = ["--long", "Alpha", "-n", "Beta", "--shortless", "Gamma", "-f"]
        words += ["--myflag", "--myparam", "Tofu"]
        o = parsed(WellBehaved(), *words)
        assert o["long"] == "Alpha"
        assert o["another"] == "Beta"
        assert o["longonly"] == "noshort"
        assert o["shortless"] == "Gamma"
        assert o["aflag"] == 1
        assert o["flout"] == 0
        assert o["myflag"] == "PONY!"
        assert o["myparam"] == "Tofu WITH A PONY!"

    def test_flagValuesAreInts(self) -> None:
        o = parsed(WellBehaved(), "-f")
        assert type(o["aflag"]) is int
        assert type(o["flout"]) is int

    @pytest.mark.parametrize(
        "words",
        [
            ["--long=x y"],
            ["--long", "x y"],
            ["-wx y"],
            ["-w", "x y"],
        ],
    )
    def test_parameterForms(self, words: list[str]) -> None:
        assert parsed(WellBehaved(), *words)["long"] == "x y"

    def test_emptyValue(self) -> None:
        assert parsed(WellBehaved(), "--long=")["long"] == ""
        assert parsed(WellBehaved(), "-w", "")["long"] == ""

    def test_valueMayLookLikeAnOption(self) -> None:
        o = parsed(WellBehaved(), "--long", "--aflag", "-w", "-f")
        assert o["long"] == "-f"
        assert o["aflag"] == 0

    def test_lastValueWins(self) -> None:
        assert parsed(WellBehaved(), "-w", "a", "--long=b")["long"] == "b"

    def test_shortFlagsCluster(self) -> None:
        o = parsed(WellBehaved(), "-fo")
        assert (o["aflag"], o["flout"]) == (1, 1)

    def test_clusterEndingInParameterTakesRestOfWord(self) -> None:
        o = parsed(WellBehaved(), "-fwVALUE")
        assert (o["aflag"], o["long"]) == (1, "VALUE")
        assert o["args"] == []

    def test_clusterEndingInParameterTakesNextWord(self) -> None:
        o = parsed(WellBehaved(), "-ofw", "VALUE", "arg")
        assert (o["flout"], o["aflag"], o["long"]) == (1, 1, "VALUE")
        assert o["args"] == ["arg"]

    def test_doubleDashEndsOptions(self) -> None:
        o = parsed(WellBehaved(), "-f", "--", "-o", "--long=x")
        assert o["flout"] == 0
        assert o["long"] == "default"
        assert o["args"] == ["-o", "--long=x"]

    def test_optionsEndAtFirstArgument(self) -> None:
        o = parsed(WellBehaved(), "file", "-f")
        assert o["aflag"] == 0
        assert o["args"] == ["file", "-f"]

    def test_singleDashIsAnArgument(self) -> None:
        assert parsed(WellBehaved(), "-", "-f")["args"] == ["-", "-f"]

    def test_uniquePrefixOfLongOption(self) -> None:
        o = parsed(WellBehaved(), "--af", "--longo=x", "--sh", "y")
        assert (o["aflag"], o["longonly"], o["shortless"]) == (1, "x", "y")

    def test_exactNameBeatsLongerNames(self) -> None:
        assert parsed(WellBehaved(), "--long=x")["longonly"] == "noshort"

    def test_ambiguousPrefix(self) -> None:
        message = usageError(WellBehaved(), "--lon=x")
        assert message == "option --lon not a unique prefix (could be --long, --longonly)"

    def test_prefixOfAliasesOfOneOption(self) -> None:
        class Opts(usage.Options):
            def opt_verbosity(self) -> None:
                self["v"] = self.get("v", 0) + 1

            opt_verbose = opt_verbosity

        assert parsed(Opts(), "--verb", "--verbo")["v"] == 2


class TestGetoptSemantics:
    """The command line is split exactly as the stdlib's getopt.getopt (Twisted's parser) does."""

    LONG: ClassVar[dict[str, bool]] = {
        "alpha": False,
        "alpine": True,
        "beta": True,
        "gamma": False,
    }
    SHORT: ClassVar[dict[str, bool]] = {"a": False, "b": True, "g": False}
    WORDS = st.sampled_from(
        [
            *("--alpha", "--alp", "--alpi", "--alpine=x", "--al", "--beta", "--beta="),
            *("--b", "--g", "--zeta", "--=v", "--", "-", "arg"),
            *("-a", "-b", "-bval", "-ab", "-ag", "-ba", "-x"),
        ]
    )

    @given(st.lists(WORDS | st.text(max_size=4), max_size=8))
    def test_sameAsGetopt(self, words: list[str]) -> None:
        longs = [n + ("=" if takes else "") for n, takes in self.LONG.items()]
        shorts = "".join(n + (":" if takes else "") for n, takes in self.SHORT.items())
        expected: object
        try:
            expected = getopt.getopt(words, shorts, longs)
        except getopt.GetoptError:
            expected = "error"
        got: object
        try:
            found, rest = splitCommandLine(
                words,
                {n: OptionSpelling(n, t) for n, t in self.LONG.items()},
                {n: OptionSpelling(n, t) for n, t in self.SHORT.items()},
            )
            got = ([(o.spelling, o.value or "") for o in found], rest)
        except usage.UsageError:
            got = "error"
        assert got == expected

    @given(st.lists(WORDS | st.text(max_size=4), max_size=8))
    def test_onlyUsageErrors(self, words: list[str]) -> None:
        class Opts(usage.Options):
            optFlags = (("alpha", "a", None), ("gamma", "g", None))
            optParameters = (("alpine", None, None, None), ("beta", "b", "1", None, int))

            def parseArgs(self, first: str = "", second: str = "") -> None:
                pass

        try:
            Opts().parseOptions(words)
        except usage.UsageError:
            pass


class TestErrors:
    def test_unknownLongOption(self) -> None:
        assert usageError(WellBehaved(), "--nope") == "option --nope not recognized"

    def test_unknownLongOptionSuggestsCloseName(self) -> None:
        message = usageError(WellBehaved(), "--aflg")
        assert message == "option --aflg not recognized (did you mean --aflag?)"

    def test_unknownShortOption(self) -> None:
        assert usageError(WellBehaved(), "-Z") == "option -Z not recognized"

    def test_unknownShortOptionInCluster(self) -> None:
        assert usageError(WellBehaved(), "-foz") == "option -z not recognized"

    def test_missingLongValue(self) -> None:
        assert usageError(WellBehaved(), "--long") == "option --long requires an argument"

    def test_missingShortValue(self) -> None:
        assert usageError(WellBehaved(), "-fw") == "option -w requires an argument"

    def test_flagGivenValue(self) -> None:
        message = usageError(WellBehaved(), "--aflag=yes")
        assert message == "option --aflag must not have an argument"

    def test_handlerFlagGivenValue(self) -> None:
        message = usageError(WellBehaved(), "--myflag=1")
        assert message == "option --myflag must not have an argument"

    def test_emptyLongName(self) -> None:
        assert usageError(WellBehaved(), "--=x") == "option -- not recognized"

    def test_errorIsUsageError(self) -> None:
        assert usage.error is usage.UsageError
        assert issubclass(usage.UsageError, Exception)


def _raiseRuntime(value: str) -> object:
    raise RuntimeError("Ouch")


def _raiseValue(value: str) -> object:
    raise ValueError("Yay")


def _raiseBareValue(value: str) -> object:
    raise ValueError


class TypedOptions(usage.Options):
    optParameters = (
        ("fooint", None, 392, "Foo int", int),
        ("foofloat", None, 4.23, "Foo float", float),
        ("eggint", None, None, "Egg int without default", int),
        ("port", "p", 8080, "A port", usage.portCoerce),
        ("barwrong", None, None, "Bar with strange callable", _raiseRuntime),
        ("foowrong", None, None, "Foo with strange callable", _raiseValue),
        ("bare", None, None, "Empty ValueError", _raiseBareValue),
    )


class TestCoercion:
    def test_defaultsAreNotCoerced(self) -> None:
        o = parsed(TypedOptions())
        assert o["fooint"] == 392
        assert o["foofloat"] == 4.23
        assert o["eggint"] is None
        assert o["port"] == 8080

    def test_valuesAreCoerced(self) -> None:
        o = parsed(TypedOptions(), "--fooint", "912", "--foofloat", "-823.1", "--eggint=32", "-p1")
        assert (o["fooint"], o["foofloat"], o["eggint"], o["port"]) == (912, -823.1, 32, 1)
        assert type(o["fooint"]) is int
        assert type(o["foofloat"]) is float

    def test_badValueNamesOptionAndValue(self) -> None:
        message = usageError(TypedOptions(), "--fooint", "egg")
        assert message == (
            "Parameter type enforcement failed for option --fooint with value 'egg': "
            "invalid literal for int() with base 10: 'egg'"
        )

    def test_badValueGivenByShortName(self) -> None:
        message = usageError(TypedOptions(), "-p", "70000")
        assert message == (
            "Parameter type enforcement failed for option --port with value '70000': "
            "Port number not in range: 70000"
        )

    def test_valueErrorBecomesUsageError(self) -> None:
        message = usageError(TypedOptions(), "--foowrong", "blah")
        assert message == (
            "Parameter type enforcement failed for option --foowrong with value 'blah': Yay"
        )

    def test_valueErrorWithoutMessage(self) -> None:
        message = usageError(TypedOptions(), "--bare", "x")
        assert message == "Parameter type enforcement failed for option --bare with value 'x'"

    def test_otherErrorsPropagate(self) -> None:
        with pytest.raises(RuntimeError, match="Ouch"):
            TypedOptions().parseOptions(["--barwrong", "blah"])

    def test_coerceNotCalledWithoutValue(self) -> None:
        parsed(TypedOptions())

    def test_nonCallableCoerceIsRejectedAtOnce(self) -> None:
        class Wrong(usage.Options):
            optParameters = (("barwrong", None, None, "Bar with wrong coerce", "he"),)

        with pytest.raises(TypeError, match="coerce function of --barwrong is not callable"):
            Wrong()

    def test_coerceParameter(self) -> None:
        options = usage.Options()
        coercer = usage.CoerceParameter(options, usage.portCoerce)
        assert coercer.doc == "Must be an int between 0 and 65535."
        coercer.dispatch("port", "80")
        assert options["port"] == 80
        with pytest.raises(usage.UsageError, match=r"^Parameter 'port' requires an argument\.$"):
            coercer.dispatch("port", None)
        assert usage.CoerceParameter(options, int).doc == ""


class TestPortCoerce:
    @pytest.mark.parametrize(("text", "port"), [("0", 0), ("3210", 3210), ("65535", 65535)])
    def test_valid(self, text: str, port: int) -> None:
        assert usage.portCoerce(text) == port

    @pytest.mark.parametrize("text", ["", "-21", "65536", "212189", "foo"])
    def test_invalid(self, text: str) -> None:
        with pytest.raises(ValueError):
            usage.portCoerce(text)

    def test_rangeMessage(self) -> None:
        with pytest.raises(ValueError, match=r"^Port number not in range: 65536$"):
            usage.portCoerce("65536")

    def test_coerceDoc(self) -> None:
        assert usage.portCoerce.__dict__["coerceDoc"] == "Must be an int between 0 and 65535."


class TestHandlers:
    def test_underscoreBecomesDash(self) -> None:
        class Opts(usage.Options):
            def opt_under_score(self, value: str) -> None:
                self["u"] = value

            opt_u = opt_under_score

        assert parsed(Opts(), "--under-score", "foo")["u"] == "foo"
        assert parsed(Opts(), "-u", "bar")["u"] == "bar"
        assert usageError(Opts(), "--under_score=x").startswith(
            "option --under_score not recognized"
        )

    def test_repeatedHandlerAccumulates(self) -> None:
        class Opts(usage.Options):
            def __init__(self) -> None:
                super().__init__()
                self["symbols"] = []

            def opt_define(self, symbol: str) -> None:
                self["symbols"].append(symbol)

            opt_D = opt_define

        o = parsed(Opts(), "-DFOO", "-D", "BAR", "--define=BAZ", "--define", "QUUX")
        assert o["symbols"] == ["FOO", "BAR", "BAZ", "QUUX"]

    def test_counting(self) -> None:
        class Opts(usage.Options):
            def __init__(self) -> None:
                super().__init__()
                self["verbosity"] = 0

            def opt_verbose(self) -> None:
                self["verbosity"] += 1

            def opt_quiet(self) -> None:
                self["verbosity"] -= 1

            opt_v = opt_verbose
            opt_q = opt_quiet

        assert parsed(Opts(), "-v", "-vv", "--verbose")["verbosity"] == 4
        assert parsed(Opts(), "-qqq")["verbosity"] == -3

    def test_aliasesPointToLongestName(self) -> None:
        class Opts(usage.Options):
            def opt_very_very_long(self) -> None:
                """Aliased."""

            opt_short = opt_very_very_long
            opt_s = opt_very_very_long

        synonyms = Opts().synonyms
        assert synonyms["s"] == "very-very-long"
        assert synonyms["short"] == "very-very-long"
        assert synonyms["very-very-long"] == "very-very-long"

    def test_handlerOverridesFlagOfSameName(self) -> None:
        class Opts(usage.Options):
            optFlags = (("verbose", "v", "Talk more."),)

            def opt_verbose(self) -> None:
                self["verbose"] += 2

        o = Opts()
        assert o["verbose"] == 0
        assert parsed(o, "-v")["verbose"] == 2

    def test_handlerOverridesParameterOfSameName(self) -> None:
        class Opts(usage.Options):
            optParameters = (("name", "n", "nobody", "Who."),)

            def opt_name(self, value: str) -> None:
                self["name"] = value.upper()

        assert parsed(Opts())["name"] == "nobody"
        assert parsed(Opts(), "-n", "bob")["name"] == "BOB"

    def test_handlerWithTooManyParameters(self) -> None:
        class Opts(usage.Options):
            def opt_bad(self, a: str, b: str) -> None:
                pass

        with pytest.raises(usage.UsageError, match=r"^Invalid Option function for bad$"):
            Opts()

    def test_inheritedHandlerCanBeRemoved(self) -> None:
        class Opts(usage.Options):
            opt_help = None  # type: ignore[assignment]

        assert usageError(Opts(), "--help") == "option --help not recognized"

    def test_overriddenHandlerIsCalled(self) -> None:
        class Base(usage.Options):
            def opt_go(self) -> None:
                self["went"] = "base"

        class Sub(Base):
            def opt_go(self) -> None:
                self["went"] = "sub"

        assert parsed(Sub(), "--go")["went"] == "sub"


class TestFlagFunction:
    class Methods:
        def oneArg(self, a: str) -> None:
            pass

        def noArg(self) -> None:
            pass

        def manyArgs(self, a: str, b: str, c: str) -> None:
            pass

    def test_oneArgument(self) -> None:
        assert usage.flagFunction(self.Methods().oneArg) is False

    def test_noArgument(self) -> None:
        assert usage.flagFunction(self.Methods().noArg) is True

    def test_tooManyArguments(self) -> None:
        with pytest.raises(usage.UsageError, match=r"^Invalid Option function for manyArgs$"):
            usage.flagFunction(self.Methods().manyArgs)

    def test_tooManyArgumentsWithName(self) -> None:
        with pytest.raises(usage.UsageError, match=r"^Invalid Option function for flubuduf$"):
            usage.flagFunction(self.Methods().manyArgs, "flubuduf")


class TestDeclarations:
    def test_inheritedDeclarationsAccumulate(self) -> None:
        class Base(usage.Options):
            optFlags: ClassVar[list[list[str | None]]] = [["quiet", "q", None]]
            optParameters = (("level", "l", "1", None),)

        class Specific(Base):
            optFlags: ClassVar[list[list[str | None]]] = [["fast", "f", None]]

        o = parsed(Specific(), "-qf", "-l3")
        assert (o["quiet"], o["fast"], o["level"]) == (1, 1, "3")

    def test_subclassRedefinitionWins(self) -> None:
        class Base(usage.Options):
            optFlags = (("quiet", "q", "Base doc"),)

        class Specific(Base):
            optFlags = (("quiet", "s", "Specific doc"),)

        o = Specific()
        assert o.docs["quiet"] == "Specific doc"
        assert parsed(Specific(), "-s")["quiet"] == 1
        assert usageError(Specific(), "-q") == "option -q not recognized"

    def test_laterDeclarationTakesShortLetter(self) -> None:
        class Base(usage.Options):
            optFlags = (("silent", "q", None),)

        class Specific(Base):
            optFlags = (("quiet", "q", None),)

        o = parsed(Specific(), "-q")
        assert (o["silent"], o["quiet"]) == (0, 1)
        assert parsed(Specific(), "--silent")["silent"] == 1

    def test_diamondInheritanceCountsEachClassOnce(self) -> None:
        class Base(usage.Options):
            def __init__(self) -> None:
                super().__init__()
                self["n"] = 0

            optFlags = (("quiet", "q", None),)

        class Left(Base):
            pass

        class Right(Base):
            pass

        class Both(Left, Right):
            pass

        assert Both().longOpt.count("quiet") == 1

    @pytest.mark.parametrize(
        ("attribute", "entry", "message"),
        [
            ("optFlags", (None, "f", "doc"), "A flag cannot be without a name."),
            ("optFlags", ("", "f", "doc"), "A flag cannot be without a name."),
            ("optParameters", (None, "p", 1, "doc"), "A parameter cannot be without a name."),
            ("optFlags", ("fast", "fa", "doc"), "The short name of --fast must be one character"),
            ("optFlags", ("fast", "f", "doc", "extra"), "optFlags entries have at most 3 items"),
            ("optParameters", "port", "optParameters entries have at most 5 items"),
        ],
    )
    def test_badDeclarations(self, attribute: str, entry: object, message: str) -> None:
        cls = type("Bad", (usage.Options,), {attribute: [entry]})
        with pytest.raises(ValueError) as info:
            cls()
        assert str(info.value).startswith(message)

    def test_badSubCommandEntry(self) -> None:
        class Opts(usage.Options):
            subCommands = (("sub", None, usage.Options),)

        with pytest.raises(ValueError, match="subCommands entries have 4 items"):
            Opts().parseOptions(["sub"])

    def test_compatibilityViews(self) -> None:
        o = WellBehaved()
        assert o.opts is o
        assert set(o.longOpt) == {
            "long=",
            "another=",
            "longonly=",
            "shortless=",
            "aflag",
            "flout",
            "myflag",
            "myparam=",
            "help",
        }
        assert sorted(o.shortOpt) == sorted("w:n:fo")
        assert o.synonyms["w"] == "long"
        assert o.synonyms["f"] == "aflag"
        assert o.defaults == {
            "long": "default",
            "another": "no docstring",
            "longonly": "noshort",
            "shortless": "except",
            "aflag": 0,
            "flout": 0,
        }
        assert o.docs["shortless"] == "this one got docstring"
        assert o.docs["help"] == "Display this help and exit."


class TestMapping:
    def test_isADict(self) -> None:
        o = parsed(WellBehaved(), "-f")
        assert isinstance(o, dict)
        assert o["aflag"] == 1
        o["extra"] = 3
        assert dict(o)["extra"] == 3

    def test_hashable(self) -> None:
        a, b = WellBehaved(), WellBehaved()
        assert len({a, b}) == 2
        assert {a: 1}[a] == 1


class InquisitionOptions(usage.Options):
    optFlags = (("expect", "e"),)
    optParameters = (("torture-device", "t", "comfy-chair", "set preferred torture device"),)


class HolyQuestOptions(usage.Options):
    optFlags = (("horseback", "h", "use a horse"), ("for-grail", "g"))


class SubCommandOptions(usage.Options):
    optFlags = (("europian-swallow", None, "set default swallow type to Europian"),)
    subCommands = (
        ("inquisition", "inquest", InquisitionOptions, "Perform an inquisition"),
        ("holyquest", "quest", HolyQuestOptions, "Embark upon a holy quest"),
    )


class TestSubCommands:
    def test_simple(self) -> None:
        o = parsed(SubCommandOptions(), "--europian-swallow", "inquisition")
        assert o["europian-swallow"] == 1
        assert o.subCommand == "inquisition"
        assert isinstance(o.subOptions, InquisitionOptions)
        assert o.subOptions["expect"] == 0
        assert o.subOptions["torture-device"] == "comfy-chair"

    def test_withFlagsAndOptions(self) -> None:
        o = parsed(SubCommandOptions(), "inquisition", "--expect", "--torture-device=feather")
        assert o["europian-swallow"] == 0
        assert o.subCommand == "inquisition"
        assert o.subOptions["expect"] == 1
        assert o.subOptions["torture-device"] == "feather"

    def test_shortcut(self) -> None:
        o = parsed(SubCommandOptions(), "inquest", "-e", "-tfeather")
        assert o.subCommand == "inquisition"
        assert isinstance(o.subOptions, InquisitionOptions)
        assert (o.subOptions["expect"], o.subOptions["torture-device"]) == (1, "feather")

    def test_another(self) -> None:
        o = parsed(SubCommandOptions(), "quest", "--for-grail")
        assert o.subCommand == "holyquest"
        assert isinstance(o.subOptions, HolyQuestOptions)
        assert (o.subOptions["horseback"], o.subOptions["for-grail"]) == (0, 1)

    def test_none(self) -> None:
        o = parsed(SubCommandOptions(), "--europian-swallow")
        assert o.subCommand is None
        assert not hasattr(o, "subOptions")

    def test_default(self) -> None:
        o = SubCommandOptions()
        o.defaultSubCommand = "inquest"
        parsed(o, "--europian-swallow")
        assert o["europian-swallow"] == 1
        assert o.subCommand == "inquisition"
        assert isinstance(o.subOptions, InquisitionOptions)

    def test_unknown(self) -> None:
        message = usageError(SubCommandOptions(), "crusade")
        assert message == "Unknown command: crusade (expected one of: holyquest, inquisition)"

    def test_optionsOfRootComeBeforeCommand(self) -> None:
        message = usageError(SubCommandOptions(), "holyquest", "--europian-swallow")
        assert message == "option --europian-swallow not recognized"

    def test_subCommandErrorsPropagate(self) -> None:
        o = SubCommandOptions()
        assert usageError(o, "quest", "-x") == "option -x not recognized"
        assert isinstance(o.subOptions, HolyQuestOptions)

    def test_parentIsSetBeforeParsing(self) -> None:
        seen: list[usage.Options | None] = []

        class SubOpt(usage.Options):
            def parseOptions(self, options: Any = None) -> None:
                seen.append(self.parent)
                super().parseOptions(options)

        class Opt(usage.Options):
            subCommands = (("foo", "f", SubOpt, "bar"),)

        o = parsed(Opt(), "foo")
        assert seen == [o]

    def test_sameClassInTwoPlaces(self) -> None:
        class SubOpt(usage.Options):
            pass

        class OptFoo(usage.Options):
            subCommands = (("foo", "f", SubOpt, "quux"),)

        class OptBar(usage.Options):
            subCommands = (("bar", "b", SubOpt, "quux"),)

        foo = parsed(OptFoo(), "foo")
        bar = parsed(OptBar(), "bar")
        assert foo.subOptions.parent is foo
        assert bar.subOptions.parent is bar

    def test_factoryNeedNotBeAClass(self) -> None:
        class Opt(usage.Options):
            subCommands = (("go", None, lambda: HolyQuestOptions(), "Go"),)

        assert isinstance(parsed(Opt(), "go").subOptions, HolyQuestOptions)

    def test_subCommandsAsProperty(self) -> None:
        class Opt(usage.Options):
            @property
            def subCommands(self) -> list[tuple[str, None, type[usage.Options], str]]:
                return [("dyn", None, HolyQuestOptions, "Made on demand")]

        assert parsed(Opt(), "dyn", "-g").subOptions["for-grail"] == 1

    def test_postOptionsRunsAfterSubCommand(self) -> None:
        order: list[str] = []

        class Sub(usage.Options):
            def postOptions(self) -> None:
                order.append("sub")

        class Root(usage.Options):
            subCommands = (("sub", None, Sub, ""),)

            def postOptions(self) -> None:
                order.append("root")

        parsed(Root(), "sub")
        assert order == ["sub", "root"]


class TestParseArgs:
    def test_defaultAcceptsNoArguments(self) -> None:
        parsed(usage.Options())
        message = usageError(usage.Options(), "stray")
        assert message == "Wrong number of arguments: expected no arguments, got 1."

    def test_exact(self) -> None:
        class Cmp(usage.Options):
            optParameters = (("max_differences", "d", 1, None),)

            def parseArgs(self, origin: str, changed: str) -> None:
                self["origin"], self["changed"] = origin, changed

        o = parsed(Cmp(), "-d", "5", "a", "b")
        assert (o["origin"], o["changed"], o["max_differences"]) == ("a", "b", "5")
        expected = "Wrong number of arguments: expected exactly 2 (origin, changed), got {}."
        assert usageError(Cmp(), "a") == expected.format(1)
        assert usageError(Cmp(), "a", "b", "c") == expected.format(3)
        assert usageError(Cmp()) == expected.format(0)

    def test_optional(self) -> None:
        class Opts(usage.Options):
            def parseArgs(self, source: str, target: str = "-") -> None:
                self["pair"] = (source, target)

        assert parsed(Opts(), "x")["pair"] == ("x", "-")
        assert parsed(Opts(), "x", "y")["pair"] == ("x", "y")
        message = "Wrong number of arguments: expected between 1 and 2 (source, target), got {}."
        assert usageError(Opts()) == message.format(0)
        assert usageError(Opts(), "1", "2", "3") == message.format(3)

    def test_onlyOptional(self) -> None:
        class Opts(usage.Options):
            def parseArgs(self, name: str | None = None) -> None:
                self["name"] = name

        assert parsed(Opts())["name"] is None
        message = usageError(Opts(), "a", "b")
        assert message == "Wrong number of arguments: expected at most 1 (name), got 2."

    def test_variadic(self) -> None:
        class Cat(usage.Options):
            def parseArgs(self, *files: str) -> None:
                self["files"] = files

        assert parsed(Cat())["files"] == ()
        assert parsed(Cat(), *"abcdef")["files"] == tuple("abcdef")

    def test_variadicWithRequired(self) -> None:
        class Opts(usage.Options):
            def parseArgs(self, first: str, *rest: str) -> None:
                self["all"] = (first, *rest)

        assert parsed(Opts(), "a", "b")["all"] == ("a", "b")
        message = usageError(Opts())
        assert message == "Wrong number of arguments: expected at least 1 (first, *rest), got 0."

    def test_keywordOnlyParametersAreNotArguments(self) -> None:
        class Opts(usage.Options):
            def parseArgs(self, name: str, *, loud: bool = False, **extra: Any) -> None:
                self["name"] = name

        message = usageError(Opts(), "a", "b")
        assert message == "Wrong number of arguments: expected exactly 1 (name), got 2."

    def test_typeErrorInsideParseArgsIsNotHidden(self) -> None:
        class Opts(usage.Options):
            def parseArgs(self, value: str) -> None:
                raise TypeError("a bug in parseArgs")

        with pytest.raises(TypeError, match="a bug in parseArgs"):
            Opts().parseOptions(["x"])

    def test_postOptionsRunsLastAndMayRefuse(self) -> None:
        class Opts(usage.Options):
            optFlags = (("fast", "f", None), ("good", "g", None), ("cheap", "c", None))

            def parseArgs(self, *args: str) -> None:
                self["parsedArgs"] = True

            def postOptions(self) -> None:
                assert self["parsedArgs"]
                if self["fast"] and self["good"] and self["cheap"]:
                    raise usage.UsageError("can't have it all, brother")

        parsed(Opts(), "-fg")
        assert usageError(Opts(), "-fgc") == "can't have it all, brother"


class TestParseOptionsSources:
    def test_readsArgvWhenGivenNothing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(sys, "argv", ["prog", "-f", "--long", "x", "arg"])
        o = WellBehaved()
        o.parseOptions()
        assert (o["aflag"], o["long"], o["args"]) == (1, "x", ["arg"])

    def test_acceptsAnySequence(self) -> None:
        assert parsed(WellBehaved(), *("-f",))["aflag"] == 1
        o = WellBehaved()
        o.parseOptions(("-o",))
        assert o["flout"] == 1


class TestHelpAndVersion:
    def test_helpPrintsUsageAndExits(self, capsys: pytest.CaptureFixture[str]) -> None:
        o = WellBehaved()
        with pytest.raises(SystemExit) as info:
            o.parseOptions(["-f", "--help", "-o"])
        assert info.value.code == 0
        assert capsys.readouterr().out == str(o) + "\n"

    def test_subCommandHelp(self, capsys: pytest.CaptureFixture[str]) -> None:
        o = SubCommandOptions()
        with pytest.raises(SystemExit) as info:
            o.parseOptions(["quest", "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert out == str(o.subOptions) + "\n"
        assert "--for-grail" in out

    def test_noVersionByDefault(self) -> None:
        assert usageError(usage.Options(), "--version") == "option --version not recognized"

    def test_versionAttribute(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sys, "argv", ["/usr/bin/frobnicate"])

        class Opts(usage.Options):
            version = "1.2.3"

        with pytest.raises(SystemExit) as info:
            Opts().parseOptions(["--version"])
        assert info.value.code == 0
        assert capsys.readouterr().out == "frobnicate 1.2.3\n"
        assert Opts().docs["version"] == "Display version information and exit."

    def test_versionMethod(self, capsys: pytest.CaptureFixture[str]) -> None:
        class Opts(usage.Options):
            version = "ignored"

            def opt_version(self) -> None:
                """Show the version."""
                print("custom version")
                raise SystemExit(0)

        with pytest.raises(SystemExit):
            Opts().parseOptions(["--version"])
        assert capsys.readouterr().out == "custom version\n"

    def test_versionParameterIsNotReplaced(self) -> None:
        class Opts(usage.Options):
            version = "9.9"
            optParameters = (("version", "V", "1", "Protocol version"),)

        assert parsed(Opts(), "--version", "2")["version"] == "2"


class TestPublicSurface:
    def test_exports(self) -> None:
        for name in usage.__all__:
            public = getattr(usage, name)
            assert public.__doc__, name
            assert public.__module__ == "fw.python.usage", name

    def test_twistedShellNames(self) -> None:
        assert (usage._ZSH, usage._BASH) == ("zsh", "bash")
