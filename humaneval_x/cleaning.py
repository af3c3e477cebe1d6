"""Stop rules (checked while tokens arrive) and clean-up of generated code, per language.

Stop rules return the index where the completion should be cut, or None while the
completion is still open. Clean-up turns a raw completion into what is assembled
into the test program. Brace counting ignores strings and comments (the original
harness counted raw characters, so `"}"` in a string ended a function early).
"""
from __future__ import annotations

import re
from functools import partial
from typing import Callable, Optional

from .clike import brace_depth, closing_index, strip_comments_and_strings

# ---------------------------------------------------------------- helpers defined after the function
# A completion may define a helper after the function that calls it (upstream's own Go/72 canonical
# solution does). Cutting where the function ends would turn such a program into a compile error, so the
# clean-up keeps, after the function, the complete top-level function definitions that the kept code
# uses (by name, transitively, in the order written), and nothing else: no main, no test code, no prose,
# no function it does not use (which could only add errors), no definition cut off unfinished, and none
# the prompt already defines (``prompt``: a second definition is an error in Go, C++ and JavaScript's
# `const`). Python, JavaScript and Go see a later top-level definition when the function runs. C++ does
# not (a function is declared before use): its helpers after the function are kept all the same, so the
# verdict is the program's own (the compiler's "not declared in this scope", never a cut one's). Java's
# rule already keeps methods after the method: it cuts where class Solution closes. Rust's clean-up
# (humaneval_x/rust.py) applies the same rule with its own lexer and item scanner.
NEVER_KEPT = {"main"}
_WORDS = re.compile(r"[A-Za-z_$][\w$]*")


def used_helpers(kept: str, defs, code_of: Callable[[str], str], taken=frozenset()) -> list:
    """The (name, code) of ``defs`` that ``kept`` uses, directly or through another kept one, in order;
    never one named in ``taken`` (what the prompt defines). ``code_of(text)``: the text without its
    comments and literals (the language's lexer), so a name in a string or comment uses nothing."""
    words = set(_WORDS.findall(code_of(kept)))
    uses = {}
    for name, code in defs:
        uses.setdefault(name, set()).update(_WORDS.findall(code_of(code)))
    needed, todo = set(), [w for w in words if w in uses]
    while todo:
        name = todo.pop()
        if name in needed or name in NEVER_KEPT or name in taken:
            continue
        needed.add(name)
        todo.extend(w for w in uses[name] if w in uses and w not in needed)
    return [(name, code) for name, code in defs if name in needed]


def _clike_helpers(definitions, kept: str, rest: str, backticks: bool, prompt: str) -> str:
    """``kept`` with the helpers it uses among the complete top-level definitions in ``rest``."""
    if not rest.strip():
        return kept
    defs = [(name, rest[start:end]) for name, start, end in definitions.find(rest) if end is not None]
    if not defs:
        return kept
    taken = {name for name, _, _ in definitions.find(prompt)} if prompt else set()
    code_of = partial(strip_comments_and_strings, backtick_strings=backticks)
    return kept + "".join("\n\n" + code.strip("\n") for _, code in used_helpers(kept, defs, code_of, taken))


_PY_DEF = re.compile(r"(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")


def _python_helpers(kept: str, rest: str, prompt: str) -> str:
    """``kept`` with the top-level `def`s (decorators included) in ``rest`` that it uses."""
    blocks = []  # each begins at a top-level line; a decorator's `def` stays in the decorator's block
    for line in rest.split("\n"):
        top = bool(line.strip()) and line[:1] not in (" ", "\t")
        if top and not (blocks and blocks[-1][-1].startswith("@")):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    found = []
    for block in blocks:
        head = next((line for line in block if not line.startswith("@")), "")
        m = _PY_DEF.match(head)
        body = [line for line in block[1:] if line.strip() and line[:1] in (" ", "\t")]
        if m and (body or not head.rstrip().endswith(":")):  # a def cut off before its body: not kept
            found.append((m.group(1), "\n".join(block).strip("\n")))
    if not found:
        return kept
    taken = {m.group(1) for m in re.finditer(r"^(?:async\s+)?def\s+([A-Za-z_]\w*)", prompt, re.M)}
    code_of = partial(strip_comments_and_strings, backtick_strings=False)
    return kept + "".join("\n\n" + code for _, code in used_helpers(kept, found, code_of, taken))


def clean_continuation(lang, code: str, prompt: str) -> str:
    """``lang.clean(code)``, given the prompt where the language's rule takes it (a rule may take the code alone)."""
    import inspect
    if "prompt" in inspect.signature(lang.clean).parameters:
        return lang.clean(code, prompt=prompt)
    return lang.clean(code)


# ---------------------------------------------------------------- Python
def python_stop(text: str) -> Optional[int]:
    """Index of the first non-empty line that is not indented (the function has ended)."""
    for m in re.finditer(r"\n(?=[^\s])", text):
        return m.start()
    return None


def python_clean(text: str, prompt: str = "") -> str:
    cut = python_stop(text)
    if cut is None:
        return text.rstrip() + "\n"
    return _python_helpers(text[:cut].rstrip(), text[cut:], prompt).rstrip() + "\n"


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


def _clike_clean(stop, text: str, definitions, backticks: bool, prompt: str) -> str:
    cut = stop(text)
    if cut is None:
        return _cut_after_last_brace(text) + "\n"
    return _clike_helpers(definitions, text[:cut], text[cut:], backticks, prompt) + "\n"


def cpp_clean(text: str, prompt: str = "") -> str:
    from .definitions import CPP_DEFS
    return _clike_clean(cpp_stop, text, CPP_DEFS, False, prompt)


def js_clean(text: str, prompt: str = "") -> str:
    from .definitions import JS_DEFS
    return _clike_clean(js_stop, text, JS_DEFS, True, prompt)


def go_clean(text: str, prompt: str = "") -> str:
    m = re.search(r"\nfunc\s+main\s*\(", text)
    if m:
        text = text[: m.start()]
    from .definitions import GO_DEFS
    return _clike_clean(go_stop, text, GO_DEFS, True, prompt)


def java_clean(text: str, prompt: str = "") -> str:
    m = re.search(r"(public\s+static\s+void\s+main\s*\(|(public\s+)?class\s+Main\b)", text)
    if m:
        text = text[: m.start()]
    cut = java_stop(text)
    if cut is not None:
        return text[:cut] + "\n"
    body = _cut_after_last_brace(text)
    # close what is still open: blocks of the method, the method, class Solution
    return body + "\n" + "}\n" * max(0, brace_depth(body, False) + 2)
