"""A small lexer for C-like languages: brace depth that ignores strings and comments.

Everything here runs on untrusted sample text, so it works on spans: ``code_spans`` finds the runs of
code between comments and literals with ``str.find`` and a regular expression that cannot backtrack,
and the functions below look only at braces (and semicolons) inside those runs. Linear in the text,
with the per-character work done in C.
"""
from __future__ import annotations

import re
from typing import Iterator, List, Optional, Tuple

_OPENERS = re.compile(r"[/\"']")
_OPENERS_BACKTICK = re.compile(r"[/\"'`]")
_BRACES = re.compile(r"[{}]")


def _skip_string(text: str, i: int, quote: str) -> int:
    """Index just past the string literal opened at text[i] (or len(text))."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and quote != "`raw":
            i += 2
            continue
        if c == quote[0]:
            return i + 1
        if c == "\n" and quote in ('"', "'"):
            return i + 1  # unterminated literal: stop at the line end
        i += 1
    return n


def code_spans(text: str, backtick_strings: bool = True) -> Iterator[Tuple[int, int]]:
    """Yield (start, end) of the runs of ``text`` outside comments and string/char literals."""
    openers = _OPENERS_BACKTICK if backtick_strings else _OPENERS
    n = len(text)
    start = i = 0
    while True:
        m = openers.search(text, i)
        if m is None:
            if start < n:
                yield start, n
            return
        j = m.start()
        c = text[j]
        if c == "/":
            if text.startswith("//", j):
                end = text.find("\n", j)
                skip = n if end < 0 else end
            elif text.startswith("/*", j):
                end = text.find("*/", j + 2)
                skip = n if end < 0 else end + 2
            else:  # division: code
                i = j + 1
                continue
        elif c == "`":
            end = text.find("`", j + 1)
            skip = n if end < 0 else end + 1
        else:
            skip = _skip_string(text, j, c)
        if start < j:
            yield start, j
        start = i = skip


def code_positions(text: str, backtick_strings: bool = True):
    """Yield (index, char) of characters outside comments and string/char literals."""
    for s, e in code_spans(text, backtick_strings):
        for i in range(s, e):
            yield i, text[i]


def closing_index(text: str, depth_to_close: int = 1, backtick_strings: bool = True) -> Optional[int]:
    """Index of the `}` at which the code has ``depth_to_close`` more `}` than `{`."""
    depth = 0
    for s, e in code_spans(text, backtick_strings):
        for m in _BRACES.finditer(text, s, e):
            if m.group() == "{":
                depth += 1
            else:
                depth -= 1
                if depth == -depth_to_close:
                    return m.start()
    return None


def brace_depth(text: str, backtick_strings: bool = True) -> int:
    """Number of `{` minus number of `}` outside comments and literals."""
    depth = 0
    for s, e in code_spans(text, backtick_strings):
        chunk = text[s:e]
        depth += chunk.count("{") - chunk.count("}")
    return depth


def strip_comments_and_strings(text: str, backtick_strings: bool = True) -> str:
    """The code with comments and literals removed (for scanning identifiers); each removed piece and
    the start of the text leave one space."""
    out: List[str] = []
    last = -1
    for s, e in code_spans(text, backtick_strings):
        if s != last:
            out.append(" ")
        out.append(text[s:e])
        last = e
    return "".join(out)


def top_level_text(code: str, backtick_strings: bool = True) -> str:
    """The characters of ``code`` outside every brace pair, comments and literals; a comment or literal
    left out leaves a space, as it separates tokens for the compiler (``var/**/x`` is ``var x``)."""
    depth, top, last = 0, [], 0
    for s, e in code_spans(code, backtick_strings):
        pos = s
        for m in _BRACES.finditer(code, s, e):
            if depth == 0 and pos < m.start():
                if pos != last:  # the first character after a removed piece
                    top.append(" ")
                top.append(code[pos:m.start()])
            depth += 1 if m.group() == "{" else -1
            pos = last = m.end()
        if depth == 0 and pos < e:
            if pos != last:
                top.append(" ")
            top.append(code[pos:e])
        last = e
    return "".join(top)
