"""A small lexer for C-like languages: brace depth that ignores strings and comments.

Everything here runs on untrusted sample text, so it works on spans: ``code_spans`` finds the runs of
code between comments and literals with ``str.find`` and a regular expression that cannot backtrack,
and the functions below look only at braces (and semicolons) inside those runs. Linear in the text,
with the per-character work done in C.
"""
from __future__ import annotations

import re
from typing import Iterator, List, Optional, Tuple

_BRACE_RUNS = re.compile(r"\{+|\}+")  # a run of one brace character: one step, however long


# Comments and literals, each matched in one pass (nothing to backtrack into: every alternative reads
# forward to its own end, or to the end of the text when it is never closed). "..." and '...' end at
# their quote or at the line's end (an unterminated literal); a backslash takes the next character.
_QUOTED = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*(?:["\n]|\\?\Z)|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*(?:[\'\n]|\\?\Z)'
_NONCODE = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)|" + _QUOTED, re.S)
_NONCODE_BACKTICK = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)|`[^`]*`?|" + _QUOTED, re.S)


def code_spans(text: str, backtick_strings: bool = True) -> Iterator[Tuple[int, int]]:
    """Yield (start, end) of the runs of ``text`` outside comments and string/char literals."""
    start = 0
    for m in (_NONCODE_BACKTICK if backtick_strings else _NONCODE).finditer(text):
        if start < m.start():
            yield start, m.start()
        start = m.end()
    if start < len(text):
        yield start, len(text)


def code_positions(text: str, backtick_strings: bool = True):
    """Yield (index, char) of characters outside comments and string/char literals."""
    for s, e in code_spans(text, backtick_strings):
        for i in range(s, e):
            yield i, text[i]


def closing_index(text: str, depth_to_close: int = 1, backtick_strings: bool = True) -> Optional[int]:
    """Index of the `}` at which the code has ``depth_to_close`` more `}` than `{`."""
    depth = 0
    for s, e in code_spans(text, backtick_strings):
        for m in _BRACE_RUNS.finditer(text, s, e):
            run = m.end() - m.start()
            if text[m.start()] == "{":
                depth += run
            elif depth - run <= -depth_to_close:
                return m.start() + depth + depth_to_close - 1
            else:
                depth -= run
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
        for m in _BRACE_RUNS.finditer(code, s, e):
            if depth == 0 and pos < m.start():
                if pos != last:  # the first character after a removed piece
                    top.append(" ")
                top.append(code[pos:m.start()])
            run = m.end() - m.start()
            depth += run if code[m.start()] == "{" else -run
            pos = last = m.end()
        if depth == 0 and pos < e:
            if pos != last:
                top.append(" ")
            top.append(code[pos:e])
        last = e
    return "".join(top)
