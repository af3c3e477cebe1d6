"""Compiler and run messages as a reader of a report can follow them.

The sandbox compiles and runs an *assembled* program (prompt, sample, test) in a staging folder, so its
messages name that folder (``/tmp/hx-stage/s-…/Main.java``) and lines of a program the reader never wrote.
``readable`` drops the staging folders and names each line of the program's own file as a line of the
sample (``sample line 3``) where it lies in the sample's code, else as a line of the assembled program
(``program line 45``), which the report shows in its drill-down (``numbered_program``).
"""
from __future__ import annotations

import html
import re
from typing import Optional, Tuple

from .languages import LANGUAGES

# the runner's stage folders (runners/runner.py STAGE_ROOT) and go's "./" before its file names
STAGE_PATH = re.compile(r"/tmp/hx-stage/[^\s/:'\"]+/(?:\.hx-tmp/)?|(?<![\w./])\./(?=[\w-]+\.\w+:)")


def sample_span(program: Optional[str], cleaned: Optional[str]) -> Optional[Tuple[int, int]]:
    """(first, last) line of the assembled program that hold the sample's code, 1-based; None if not found."""
    if not program or not cleaned or not cleaned.strip():
        return None
    code = cleaned.strip("\n")
    i = program.find(code)
    if i < 0:  # Go moves a sample's imports to the top: look for the code after them
        body = re.sub(r"\A(?:\s*import\s*(?:\([^)]*\)|\"[^\"]*\")\s*)+", "", code).strip("\n")
        i = program.find(body) if body.strip() else -1
        code = body
    if i < 0:
        return None
    first = program.count("\n", 0, i) + 1
    return first, first + code.count("\n")


def _label(line: int, col: Optional[str], span) -> str:
    where = (f"sample line {line - span[0] + 1}" if span and span[0] <= line <= span[1]
             else f"program line {line}")
    return where + (f", column {col}" if col else "")


def readable(text: str, language: str, program: Optional[str] = None, cleaned: Optional[str] = None) -> str:
    """``text`` (a detail or a stderr) without staging paths, its lines of the program's own file named
    as lines of the sample or of the assembled program."""
    if not text:
        return text or ""
    name = re.escape(LANGUAGES[language].source_file)
    span = sample_span(program, cleaned)
    text = STAGE_PATH.sub("", text)
    text = re.sub(rf"(?<![\w/.]){name}:(\d+)(?::(\d+))?", lambda m: _label(int(m.group(1)), m.group(2), span), text)
    return re.sub(rf'"{name}", line (\d+)', lambda m: _label(int(m.group(1)), None, span), text)


def numbered_program(program: str, span: Optional[Tuple[int, int]]) -> str:
    """The assembled program as HTML (escaped), each line numbered; the sample's lines marked with ▶."""
    lines = program.rstrip("\n").split("\n")
    width = len(str(len(lines)))
    out = []
    for i, line in enumerate(lines, 1):
        mine = bool(span and span[0] <= i <= span[1])
        text = f"{'▶' if mine else ' '} {i:>{width}} | {line}"
        out.append(f"<b>{html.escape(text)}</b>" if mine else html.escape(text))
    return "\n".join(out)
