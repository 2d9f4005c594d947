"""The bash completion script for an `Options` command: a ``complete -F`` function.

The main function re-joins the words bash split at ``=``, ``:`` and ``@``,
walks the words before the cursor the way `Options.parseOptions` reads them
(options, their values, ``--``, sub-commands, positional arguments), then
completes the current word as an option value, an option name, a
sub-command or a positional argument.  Each command and sub-command (a
"scope", numbered depth first) has four small functions::

    <fn>_<n>_opt WORD    is WORD (or a unique prefix) an option here?  sets name
                         and takes (0/1)
    <fn>_<n>_sub WORD    is WORD a sub-command here?  sets scope
    <fn>_<n>_value NAME  complete the value of option NAME
    <fn>_<n>_options     complete option names (not already used or excluded)
    <fn>_<n>_args N      complete positional argument N (from 0)

Completion actions (see `Completer`) are bash commands using the
``_fw_usage_*`` helpers defined at the top of every script, reading ``$cur``
and adding to ``COMPREPLY``.  Works in bash 3.2 and later.

Private.
"""

from __future__ import annotations

import shlex

from fw.python._usage_completers import _BASH
from fw.python._usage_shellcomp import CompletionScope, functionName

_HELPERS = r"""
# Helpers shared by the completion scripts fw.python.usage generates.  Each
# adds to COMPREPLY the matches for $cur (set by the caller).
_fw_usage_words() {
    local w
    for w in "$@"; do
        [[ $w == "$cur"* ]] && COMPREPLY+=("$w")
    done
    return 0
}
_fw_usage_compgen() {
    local w
    while IFS= read -r w; do
        COMPREPLY+=("$w")
    done < <(compgen "$@" -- "$cur" 2>/dev/null)
    return 0
}
_fw_usage_files() {
    compopt -o filenames 2>/dev/null
    if [[ $1 == '*' ]]; then
        _fw_usage_compgen -f
    else
        _fw_usage_compgen -d
        _fw_usage_compgen -f -X "!$1"
    fi
}
_fw_usage_dirs() {
    compopt -o filenames 2>/dev/null
    _fw_usage_compgen -d
}
_fw_usage_multi() {
    local given="" last=$cur w
    if [[ $cur == *,* ]]; then
        given=${cur%,*},
        last=${cur##*,}
    fi
    for w in "$@"; do
        [[ ,$given == *,"$w",* ]] && continue
        [[ $w == "$last"* ]] && COMPREPLY+=("$given$w")
    done
    compopt -o nospace 2>/dev/null
    return 0
}
_fw_usage_userathost() {
    local w
    if [[ $cur == *@* ]]; then
        while IFS= read -r w; do
            COMPREPLY+=("${cur%%@*}@$w")
        done < <(compgen -A hostname -- "${cur#*@}" 2>/dev/null)
    else
        _fw_usage_compgen -A hostname
        while IFS= read -r w; do
            COMPREPLY+=("$w@")
        done < <(compgen -u -- "$cur" 2>/dev/null)
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
_fw_usage_interfaces() {
    local -a names=()
    local d
    if [[ -d /sys/class/net ]]; then
        for d in /sys/class/net/*; do
            [[ -e $d ]] && names+=("${d##*/}")
        done
    else
        names=($(ifconfig -l 2>/dev/null))
    fi
    _fw_usage_words "${names[@]}"
}
# Like an option's _opt function, for a unique prefix ($1) of the long
# spellings given after the function ($2) to call with the full spelling.
_fw_usage_longprefix() {
    local word=$1 fn=$2 spelling found=""
    shift 2
    [[ $word == --?* ]] || return 1
    for spelling in "$@"; do
        [[ $spelling == "$word"* ]] && "$fn" "$spelling" || continue
        [[ -n $found && $found != "$name" ]] && return 1
        found=$name
    done
    [[ -n $found ]]
}
# Set words and cword from COMP_WORDS, re-joining the pieces bash split at
# COMP_WORDBREAKS characters (--opt=value, user@host) by their positions
# on COMP_LINE.
_fw_usage_line_words() {
    local line=${COMP_LINE-} i w pos=0 glued
    words=()
    if [[ -z $line ]]; then
        words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
        cword=$COMP_CWORD
        return 0
    fi
    for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
        w=${COMP_WORDS[i]}
        glued=1
        while (( pos < ${#line} )) && [[ ${line:pos:1} == [[:space:]] ]]; do
            pos=$((pos + 1))
            glued=0
        done
        if (( i > 0 && glued )); then
            words[${#words[@]}-1]+=$w
        else
            words+=("$w")
        fi
        pos=$((pos + ${#w}))
    done
    cword=$((${#words[@]} - 1))
}
# Bash replaces only the last piece of a split word ($2 of $1): cut the rest.
_fw_usage_trim() {
    local strip=$((${#1} - ${#2})) i
    (( strip > 0 )) || return 0
    for i in "${!COMPREPLY[@]}"; do
        COMPREPLY[i]=${COMPREPLY[i]:strip}
    done
}
"""

