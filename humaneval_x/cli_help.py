"""`--help` in the names the README uses: commands and flags with hyphens, every flag with its description.

Fire's own help lists ``evaluate_samples`` and ``--output_dir`` and cuts a description at its first
colon; this one is rendered from the same docstrings (Google style, an ``Args:`` section per command).
"""
from __future__ import annotations

import inspect
import re
import textwrap
import typing
from typing import Dict, List, Optional, Tuple

PROG = "humaneval-x"
WIDTH = 100


def _name(attr: str) -> str:
    return attr.replace("_", "-")


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def parse_docstring(obj) -> Tuple[str, Dict[str, str]]:
    """(the text before ``Args:``, {parameter: its description joined into one paragraph})."""
    doc = inspect.getdoc(obj) or ""
    lines = doc.splitlines()
    if "Args:" not in [ln.strip() for ln in lines]:
        return doc.strip(), {}
    at = [ln.strip() for ln in lines].index("Args:")
    args: Dict[str, str] = {}
    current, indent = None, None
    for line in lines[at + 1:]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        if depth == 0:  # a section after Args (Returns:, ...)
            break
        m = re.match(r"\*{0,2}(\w+)(?: \([^)]*\))?: ?(.*)$", line.strip())
        if m and (indent is None or depth == indent):
            indent, current = depth, m.group(1)
            args[current] = m.group(2).strip()
        elif current is not None:
            args[current] = (args[current] + " " + line.strip()).strip()
    return "\n".join(lines[:at]).strip(), args


def _commands(component) -> List[Tuple[str, object]]:
    """(attribute, method or group) of a CLI object: its public methods and the groups it holds."""
    found = [(n, getattr(component, n)) for n in sorted(dir(component)) if not n.startswith("_")]
    return [(n, obj) for n, obj in found if inspect.ismethod(obj) or not callable(obj)]


def _wrap(text: str, indent: int) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * indent,
                         break_on_hyphens=False, break_long_words=False)


def _group_lines(component, prefix: str) -> List[str]:
    out = []
    for attr, obj in _commands(component):
        name = f"{prefix}{_name(attr)}"
        if inspect.ismethod(obj):
            out += [f"  {name}", _wrap(_summary(obj), 6)]
        else:
            out += _group_lines(obj, name + " ")
    return out


def _short_flags(names: List[str]) -> Dict[str, str]:
    """Fire's one-letter shortcuts: -o for --output-dir when no other parameter starts with o."""
    first = [n[0] for n in names]
    return {n: n[0] for n in names if first.count(n[0]) == 1}


def _is_bool(hint) -> bool:
    from .cli_args import _is_bool as is_bool
    return is_bool(hint)


def command_help(fn, path: str) -> str:
    from .cli_args import positional_parameters
    body, described = parse_docstring(fn)
    sig = inspect.signature(fn)
    hints = typing.get_type_hints(fn)
    positional = positional_parameters(fn)
    varargs = [n for n, p in sig.parameters.items() if p.kind == p.VAR_POSITIONAL]
    flags = [n for n, p in sig.parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    usage = " ".join([PROG, path] + [n.upper() if sig.parameters[n].default is inspect.Parameter.empty
                                     else f"[{n.upper()}]" for n in positional]
                     + [f"{n.upper()} ..." for n in varargs]
                     + (["[FLAGS]"] if set(flags) - set(positional) else []))
    out = [f"usage: {usage}"]
    for par in body.split("\n\n"):
        out += ["", _wrap(par.replace("\n", " "), 0) if not par.startswith(" ") else par]
    shorts = _short_flags(flags)
    if positional or varargs:
        out += ["", "arguments:"]
        for n in positional + varargs:
            alias = f" (or {'-' + shorts[n] + ', ' if n in shorts else ''}--{_name(n)} {n.upper()})" \
                if n in positional else ""
            out += [f"  {n.upper()}{alias}", _wrap(described.get(n, ""), 6)]
    flags = [n for n in flags if n not in positional]
    if flags:
        out += ["", "flags:"]
        for n in flags:
            hint = hints.get(n)
            default = sig.parameters[n].default
            if _is_bool(hint):
                head = f"--{_name(n)}[=true|false], --no{_name(n)}"
            else:
                head = f"--{_name(n)} {n.upper()}"
            if n in shorts:
                head = f"-{shorts[n]}, {head}"
            text = described.get(n, "")
            if default not in (inspect.Parameter.empty, None) and "default" not in text.lower():
                text += f" (default: {str(default).lower() if isinstance(default, bool) else default})"
            out += [f"  {head}", _wrap(text, 6)]
    out += ["", f"  -h, --help  this text"]
    return "\n".join(out)


def top_help(component) -> str:
    out = [f"usage: {PROG} COMMAND [ARGUMENTS] [FLAGS]", "", _wrap(_summary(component), 0), "", "commands:"]
    out += _group_lines(component, "")
    out += ["", f"Each command's arguments and flags: {PROG} COMMAND --help.",
            "Booleans take true/false, yes/no or 1/0 in any case (--clean=false), or --flag / --noflag.",
            "A bad command line is one line on stderr and exit status 2, before any work.",
            "", "  --version   the version", "  -h, --help  this text"]
    return "\n".join(out)


def group_help(component, path: str) -> str:
    out = [f"usage: {PROG} {path} COMMAND [FLAGS]", "", _wrap(_summary(component), 0), "", "commands:"]
    out += _group_lines(component, path + " ")
    out += ["", f"Each command's flags: {PROG} {path} COMMAND --help."]
    return "\n".join(out)


def help_for(component, argv: List[str]) -> Optional[str]:
    """The help text the command line asks for (--help/-h anywhere before a lone --, or no command), else None.

    An unknown command is a UsageError, with or without --help."""
    from .cli_args import _resolve, component_at, unknown_command
    argv = list(argv)
    if "--" in argv:  # after a lone --, Fire's own flags (its --help included)
        argv = argv[:argv.index("--")]
    wants = any(a in ("-h", "--help") for a in argv)
    fn, rest, path = _resolve(component, argv)
    if fn is not None:
        return command_help(fn, path) if wants else None
    if rest and not rest[0].startswith("-"):
        raise unknown_command(component, path, rest[0])
    if wants or not rest:  # a group (or nothing) without a command
        target = component_at(component, path)
        return group_help(target, path) if path else top_help(target)
    return None
