"""Rust: how a program is assembled, where a completion ends, and how a whole-function sample is used.

The records differ from the other languages': ``prompt`` is only the doc comment, ``declaration`` holds
the ``use`` lines and the function header, and the tests are a ``#[cfg(test)] mod tests`` of ``#[test]``
functions. Upstream (codegeex/benchmark/utils.py) builds ``"\\nfn main(){ \\n } \\n" + declaration +
prompt + code + test`` and runs ``cargo test``; that text before the code is the generation prompt here
too (:func:`generation_prompt`, set as the problem's prompt when the data is loaded).

Assembly keeps that program and replaces libtest: the empty ``main`` goes, the test module is compiled
as plain code (its ``#[cfg(test)]`` taken off, each ``#[test]`` function made callable), and a generated
``main`` reads the sentinel from stdin first, then calls every test function in the module's order, each
on a thread of its own named as libtest names it, and prints the sentinel only after the last one
returned. A failed ``assert!``/``assert_eq!`` panics with "assertion failed" (``failed``); any other
panic exits with 101 without that text, an abort dies by a signal (``runtime_error``); an early
``process::exit(0)`` prints no sentinel (``failed``). Libtest's traps are gone with it: a test that
never runs, tests in any order on parallel threads.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Tuple

from .assembly import _drop
from .cleaning import used_helpers
from .errors import HarnessError

UPSTREAM_MAIN = "\nfn main(){ \n } \n"  # upstream's empty main, first in its programs and prompts
EDITION = "2021"  # upstream's Cargo.toml
FAILURE_MARKER = "panicked at 'assertion failed"  # rustc 1.63's panic hook: assert!, assert_eq!, assert_ne!


# one plain rustc per program (no cargo): the crates are prebuilt in the image (sandboxes/rust/); upstream's
# `cargo test` profile (no optimisation, so debug assertions and overflow checks on), edition 2021
COMPILE = ("rustc", "--edition", EDITION, "--crate-name", "main", "--error-format", "short", "-A", "warnings",
           "-L", "dependency=/opt/hx/rust/deps", "--extern", "rand=/opt/hx/rust/lib/librand.rlib",
           "--extern", "regex=/opt/hx/rust/lib/libregex.rlib", "--extern", "md5=/opt/hx/rust/lib/libmd5.rlib",
           "-o", "main", "main.rs")


# self-check's wrong completions of Rust/0 (the Language entry's wrong_programs)
WRONG_PROGRAMS = (
    ("wrong-answer", "    return false;\n}\n", "failed"),
    ("early-exit", "    std::process::exit(0);\n}\n", "failed"),
    ("crash", "    let v: Vec<f32> = vec![];\n    return v[numbers.len() + 1] < threshold;\n}\n", "runtime_error"),
    ("abort", "    std::process::abort();\n}\n", "runtime_error"),
    ("type-error", "    return numbers;\n}\n", "compile_error"),
    ("endless-loop", "    loop {}\n}\n", "timeout"),
    ("exit-in-thread", "    std::thread::spawn(|| std::process::exit(0)).join().unwrap();\n    true\n}\n", "failed"),
)


def fast_compile():
    return COMPILE[:-3] + ("-C", "link-arg=-fuse-ld=gold") + COMPILE[-3:]


class RustAssemblyError(HarnessError):
    pass


def generation_prompt(record: dict) -> str:
    """The text a Rust completion continues, as upstream assembles it: empty main, `use` lines and the
    function header (declaration), then the doc comment (the record's prompt) inside the function."""
    return UPSTREAM_MAIN + record["declaration"] + record["prompt"]


# ---------------------------------------------------------------- a lexer for Rust
def _skip_block_comment(text: str, i: int) -> int:
    depth, n = 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _skip_quoted(text: str, i: int) -> int:
    """Past the string opened by the `"` at i (escapes; strings may span lines)."""
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        else:
            i += 1
    return n


_RAW_START = re.compile(r"b?r(#*)\"")


def code_positions(text: str):
    """(index, char) of the characters outside comments (nested block comments too) and string, raw
    string, byte and char literals; a lifetime's `'` is code. Linear in the text."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and text.startswith("/*", i):
            i = _skip_block_comment(text, i)
            continue
        if c == '"':
            i = _skip_quoted(text, i)
            continue
        if c in "rb" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = _RAW_START.match(text, i)
            if m:
                end = text.find('"' + m.group(1), m.end())
                i = n if end < 0 else end + 1 + len(m.group(1))
                continue
            if c == "b" and text.startswith("b'", i):
                i += 1
                c = "'"
        if c == "'":
            if text.startswith("\\", i + 1):  # '\n', '\'', '\u{1F600}'
                j = text.find("'", i + 3)
                i = n if j < 0 else j + 1
                continue
            if i + 2 < n and text[i + 2] == "'" and text[i + 1] != "\n":  # 'a'
                i += 3
                continue
        yield i, c
        i += 1


def code_text(text: str) -> str:
    """The text without its comments and literals; each piece left out leaves a space (it separates
    tokens, as for the compiler: `x/**/y` is `x y`)."""
    out, last = [], -1
    for i, c in code_positions(text):
        out.append(c if i == last + 1 else " " + c)
        last = i
    return "".join(out)


def closing_index(text: str, depth_to_close: int = 1) -> Optional[int]:
    depth = 0
    for i, c in code_positions(text):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == -depth_to_close:
                return i
    return None


# ---------------------------------------------------------------- stop rule and clean-up
def stop(text: str) -> Optional[int]:
    """A completion continues the function's body: it ends where the body's `}` closes."""
    i = closing_index(text, 1)
    return None if i is None else i + 1


def clean(text: str, prompt: str = "") -> str:
    """Up to where the function ends, then the helpers it uses among the complete top-level functions
    written after it (the other languages' rule, humaneval_x/cleaning.py): no `fn main`, no test module,
    no other item or prose, no function left unfinished, none the prompt defines (``prompt``: a second
    definition is error E0428)."""
    cut = stop(text)
    if cut is None:
        j = text.rfind("}")
        return (text if j < 0 else text[:j + 1]) + "\n"
    kept, rest = text[:cut], text[cut:]
    defs = [(name, rest[s:e]) for kind, name, s, e in items(rest) if kind == "fn" and e is not None] \
        if rest.strip() else []
    if not defs:
        return kept + "\n"
    taken = {name for kind, name, _, _ in items(prompt) if kind == "fn"} if prompt else set()
    return kept + "".join("\n\n" + code.strip("\n") for _, code in used_helpers(kept, defs, code_text, taken)) + "\n"


# ---------------------------------------------------------------- top-level items
_FN_NAME = re.compile(r"\bfn\s+(r#)?([A-Za-z_]\w*)\s*[<(]")
_MOD_NAME = re.compile(r"\bmod\s+([A-Za-z_]\w*)\s*$")
_SEGMENT_KEEP = 4096
_QUALIFIERS = frozenset({"pub", "const", "async", "unsafe", "extern", "default"})


def _back_to(chars, j: int, close: str, open_: str) -> int:
    """Index of the `open_` that matches the `close` at ``j`` (scanning back), or -1."""
    depth = 0
    while j >= 0:
        c = chars[j][1]
        if c == close:
            depth += 1
        elif c == open_:
            depth -= 1
            if depth == 0:
                return j
        j -= 1
    return -1


def _item_start(chars, k: int) -> int:
    """Where the item whose keyword is at ``chars[k]`` begins: back over blanks, its qualifiers
    (`pub(crate)`, `const`, `async`, `unsafe`, `extern "C"`: the ABI string is not in ``chars``) and
    attributes (`#[...]`), and no further (what precedes is not the item's: prose, another statement).
    Each character is looked at once at most."""
    start, j = k, k - 1
    while True:
        while j >= 0 and chars[j][1].isspace():
            j -= 1
        if j < 0:
            return start
        c = chars[j][1]
        if c == "]":  # an attribute: `#[...]` or `#![...]`
            o = _back_to(chars, j, "]", "[")
            h = o - 1
            while h >= 0 and chars[h][1].isspace():
                h -= 1
            if h >= 0 and chars[h][1] == "!":
                h -= 1
                while h >= 0 and chars[h][1].isspace():
                    h -= 1
            if o < 0 or h < 0 or chars[h][1] != "#":
                return start
            start = j = h
        elif c == ")":  # `pub(crate)`, `pub(in path)`
            o = _back_to(chars, j, ")", "(")
            h = o - 1
            while h >= 0 and chars[h][1].isspace():
                h -= 1
            if o < 0 or h < 2 or "".join(ch for _, ch in chars[h - 2:h + 1]) != "pub" \
                    or (h > 2 and (chars[h - 3][1].isalnum() or chars[h - 3][1] == "_")):
                return start
            start = j = h - 2
        elif c.isalnum() or c == "_":
            w = j
            while w > 0 and (chars[w - 1][1].isalnum() or chars[w - 1][1] == "_"):
                w -= 1
            if "".join(ch for _, ch in chars[w:j + 1]) not in _QUALIFIERS:
                return start
            start = j = w
        else:
            return start
        j -= 1


def items(code: str) -> List[Tuple[str, str, int, Optional[int]]]:
    """[(kind "fn" | "mod", name, start, end)] of the brace-bodied functions and modules at the top level
    (start: where the item's text begins, its qualifiers and attributes included, not what came before
    them on the way; end None: still open). Scanning stops where the code closes more braces than it
    opened. Linear in the code's length."""
    out, level, seg, current = [], 0, [], None
    for i, c in code_positions(code):
        if c == "{":
            if level == 0:
                chars = seg[-_SEGMENT_KEEP:]
                head = "".join(ch for _, ch in chars)
                m = None
                for m in _FN_NAME.finditer(head):  # the last: the one whose body this `{` opens
                    pass
                m = m or _MOD_NAME.search(head)
                if m:
                    kind = "fn" if m.re is _FN_NAME else "mod"
                    start = chars[_item_start(chars, m.start())][0]
                    current = len(out)
                    out.append([kind, m.group(m.lastindex), start, None])
                seg = []
            level += 1
        elif c == "}":
            level -= 1
            if level < 0:
                break
            if level == 0:
                if current is not None:
                    out[current][3] = i + 1
                    current = None
                seg = []
        elif level == 0:
            if c == ";":
                seg = []
            else:
                seg.append((i, c))
                if len(seg) > 2 * _SEGMENT_KEEP:
                    del seg[:-_SEGMENT_KEEP]
    return [tuple(x) for x in out]


# ---------------------------------------------------------------- the test module
_CFG_TEST = re.compile(r"#\[cfg\(test\)\]\s*(?=mod\s+tests\b)")
_TEST_FN = re.compile(r"#\[test\]((?:\s|//[^\n]*\n)*)fn\s+(\w+)\s*\(\s*\)")


@lru_cache(maxsize=None)
def test_module(task_id: str, test: str) -> Tuple[str, Tuple[str, ...]]:
    """(the test module compiled as plain code, its test functions in order): `#[cfg(test)]` off the
    module, each `#[test] fn name()` made `pub(crate) fn name()` so that main can call it."""
    if not "".join(c for _, c in code_positions(test)).strip():
        return test, ()  # Rust/32 as shipped: the whole module in a comment, no test runs (as upstream)
    if not re.search(r"^\s*mod\s+tests\s*\{", test, re.M):
        raise RustAssemblyError(f"{task_id}: the test has no `mod tests {{` at the top level")
    body, n_cfg = _CFG_TEST.subn("", test)
    names = [m.group(2) for m in _TEST_FN.finditer(body)]
    if n_cfg != 1 or not names or len(names) != test.count("#[test]"):
        raise RustAssemblyError(f"{task_id}: the test is not one `#[cfg(test)] mod tests` of `#[test] fn name()`")
    body = _TEST_FN.sub(lambda m: m.group(1) + "pub(crate) fn " + m.group(2) + "()", body)
    return body, tuple(names)


def harness_main(names) -> str:
    """Reads the sentinel (the whole of stdin: it is then at its end for the program), runs each test
    on a thread named as libtest would (its 2 MiB stack too), exits 101 at the first that panicked,
    prints the sentinel after the last. Every name is a full path: the sample cannot shadow them."""
    tests = "".join(f'        ("tests::{n}", tests::{n}),\n' for n in names)
    return ("\nfn main() {\n"
            "    let mut hx_sentinel = ::std::string::String::new();\n"
            "    if ::std::io::Read::read_to_string(&mut ::std::io::stdin(), &mut hx_sentinel).is_err()\n"
            "        || hx_sentinel.trim().is_empty() {\n"
            "        ::std::process::exit(86);\n"
            "    }\n"
            "    let hx_tests: &[(&str, fn())] = &[\n" + tests + "    ];\n"
            "    for &(hx_name, hx_test) in hx_tests {\n"
            "        match ::std::thread::Builder::new().name(::std::string::String::from(hx_name)).spawn(hx_test) {\n"
            "            ::std::result::Result::Ok(hx_thread) => if hx_thread.join().is_err() { ::std::process::exit(101) },\n"
            "            ::std::result::Result::Err(_) => ::std::process::exit(87),\n"
            "        }\n"
            "    }\n"
            "    ::std::println!(\"\\n{}\", hx_sentinel.trim());\n"
            "}\n")


def assemble(problem, head: str, completion: str) -> str:
    """Upstream's program (its empty main taken out) + the harness's main."""
    test, names = test_module(problem.task_id, problem.test)
    if head.startswith(UPSTREAM_MAIN):
        head = head[len(UPSTREAM_MAIN):]
    return head + completion + "\n" + test + "\n" + harness_main(names)


# ---------------------------------------------------------------- whole-function samples
_USE_LINE = re.compile(r"^[ \t]*use\s[^;\n]*;[ \t]*\n?", re.M)


def whole(problem, code: str, forced: bool = False):
    """A sample that defines the prompt's function itself: the prompt's text before that function with
    its `use` lines moved into a module that is glob-imported (a sample's own `use` of the same name
    then shadows it instead of colliding), the helpers the sample redefines taken out, + the sample
    without its own `fn main` and `mod tests` (with their attributes)."""
    prompt = problem.prompt[len(UPSTREAM_MAIN):] if problem.prompt.startswith(UPSTREAM_MAIN) else problem.prompt
    found = items(prompt)
    if not found or found[-1][3] is not None or found[-1][0] != "fn":
        return None
    entry_start = found[-1][2]
    entry = found[-1][1]
    mine = items(code)
    names = {n for k, n, _, _ in mine if k == "fn"}
    if entry not in names and not forced:
        return None
    code = _drop(code, [(s, e) for k, n, s, e in mine if (k, n) in (("fn", "main"), ("mod", "tests"))])
    prefix = _drop(prompt[:entry_start], [(s, e) for k, n, s, e in found[:-1] if k == "fn" and n in names])
    uses = "".join("    pub " + m.group(0).strip() + "\n" for m in _USE_LINE.finditer(prefix))
    prefix = _USE_LINE.sub("", prefix)
    lead = ("mod hx_prompt_uses {\n    #![allow(unused_imports, deprecated)]\n" + uses + "}\n"
            "#[allow(unused_imports)]\nuse hx_prompt_uses::*;\n") if uses else ""
    return lead + prefix, code.strip("\n") + "\n"


# ---------------------------------------------------------------- batches
# Attributes a program may have and still share a crate with others (each a module of it). Any other
# attribute (`no_mangle`, `export_name`, `link_section`, `used`, `global_allocator`, `link`, ...) can
# place code or symbols where every member's process would meet them; an inner attribute (`#![...]`)
# means something else in a module than in a crate. Attribute names are identifier tokens in the
# text (no stable macro can paste one together), so reading the code outside comments and literals
# is enough.
BATCH_ATTRIBUTES = frozenset({"derive", "allow", "warn", "inline", "must_use", "doc", "test", "cfg", "repr",
                              "track_caller", "non_exhaustive", "rustfmt"})
# names that mean something else inside a module of a shared crate: `crate::` and `$crate` (the crate
# root), what the compiler says of where code is, `extern crate`
_BATCH_NAMES = re.compile(r"\bcrate\s*::|\$\s*crate|\bextern\s+crate\b|\btype_name\b|"
                          r"\b(?:module_path|file|line|column|include|include_str|include_bytes|env|option_env)\s*!")
_ATTRIBUTE = re.compile(r"#\s*(!?)\s*\[\s*(?:r#)?(\w+)")
_SUPER = re.compile(r"\bsuper\b")


def batch_info(program: str):
    """{"main": where the harness's main starts} when a Rust program may share a crate with others
    (as a module, its main called for its own process only), else None (it compiles alone)."""
    at = program.rfind("\nfn main() {\n")
    if at < 0 or len(program) > 256 * 1024:
        return None
    code = code_text(program)
    if _BATCH_NAMES.search(code) or len(_SUPER.findall(code)) != 1:  # the test's own `use super::*;`
        return None
    for m in _ATTRIBUTE.finditer(code):
        if m.group(1) or m.group(2) not in BATCH_ATTRIBUTES:
            return None
    return {"main": at}
