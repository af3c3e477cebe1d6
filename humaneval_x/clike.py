"""A small lexer for C-like languages: brace depth that ignores strings and comments."""
from __future__ import annotations

from typing import Optional


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


def code_positions(text: str, backtick_strings: bool = True):
    """Yield (index, char) of characters outside comments and string/char literals."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "\"'":
            i = _skip_string(text, i, c)
            continue
        if c == "`" and backtick_strings:
            j = text.find("`", i + 1)
            i = n if j < 0 else j + 1
            continue
        yield i, c
        i += 1


def closing_index(text: str, depth_to_close: int = 1, backtick_strings: bool = True) -> Optional[int]:
    """Index of the `}` at which the code has ``depth_to_close`` more `}` than `{`."""
    depth = 0
    for i, c in code_positions(text, backtick_strings):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == -depth_to_close:
                return i
    return None


def brace_depth(text: str, backtick_strings: bool = True) -> int:
    """Number of `{` minus number of `}` outside comments and literals."""
    depth = 0
    for _, c in code_positions(text, backtick_strings):
        depth += (c == "{") - (c == "}")
    return depth


def strip_comments_and_strings(text: str, backtick_strings: bool = True) -> str:
    """The code with comments and literals removed (for scanning identifiers)."""
    out = []
    last = -2
    for i, c in code_positions(text, backtick_strings):
        if i != last + 1:
            out.append(" ")
        out.append(c)
        last = i
    return "".join(out)
