"""Stop rules (checked while tokens arrive) and clean-up of generated code, per language.

Stop rules return the index where the completion should be cut, or None while the
completion is still open. Clean-up turns a raw completion into what is assembled
into the test program. Brace counting ignores strings and comments (the original
harness counted raw characters, so `"}"` in a string ended a function early).
"""
from __future__ import annotations

import re
from typing import Optional

from .clike import brace_depth, closing_index


# ---------------------------------------------------------------- Python
def python_stop(text: str) -> Optional[int]:
    """Index of the first non-empty line that is not indented (the function has ended)."""
    for m in re.finditer(r"\n(?=[^\s])", text):
        return m.start()
    return None


def python_clean(text: str) -> str:
    cut = python_stop(text)
    return (text if cut is None else text[:cut]).rstrip() + "\n"


# ---------------------------------------------------------------- C-like
def _brace_stop(depth: int, backticks: bool):
    def stop(text: str) -> Optional[int]:
        i = closing_index(text, depth, backticks)
        return None if i is None else i + 1
    return stop


cpp_stop = _brace_stop(1, backticks=False)   # the function closes
js_stop = _brace_stop(1, backticks=True)
go_stop = _brace_stop(1, backticks=True)     # Go raw strings use backticks too
java_stop = _brace_stop(2, backticks=False)  # the method, then class Solution, close


def _cut_after_last_brace(text: str) -> str:
    j = text.rfind("}")
    return text if j < 0 else text[: j + 1]


def _clike_clean(stop, text: str) -> str:
    cut = stop(text)
    return (text[:cut] if cut is not None else _cut_after_last_brace(text)) + "\n"


def cpp_clean(text: str) -> str:
    return _clike_clean(cpp_stop, text)


def js_clean(text: str) -> str:
    return _clike_clean(js_stop, text)


def go_clean(text: str) -> str:
    m = re.search(r"\nfunc\s+main\s*\(", text)
    if m:
        text = text[: m.start()]
    return _clike_clean(go_stop, text)


def java_clean(text: str) -> str:
    m = re.search(r"(public\s+static\s+void\s+main\s*\(|(public\s+)?class\s+Main\b)", text)
    if m:
        text = text[: m.start()]
    cut = java_stop(text)
    if cut is not None:
        return text[:cut] + "\n"
    body = _cut_after_last_brace(text)
    # close what is still open: blocks of the method, the method, class Solution
    return body + "\n" + "}\n" * max(0, brace_depth(body, False) + 2)
