"""
Saved ``fwd`` configurations: a plugin's name and its options, as TOML.

This replaces Twisted's pickled ``.tap`` files.  ``fwd --save-config
app.toml NAME [options]`` writes::

    plugin = "finger"
    args = []

    [options]
    file = "users.txt"
    listen = "tcp:8079:interface=127.0.0.1"

and ``fwd --config app.toml`` turns it back into the command line
``NAME --file=users.txt --listen=...`` and parses that with the plugin's own
options.  The file holds only strings, numbers, booleans and lists of them;
nothing in it is executed, and only installed plugins can be named.

The TOML is written here (the standard library's :mod:`tomllib` only reads).
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fw.python import usage
from fw.python._usage_getopt import splitCommandLine

__all__ = [
    "ConfigError",
    "SavedConfig",
    "configFromCommandLine",
    "dumpTOML",
    "readConfig",
    "writeConfig",
]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

#: A saved configuration larger than this is refused: it holds a command line.
MAX_CONFIG_SIZE = 1 << 20

TOMLValue = str | int | float | bool | list[Any]


class ConfigError(Exception):
    """A saved configuration cannot be read or written."""


@dataclass
class SavedConfig:
    """
    A plugin to run and the command line it was given.

    Attributes:
        plugin: the plugin's name (its ``fw.service_makers`` entry point).
        options: option name (long, or the letter for a short-only option)
            to value: ``True`` for a flag, a string or number for a
            parameter, a list for an option given several times.
        args: the positional arguments.
    """

    plugin: str
    options: dict[str, TOMLValue] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    def commandLine(self) -> list[str]:
        """The plugin's command line (without the plugin's name)."""
        words: list[str] = []
        for name, value in self.options.items():
            spelled = f"-{name}" if len(name) == 1 else f"--{name}"
            values = value if isinstance(value, list) else [value]
            for one in values:
                if one is True:
                    words.append(spelled)
                elif one is False:
                    continue
                elif len(name) == 1:
                    words += [spelled, _asText(one)]
                else:
                    words.append(f"{spelled}={_asText(one)}")
        if self.args:
            words.append("--")
            words += self.args
        return words


def _asText(value: object) -> str:
    return str(value)


def configFromCommandLine(
    plugin: str, options: usage.Options, words: Sequence[str]
) -> SavedConfig:
    """
    The configuration for running ``plugin`` with the command line ``words``,
    which ``options`` (the plugin's options) has parsed.

    A value given once is saved as the option stored it after parsing (a
    number, an absolute path...) when that is a string or a number; a
    value given several times is saved as the list of the strings given.
    """
    found, args = splitCommandLine(list(words), options._longSpellings, options._shortSpellings)
    specs = options._options
    saved: dict[str, TOMLValue] = {}
    for occurrence in found:
        spec = specs[occurrence.canonical]
        key = spec.long or spec.short or occurrence.canonical
        value: TOMLValue
        if not spec.takesArg:
            value = True
        else:
            value = occurrence.value if occurrence.value is not None else ""
            parsed = options.get(occurrence.canonical)
            if isinstance(parsed, str | int | float) and not isinstance(parsed, bool):
                # What the option made of it: a number, an absolute path...
                value = parsed
        if key in saved:
            previous = saved[key]
            if not spec.takesArg:
                continue
            saved[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            saved[key] = value
    return SavedConfig(plugin, saved, list(args))


def _tomlString(text: str) -> str:
    # JSON's escapes (\" \\ \n \t \uXXXX...) are all valid in a TOML basic
    # string; DEL is the one character JSON leaves alone that TOML forbids.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _tomlKey(key: str) -> str:
    return key if _BARE_KEY.match(key) else _tomlString(key)


def _tomlValue(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _tomlString(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_tomlValue(v) for v in value) + "]"
    raise ConfigError(f"cannot save a value of type {type(value).__name__} in TOML: {value!r}")


def dumpTOML(table: dict[str, Any], header: str = "") -> str:
    """
    Write a TOML document: top-level keys with strings, integers, floats,
    booleans and lists of them, then sub-tables (one level) of the same.

    Args:
        table: the document.
        header: a comment put first (each line gets a ``#``).

    Raises:
        ConfigError: a value is of another type.
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    subTables = {k: v for k, v in table.items() if isinstance(v, dict)}
    for key, value in table.items():
        if key not in subTables:
            lines.append(f"{_tomlKey(key)} = {_tomlValue(value)}")
    for name, subTable in subTables.items():
        lines += ["", f"[{_tomlKey(name)}]"]
        for key, value in subTable.items():
            if isinstance(value, dict):
                raise ConfigError(f"nested table {name}.{key} cannot be saved")
            lines.append(f"{_tomlKey(key)} = {_tomlValue(value)}")
    return "\n".join(lines) + "\n"


_HEADER = """\
fwd configuration, written by `fwd --save-config`.  Run it with:
    fwd --config THIS_FILE
It names an installed plugin and the options it is run with; nothing in it
is executed."""


def writeConfig(path: str, config: SavedConfig) -> None:
    """Write ``config`` to ``path`` as TOML."""
    text = dumpTOML(
        {"plugin": config.plugin, "args": config.args, "options": config.options},
        header=_HEADER,
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _checkValue(where: str, value: object) -> TOMLValue:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list) or not isinstance(item, str | int | float | bool):
                raise ConfigError(f"{where}: lists hold strings, numbers or booleans")
        return value
    if not isinstance(value, str | int | float | bool):
        raise ConfigError(f"{where}: expected a string, number, boolean or list")
    return value


def readConfig(path: str) -> SavedConfig:
    """
    Read a configuration written by :func:`writeConfig` (or by hand).

    Raises:
        ConfigError: the file cannot be read, is not TOML, or does not have
            the expected keys and types.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CONFIG_SIZE + 1)
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from e
    if len(data) > MAX_CONFIG_SIZE:
        raise ConfigError(f"{path} is larger than {MAX_CONFIG_SIZE} bytes")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    unknown = set(document) - {"plugin", "options", "args"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
    plugin = document.get("plugin")
    if not isinstance(plugin, str) or not plugin:
        raise ConfigError(f"{path}: 'plugin' must name the plugin to run")
    options = document.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{path}: 'options' must be a table")
    checked = {str(k): _checkValue(f"{path}: options.{k}", v) for k, v in options.items()}
    args = document.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{path}: 'args' must be a list of strings")
    return SavedConfig(plugin, checked, list(args))
