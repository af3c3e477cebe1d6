"""Where a C-like sample defines its functions and classes, found in time linear in its length.

A definition is a header (the code between the previous statement at one brace depth and a `{`)
that names a function or class. Headers are read by small hand-written scanners, not regular
expressions: sample text is untrusted, and a pattern that can split a run of `*` or `&` several
ways, or that is tried from every start position, turns one long line into hours. Each scanner
looks at a header once (plus constant work per character); only the last ``HEADER_WINDOW``
characters of a header are read, so a longer header (no real signature is) defines nothing.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from .clike import code_spans

HEADER_WINDOW = 4096
C_KEYWORDS = {"if", "for", "while", "switch", "catch", "return", "else", "do", "sizeof", "new", "throw", "synchronized"}
Match = Optional[Tuple[str, int]]  # (name, index in the header where the definition starts)


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _skip_ws(h: str, i: int) -> int:
    n = len(h)
    while i < n and h[i].isspace():
        i += 1
    return i


def _word_end(h: str, i: int, extra: str = "") -> int:
    n = len(h)
    while i < n and (_word(h[i]) or h[i] in extra):
        i += 1
    return i


# ---------------------------------------------------------------- C++ and Java
# A type is a run of type words (letters, digits, `_ : < > , [ ] . ?`) separated by blanks, `*` and
# `&`; the name is the last word before the `(` that opens the parameters.
_TYPE_CHARS = frozenset(":<>,[].?")
_SEPARATORS = frozenset("*&")


def _type_char(c: str) -> bool:
    return _word(c) or c in _TYPE_CHARS


def _separator(c: str) -> bool:
    return c in _SEPARATORS or c.isspace()


def _typed_function(blocking: str, tail: Callable[[str], int], glued: bool) -> Callable[[str], Match]:
    """A scanner for `type... name(parameters) <tail>`: ``tail(h)`` is the index of the `)` that
    must close the header (or -1); a start may not follow a word character or one of ``blocking``;
    ``glued``: `*` and `&` may separate the type from the name (C++), else only blanks (Java)."""
    def scan(h: str) -> Match:
        close = tail(h)
        if close < 0:
            return None
        run_start = 0  # where the current run of type characters and separators began
        for p in range(close):
            c = h[p]
            if _type_char(c) or _separator(c):
                continue
            if c == "(":
                j = p
                while j > run_start and h[j - 1].isspace():
                    j -= 1
                ns = j
                while ns > run_start and _word(h[ns - 1]):
                    ns -= 1
                if ns < j:
                    start = _typed_start(h, run_start, ns, blocking, glued)
                    if start is not None:
                        return h[ns:j], start
            run_start = p + 1
        return None
    return scan


def _typed_start(h: str, run_start: int, ns: int, blocking: str, glued: bool) -> Optional[int]:
    """Leftmost start of the type before the name at ``ns`` (None: the name cannot start a definition)."""
    if ns == 0:
        return 0
    before = h[ns - 1]
    if before in blocking:
        return None
    if not (before.isspace() or glued and before in _SEPARATORS):  # no type before the name
        return ns
    region = h[run_start:ns]
    first = next((k for k, ch in enumerate(region) if not ch.isspace()), None)
    if first is None:
        return run_start if glued else ns
    if glued and all(_separator(ch) for ch in region[first:]):
        return run_start
    return run_start + first


def _cpp_tail(h: str) -> int:
    t = h.rstrip()
    if t.endswith("const"):
        t = t[:-5].rstrip()
    return len(t) - 1 if t.endswith(")") else -1


_THROWS = re.compile(r"\s*throws\s[\w.,\s]+")


def _java_tail(h: str) -> int:
    t = h.rstrip()
    if t.endswith(")"):
        return len(t) - 1
    last = h.rfind(")")
    return last if last >= 0 and _THROWS.fullmatch(h, last + 1) else -1


cpp_function = _typed_function(":", _cpp_tail, glued=True)
java_function = _typed_function(".", _java_tail, glued=False)

_JAVA_CLASS = re.compile(r"class\s+(\w+)")
_JAVA_CLASS_MODIFIERS = ("public", "final", "abstract", "static")


def java_class(h: str) -> Match:
    """`[modifiers] class Name ...`."""
    m = _JAVA_CLASS.search(h)
    while m:
        k = m.start()
        if k and (_word(h[k - 1]) or h[k - 1] == "."):
            m = _JAVA_CLASS.search(h, k + 1)
            continue
        start = k
        while True:  # take the modifiers before it
            j = start
            while j > 0 and h[j - 1].isspace():
                j -= 1
            if j == start:
                break
            mod = next((w for w in _JAVA_CLASS_MODIFIERS if h.endswith(w, 0, j)), None)
            if mod is None:
                break
            ms = j - len(mod)
            if ms and (_word(h[ms - 1]) or h[ms - 1] == "."):
                break
            start = ms
        return m.group(1), start
    return None


# ---------------------------------------------------------------- JavaScript
_JS_WORD = "$"


def _js_word_at(h: str, i: int, word: str) -> bool:
    return h.startswith(word, i) and not (i + len(word) < len(h) and (_word(h[i + len(word)]) or h[i + len(word)] == "$"))


def _js_function_at(h: str, i: int, ends_paren: bool) -> Optional[str]:
    """`function [*] name (` at ``i`` (the header must end with `)`)."""
    if not ends_paren or not h.startswith("function", i):
        return None
    j = _skip_ws(h, i + 8)
    if j < len(h) and h[j] == "*":
        j = _skip_ws(h, j + 1)
    e = _word_end(h, j, _JS_WORD)
    k = _skip_ws(h, e)
    return h[j:e] if e > j and k < len(h) and h[k] == "(" else None


def js_function(h: str) -> Match:
    """`[async] function [*] name(...)` or `const|let|var name = [async] function... / (...) => / x =>`."""
    t = h.rstrip()
    ends_paren = t.endswith(")")
    arrow = t.endswith("=>")
    before_arrow = t[:-2].rstrip() if arrow else ""
    i, n = 0, len(h)
    while i < n:
        c = h[i]
        if not (_word(c) or c == "$"):
            i += 1
            continue
        e = _word_end(h, i, _JS_WORD)
        if i and (h[i - 1] == "." or h[i - 1] == "$"):
            i = e
            continue
        word = h[i:e]
        if word == "async" and e < n and h[e].isspace():
            name = _js_function_at(h, _skip_ws(h, e), ends_paren)
            if name:
                return name, i
        elif word.startswith("function"):
            name = _js_function_at(h, i, ends_paren)
            if name:
                return name, i
        elif word in ("const", "let", "var") and e < n and h[e].isspace():
            j = _skip_ws(h, e)
            ne = _word_end(h, j, _JS_WORD)
            k = _skip_ws(h, ne)
            if ne > j and k < n and h[k] == "=" and not h.startswith("=>", k) and not h.startswith("==", k):
                v = _skip_ws(h, k + 1)
                for value in (v, _skip_ws(h, v + 5) if _js_word_at(h, v, "async") and v + 5 < n and h[v + 5].isspace() else None):
                    if value is not None and _js_value(h, value, t, arrow, before_arrow):
                        return h[j:ne], i
        i = e
    return None


def _js_value(h: str, v: int, t: str, arrow: bool, before_arrow: str) -> bool:
    """A function value at ``v`` that the header ends with: `function...`, `(...) =>` or `x =>`."""
    if _js_word_at(h, v, "function"):
        return True
    if not arrow:
        return False
    if v < len(h) and h[v] == "(":
        return before_arrow.endswith(")") and v < len(before_arrow) - 1
    e = _word_end(h, v, _JS_WORD)
    return v < e == len(before_arrow)


# ---------------------------------------------------------------- Go
def go_function(h: str) -> Match:
    """`func [(receiver)] name [[type parameters]] (`."""
    closing = {c: [m.start() for m in re.finditer(re.escape(c), h)] for c in ")]"}

    def next_of(c: str, k: int) -> int:
        pos = closing[c]
        at = bisect_left(pos, k)
        return pos[at] if at < len(pos) else -1

    i, n = 0, len(h)
    after_receiver = {}  # index of a receiver's `)` -> the name read after it (or None)
    while True:
        i = h.find("func", i)
        if i < 0:
            return None
        s, i = i, i + 4
        if s and _word(h[s - 1]):
            continue
        j = _skip_ws(h, i)
        if j == i:
            continue
        if j < n and h[j] == "(":
            close = next_of(")", j)
            if close < 0:
                continue
            if close not in after_receiver:
                after_receiver[close] = _go_name(h, _skip_ws(h, close + 1), next_of)
            name = after_receiver[close]
        else:
            name = _go_name(h, j, next_of)
        if name:
            return name, s


def _go_name(h: str, j: int, next_of) -> Optional[str]:
    e = _word_end(h, j)
    if e == j:
        return None
    k = _skip_ws(h, e)
    if k < len(h) and h[k] == "[":
        close = next_of("]", k)
        if close < 0:
            return None
        k = _skip_ws(h, close + 1)
    return h[j:e] if k < len(h) and h[k] == "(" else None


class _Header:
    """The code read so far at one brace depth since the previous statement: pieces of the text with
    where each began, its last ``HEADER_WINDOW`` characters or more kept."""

    def __init__(self):
        self.pieces: List[Tuple[int, str]] = []
        self.size = 0

    def add(self, start: int, text: str) -> None:
        self.pieces.append((start, text))
        self.size += len(text)
        if self.size > 2 * HEADER_WINDOW:
            while self.size - len(self.pieces[0][1]) >= HEADER_WINDOW:
                self.size -= len(self.pieces.pop(0)[1])
            first_start, first = self.pieces[0]
            cut = self.size - HEADER_WINDOW
            if cut > 0:
                self.pieces[0] = (first_start + cut, first[cut:])
                self.size -= cut

    def clear(self) -> None:
        self.pieces, self.size = [], 0

    def text(self) -> str:
        return "".join(t for _, t in self.pieces)

    def index(self, offset: int) -> int:
        """Where in the code the header's character ``offset`` is."""
        for start, t in self.pieces:
            if offset < len(t):
                return start + offset
            offset -= len(t)
        raise IndexError(offset)

    def tail(self, k: int) -> str:
        """The last ``k`` characters before the trailing blanks."""
        parts, need, stripping = [], k, True
        for _, t in reversed(self.pieces):
            if stripping:
                t = t.rstrip()
                if not t:
                    continue
                stripping = False
            parts.append(t[-need:])
            need -= len(parts[-1])
            if need <= 0:
                break
        return "".join(reversed(parts))

    def ends_with_type_keyword(self) -> bool:
        """Whether the header ends with `struct` or `interface` (its `{` opens a type literal)."""
        tail = self.tail(10)
        return any(tail.endswith(w) and not (len(tail) > len(w) and _word(tail[-len(w) - 1]))
                   for w in ("struct", "interface"))