_MAIN = r"""
{fn}() {{
    local cur raw name takes scope=0 expect="" endopts=0 nargs=0 used=" "
    local word rest letter prefix i cword
    local -a words
    _fw_usage_line_words
    cur=${{words[cword]}}
    raw=${{COMP_WORDS[COMP_CWORD]}}
    COMPREPLY=()
    for ((i = 1; i < cword; i++)); do
        word=${{words[i]}}
        if [[ -n $expect ]]; then
            expect=""
            continue
        fi
        if (( !endopts )) && [[ $word == -?* ]]; then
            if [[ $word == -- ]]; then
                endopts=1
            elif [[ $word == --* ]]; then
                if {fn}_${{scope}}_opt "${{word%%=*}}"; then
                    used+="$name "
                    [[ $takes == 1 && $word != *=* ]] && expect=$name
                fi
            else
                rest=${{word#-}}
                while [[ -n $rest ]]; do
                    letter=${{rest:0:1}}
                    rest=${{rest:1}}
                    {fn}_${{scope}}_opt "-$letter" || continue
                    used+="$name "
                    if [[ $takes == 1 ]]; then
                        [[ -z $rest ]] && expect=$name
                        break
                    fi
                done
            fi
            continue
        fi
        if (( nargs == 0 )) && {fn}_${{scope}}_sub "$word"; then
            endopts=0
            used=" "
            continue
        fi
        # Options end at the first argument, as parseOptions reads them.
        endopts=1
        nargs=$((nargs + 1))
    done
    if [[ -n $expect ]]; then
        {fn}_${{scope}}_value "$expect"
    elif (( !endopts )) && [[ $cur == --*=* ]]; then
        if {fn}_${{scope}}_opt "${{cur%%=*}}" && [[ $takes == 1 ]]; then
            prefix=${{cur%%=*}}=
            cur=${{cur#*=}}
            {fn}_${{scope}}_value "$name"
            for i in "${{!COMPREPLY[@]}}"; do
                COMPREPLY[i]=$prefix${{COMPREPLY[i]}}
            done
            cur=$prefix$cur
        fi
    elif (( !endopts )) && [[ $cur == -* ]]; then
        {fn}_${{scope}}_options
    else
        {fn}_${{scope}}_args "$nargs"
    fi
    _fw_usage_trim "$cur" "$raw"
    return 0
}}
"""


def _case(subject: str, arms: list[tuple[list[str], str]], default: str) -> list[str]:
    lines = [f"    case {subject} in"]
    for patterns, body in arms:
        quoted = "|".join(shlex.quote(p) for p in patterns)
        lines.append(f"        {quoted}) {body} ;;")
    lines += [f"        *) {default} ;;", "    esac"]
    return lines


def _scopeFunctions(
    fn: str, scope: CompletionScope, numbers: dict[tuple[str, ...], int]
) -> list[str]:
    prefix = f"{fn}_{numbers[scope.path]}"
    label = " ".join(scope.path) or "the command"
    lines = [f"# {label}"]

    optionArms = [
        (opt.spellings(), f"name={shlex.quote(opt.name)}; takes={int(opt.takesArg)}")
        for opt in scope.options
    ]
    longs = [f"--{n}" for opt in scope.options for n in opt.longNames]
    fallback = " ".join(
        ["_fw_usage_longprefix", '"$1"', f"{prefix}_opt", *map(shlex.quote, longs)]
    )
    lines += [f"{prefix}_opt() {{", *_case('"$1"', optionArms, fallback), "}"]

    subArms = [
        ([n for n in (sub.name, sub.shortcut) if n], f"scope={numbers[sub.scope.path]}")
        for sub in scope.subCommands
    ]
    lines += [f"{prefix}_sub() {{", *_case('"$1"', subArms, "return 1"), "}"]

    valueArms = [
        ([opt.name], opt.action._shellCode(opt.name, _BASH))
        for opt in scope.options
        if opt.action is not None
    ]
    lines += [f"{prefix}_value() {{", *_case('"$1"', valueArms, ":"), "}"]

    lines.append(f"{prefix}_options() {{")
    for opt in scope.options:
        offer = " ".join(["_fw_usage_words", *(shlex.quote(s) for s in opt.spellings())])
        blockers = ([] if opt.multiUse else [opt.name]) + opt.excludes
        if blockers:
            tests = " || ".join(f"$used == *{shlex.quote(' ' + b + ' ')}*" for b in blockers)
            lines.append(f"    [[ {tests} ]] || {offer}")
        else:
            lines.append(f"    {offer}")
    lines += ["    return 0", "}"]

    argArms: list[tuple[list[str], str]] = []
    default = ":"
    if scope.subCommands:
        names = " ".join(shlex.quote(sub.name) for sub in scope.subCommands)
        argArms.append((["0"], f"_fw_usage_words {names}"))
    else:
        for index, action in enumerate(scope.extraActions):
            if action._repeat:
                default = action._shellCode("argument", _BASH)
            else:
                argArms.append(([str(index)], action._shellCode("argument", _BASH)))
    lines += [f"{prefix}_args() {{", *_case('"$1"', argArms, default), "}", ""]
    return lines


def bashScript(root: CompletionScope, cmdName: str) -> str:
    """The whole bash completion script for the command ``cmdName``."""
    fn = functionName(cmdName)
    numbers = {scope.path: index for index, scope in enumerate(root.walk())}
    lines = [
        f"# bash completion for {cmdName}, generated by fw.python.usage.",
        f'# Load with: eval "$({cmdName} --_shell-completion bash)"',
    ]
    lines += _HELPERS.strip("\n").splitlines()
    lines.append("")
    for scope in root.walk():
        lines += _scopeFunctions(fn, scope, numbers)
    lines += _MAIN.format(fn=fn).strip("\n").splitlines()
    lines.append(f"complete -F {fn} {shlex.quote(cmdName)}")
    return "\n".join(lines) + "\n"