# A run of one brace character is one token: inside a body (deeper than the depth read) a run only
# moves the level, so ``{{{{...}}}}`` costs a few operations per run, not per brace.
_TOKENS = re.compile(r"\{+|\}+|;")


@dataclass(frozen=True)
class Definitions:
    """How one language declares functions: ``header(text) -> (name, start)`` for the code between the
    previous statement at one brace depth and a `{`; ``type_literals``: a `{` after `struct` or
    `interface` belongs to a type in a signature (Go)."""
    header: Callable[[str], Match]
    backticks: bool = False
    type_literals: bool = False

    def find(self, code: str, depth: int = 0) -> List[tuple]:
        """[(name, start, end)] of the definitions at brace ``depth`` (end None: still open at the end).
        Scanning stops where the code closes more braces than it opened (a continuation's function end)."""
        out, level, literal, seg = [], 0, [], _Header()
        current = None  # index into out of the definition being read at `depth`
        for s, e in code_spans(code, self.backticks):
            pos = s
            for m in _TOKENS.finditer(code, s, e):
                i, run = m.start(), m.end() - m.start()
                c = code[i]
                if level == depth and pos < i:
                    seg.add(pos, code[pos:i])
                pos = m.end()
                if c == ";":
                    if level == depth:
                        seg.clear()
                    continue
                k = 0  # braces of the run handled
                while k < run:
                    if c == "{":
                        if level != depth:
                            if level > depth:  # the rest of the run only nests deeper
                                level += run - k
                                break
                            level += 1
                            k += 1
                            continue
                        if self.type_literals and seg.ends_with_type_keyword():
                            literal.append(level)
                            seg.add(i + k, c)
                        else:
                            header = seg.text()
                            found = self.header(header)
                            if found and found[0] not in C_KEYWORDS:
                                current = len(out)
                                out.append([found[0], seg.index(found[1]) if found[1] < len(header) else i + k, None])
                            seg.clear()
                        level += 1
                        k += 1
                        continue
                    if level > depth + 1:  # braces that close inside a body: skip to the one back at depth
                        skip = min(run - k, level - depth - 1)
                        level -= skip
                        k += skip
                        continue
                    level -= 1
                    k += 1
                    if literal and literal[-1] == level:
                        literal.pop()
                        seg.add(i + k - 1, c)
                        continue
                    if level < 0:
                        return [tuple(d) for d in out]
                    if level == depth:
                        if current is not None:
                            out[current][2] = i + k
                            current = None
                        seg.clear()
            if level == depth and pos < e:
                seg.add(pos, code[pos:e])
        return [tuple(d) for d in out]


CPP_DEFS = Definitions(cpp_function)
JAVA_DEFS = Definitions(java_function)
JAVA_CLASS = Definitions(java_class)
JS_DEFS = Definitions(js_function, backticks=True)
GO_DEFS = Definitions(go_function, backticks=True, type_literals=True)
