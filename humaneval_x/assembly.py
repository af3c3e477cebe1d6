"""Test-program assembly per language (the paper's harness, with its defects fixed).

Every program ends by printing a sentinel line after the last test ran; the runner passes a
program only if it exited with status 0 AND printed the sentinel, so an early ``exit(0)`` (or
``System.exit``, ``process.exit``, ``os.Exit``) cannot pass. The sentinel is in no file: the
runner draws it at random for each execution and hands it to the program on its stdin, which
the harness's code reads (and closes) before any of the program's own code runs, then prints
after the last test. (A program that digs it out of its own memory is the documented limit.)
``head`` is the text the completion continues: the prompt (generation) or the target
language's declaration (translation).
"""
from __future__ import annotations

import re
from functools import lru_cache

from .clike import code_positions, strip_comments_and_strings, top_level_text
from .definitions import CPP_DEFS, GO_DEFS, JAVA_CLASS, JAVA_DEFS, JS_DEFS, Definitions
from .errors import HarnessError

class AssemblyError(HarnessError):
    """The test code of a record does not have the shape assembly relies on (a data bug)."""


class SampleRejected(Exception):
    """A sample the harness does not assemble, by a documented rule (its own compile_error)."""


# ---------------------------------------------------------------- Python
# The done call prints the sentinel only when made by the module's own code at its last line (the
# line number is filled in by assembly), so a completion that calls it early and exits does not pass.
DONE_LINE = "_HX_DONE_LINE_"
PYTHON_SENTINEL_READ = ("import os as _hx_os, sys as _hx_sys\n"
                        "_hx_done = (lambda s, c: lambda: _hx_sys._getframe(1).f_code is c and "
                        "_hx_sys._getframe(1).f_lineno == " + DONE_LINE + " and "
                        "_hx_os.write(1, b'\\n' + s + b'\\n'))(_hx_os.read(0, 256).strip(), _hx_sys._getframe(0).f_code)\n"
                        "_hx_os.dup2(_hx_os.open(_hx_os.devnull, _hx_os.O_RDONLY), 0)\n")


def _fill_done_line(program: str) -> str:
    """Put the number of the program's last line (its done call) into the preamble's check."""
    return program.replace(DONE_LINE, str(program.count("\n")), 1)
PYTHON_PREAMBLE = PYTHON_SENTINEL_READ + "".join(f"import {m}\n" for m in (
    "math", "re", "sys", "copy", "datetime", "itertools", "collections", "heapq", "statistics",
    "functools", "hashlib", "numpy", "numpy as np", "string")) + "from typing import *\nfrom collections import *\n"


def assemble_python(problem, head: str, completion: str) -> str:
    return _fill_done_line(PYTHON_PREAMBLE + head + completion + "\n\n" + problem.test + "\n\n_hx_done()\n")


# ---------------------------------------------------------------- C++
CPP_INCLUDES = ("stdlib.h", "algorithm", "math.h", "stdio.h", "vector", "string", "climits", "cstring", "iostream")


# Declared after the completion: its code cannot name the buffer (a later `static` also rules out an
# `extern` declaration). If something read stdin first, the program ends at once, before main.
CPP_SENTINEL_READ = ("\nstatic char hx_sentinel_[96];\n"
                     "static const bool hx_sentinel_read_ = (fgets(hx_sentinel_, sizeof hx_sentinel_, stdin) != NULL\n"
                     "    || (_Exit(86), false)) && freopen(\"/dev/null\", \"r\", stdin) != NULL;\n")


CPP_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# C++ spells some operators as words; no macro can have these names
CPP_OPERATOR_NAMES = {"and", "and_eq", "bitand", "bitor", "compl", "not", "not_eq", "or", "or_eq", "xor", "xor_eq"}


# names no directive may undefine (or whose meaning a pop would not restore)
CPP_UNGUARDED = CPP_OPERATOR_NAMES | {
    "defined", "_Pragma", "__VA_ARGS__", "__VA_OPT__", "__has_include", "__has_include_next", "__has_attribute",
    "__has_cpp_attribute", "__has_builtin", "__FILE__", "__LINE__", "__DATE__", "__TIME__", "__TIMESTAMP__",
    "__COUNTER__", "__BASE_FILE__", "__FILE_NAME__", "__INCLUDE_LEVEL__", "__cplusplus"}
CPP_SPLICE = re.compile(r"\\[ \t]*\r?\n")
CPP_DIRECTIVE_NAME = re.compile(r"(?:#|%:)\s*(?:define|undef)\s+(\w+)")


@lru_cache(maxsize=None)
def cpp_test_names(test: str, prompt: str) -> frozenset:
    """The identifiers of ``test`` but the prompt's entry point (a sample may implement it as a macro)."""
    split = _prompt_split(prompt, CPP_DEFS)
    entry = {split[1]} if split else set()
    return frozenset(CPP_IDENTIFIER.findall(strip_comments_and_strings(test, False))) - entry


def cpp_guarded_names(problem, completion: str) -> list:
    """The names whose macros end with the sample: every identifier of the test and every name the sample
    defines or undefines (so that `#define abs(x) 0`, `#define issame(a, b) true` or `#define
    __assert_fail(...)` cannot stand in for what the test or its headers use). The sample's text is
    read as the preprocessor reads it: trigraphs for `\\` and `#`, line splices, then comments."""
    text = CPP_SPLICE.sub("", completion.replace("??/", "\\").replace("??=", "#"))
    if "push_macro" in text or "pop_macro" in text:
        raise SampleRejected("the sample uses push_macro/pop_macro, which the harness keeps for itself "
                             "(it restores the test's names after the sample)")
    mine = set(CPP_DIRECTIVE_NAME.findall(strip_comments_and_strings(text, False)))
    return sorted((cpp_test_names(problem.test, problem.prompt) | mine) - CPP_UNGUARDED)


# The first line of a C++ program built under the cpp-assertions protocol (dataset.VARIANT_PROTOCOL):
# the runner's compile gets the same -D (execute.MODE_LINES), so the precompiled header of that mode applies.
CPP_ASSERTIONS_LINE = "#define _GLIBCXX_ASSERTIONS 1\n"


def assemble_cpp(problem, head: str, completion: str) -> str:
    missing = "".join(f"#include<{h}>\n" for h in CPP_INCLUDES
                      if not re.search(r"#include\s*<" + re.escape(h) + r">", head))
    names = cpp_guarded_names(problem, completion)
    push = "".join(f'#pragma push_macro("{n}")\n' for n in names)
    pop = "".join(f'#undef {n}\n#pragma pop_macro("{n}")\n' for n in names)
    test = problem.test.rstrip()
    if not test.endswith("}"):
        raise AssemblyError(f"{problem.task_id}: the test does not end with main's closing brace")
    # the test's main() is last; print the sentinel as its final statement
    test = test[:-1] + '    fflush(stdout);\n    fputs("\\n", stdout);\n    fputs(hx_sentinel_, stdout);\n    fflush(stdout);\n}\n'
    head = head if head.endswith("\n") else head + "\n"
    mode = CPP_ASSERTIONS_LINE if "cpp-assertions" in getattr(problem, "protocol", ()) else ""
    return mode + missing + "#include<stdio.h>\n#include<stdlib.h>\n" + head + push + completion + "\n" + pop + CPP_SENTINEL_READ + test


# ---------------------------------------------------------------- Java
JAVA_MAIN = re.compile(r"public\s+static\s+void\s+main\s*\(\s*String\s*(\[\])?\s*\w+\s*(\[\])?\s*\)")
JAVA_ENTRY_CLASS = "HxEntry"


# Types of java.lang and java.util that tests name. A test's type is imported by name (single-type
# import): a sample's own top-level `class Arrays` or `class AssertionError` then collides with it
# (a compile error, as in a Java file that imports it) instead of standing in for it in the test,
# which an on-demand import (`java.util.*`, the implicit `java.lang.*`) would let it do.
JAVA_TEST_TYPES = {**{n: "java.lang" for n in (
    "AssertionError", "Boolean", "Character", "Double", "Float", "Integer", "Long", "Math", "Object",
    "String", "StringBuilder", "System", "Exception", "RuntimeException", "IllegalArgumentException")},
    **{n: "java.util" for n in (
        "ArrayList", "Arrays", "Collections", "HashMap", "HashSet", "LinkedList", "List", "Map", "Optional",
        "Objects", "Random", "Set", "TreeMap")}}


def assemble_java(problem, head: str, completion: str) -> str:
    used = set(re.findall(r"\b[A-Z]\w*", strip_comments_and_strings(problem.test, False)))
    imports = "".join(f"import {JAVA_TEST_TYPES[n]}.{n};\n" for n in sorted(used) if n in JAVA_TEST_TYPES)
    test, count = JAVA_MAIN.subn("public static void hxMain(String[] args)", problem.test, count=1)
    if count != 1:
        raise AssemblyError(f"{problem.task_id}: no `public static void main(String[] args)` in the test")
    entry = (f"\nclass {JAVA_ENTRY_CLASS} {{\n"
             "    public static void main(String[] args) throws Throwable {\n"
             "        String s = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();\n"
             "        System.setIn(new java.io.ByteArrayInputStream(new byte[0]));\n"
             "        Main.hxMain(args);\n"
             '        System.out.println("\\n" + s);\n'
             "        System.out.flush();\n"
             "    }\n}\n")
    return imports + head + completion + "\n" + test + entry



# ---------------------------------------------------------------- JavaScript
JS_ASSERT = ("const __hxAssert = (cond, ...msg) => {\n"
             "  if (!cond) { throw new Error('HX_ASSERTION_FAILED ' + msg.join(' ')) }\n"
             "}\n")


# The done call prints the sentinel only when made by the module's top-level code at its last line
# (frame 2 of the stack; frame 3 Node's module loader). Everything the check uses is captured before
# the completion runs and Error.prepareStackTrace is frozen, so patching builtins cannot forge it.
JS_SENTINEL_READ = ("const __hxDone = ((s, apply, test, split, write, E, out) => {\n"
                    "  Object.defineProperty(E, 'prepareStackTrace', {value: undefined, writable: false, configurable: false});\n"
                    "  const here = /^\\s+at Object\\.<anonymous> \\(\\/tmp\\/work\\/main\\.js:" + DONE_LINE + ":\\d+\\)$/, "
                    "loader = /^\\s+at Module\\._compile \\(node:internal/;\n"
                    "  return () => { const f = apply(split, String(new E().stack), ['\\n']);\n"
                    "    if (f.length > 3 && apply(test, here, [f[2]]) && apply(test, loader, [f[3]])) apply(write, out, ['\\n' + s + '\\n']); };\n"
                    "})(require('fs').readFileSync(0, 'utf8').trim(), Reflect.apply, RegExp.prototype.test, "
                    "String.prototype.split, process.stdout.write, Error, process.stdout);\n")


def assemble_js(problem, head: str, completion: str) -> str:
    # console.assert only prints in Node; the test's asserts throw instead
    test = problem.test.replace("console.assert(", "__hxAssert(")
    return _fill_done_line(JS_SENTINEL_READ + head + completion + "\n" + JS_ASSERT + test + "\n__hxDone()\n")


# ---------------------------------------------------------------- Go
# Standard packages a program may use without importing them itself (the prompt's import block is
# dropped, as in the paper's harness), each with one exported member for the keep-alive reference.
GO_STD_PACKAGES = {"bytes": "Contains", "crypto/md5": "Sum", "encoding/hex": "EncodeToString", "errors": "New",
                   "fmt": "Sprint", "math": "Abs", "math/big": "NewInt", "math/bits": "OnesCount",
                   "math/cmplx": "Abs", "math/rand": "Intn", "os": "Exit", "reflect": "DeepEqual",
                   "regexp": "MustCompile", "sort": "Ints", "strconv": "Itoa", "strings": "Split", "time": "Now",
                   "unicode": "IsLetter", "unicode/utf8": "RuneLen", "container/heap": "Init",
                   "container/list": "New", "github.com/stretchr/testify/assert": "New"}
GO_IMPORT_BLOCK = re.compile(r"^\s*import\s*(\([^)]*\)|\"[^\"]*\")\s*\n?")
GO_IMPORT_PATH = re.compile(r"\"([^\"]+)\"")
# top-level package clauses and import declarations anywhere in a text (a whole-file sample has them)
# (an import block holds no parenthesis: `[^()]*` stops every try at the next one, so that a sample of
# many `import (` lines is read once, not once per line)
GO_TOP_IMPORTS = re.compile(r"^[ \t]*(?:package[ \t]+\w+[ \t]*|import[ \t]*(\([^()]*\)|[\w.]*[ \t]*\"[^\"\n]*\"))[ \t]*(?:;[ \t]*)?(?:\n|$)",
                            re.M)
# (possessive alias and a start only at a word's start: a long word in an import block was quadratic)
GO_IMPORT_SPEC = re.compile(r"(?<![\w.])(?:([\w.]++)[ \t]+)?\"([^\"]+)\"")
GO_SELECTOR = re.compile(r"(?<![\w.])(\w+)\s*\.")
# Go's predeclared identifiers: legal to redeclare at package level, where a sample's `var false =
# true` would stand in for what its test compares with; a sample may not redeclare one its test uses
GO_PREDECLARED = frozenset((
    "true false nil iota bool byte rune string error any comparable int int8 int16 int32 int64 uint uint8 "
    "uint16 uint32 uint64 uintptr float32 float64 complex64 complex128 append cap clear close complex copy "
    "delete imag len make max min new panic print println real recover").split())
GO_DECL = re.compile(r"\b(?:(var|const|type)\b\s*(\(?)|func\s+(\w+))")
GO_SPEC_NAMES = re.compile(r"\s*(\w+(?:\s*,\s*\w+)*)")
GO_TOP_NAME = re.compile(r"^[ \t]*(?:func|type|var|const)\s+(\w+)", re.M)  # `^\s*`: quadratic on blank lines


def go_imports(block: str):
    m = GO_IMPORT_BLOCK.search(block) or re.search(r"import\s*(\([^)]*\)|\"[^\"]*\")", block)
    return GO_IMPORT_PATH.findall(m.group(1)) if m else []


def go_package_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def go_used_packages(code: str, candidates) -> list:
    """Standard packages the code really uses (names in comments or strings do not count)."""
    found = set(GO_SELECTOR.findall(strip_comments_and_strings(code)))  # every `name.` once
    return [p for p in candidates if go_package_name(p) in found]


def go_top_declared(top: str) -> set:
    """Names a Go file's top-level text (``top_level_text``) declares: `var|const|type` specs, alone or
    grouped (`var ( a, b = 1, 2 )`), and functions (methods declare none at package level)."""
    names, pos = set(), 0
    while True:
        m = GO_DECL.search(top, pos)
        if m is None:
            return names
        pos = m.end()
        if m.group(3):
            names.add(m.group(3))
            continue
        if not m.group(2):  # one spec: up to the line's end
            end = top.find("\n", pos)
            specs = [top[pos:len(top) if end < 0 else end]]
        else:  # a group: to its closing parenthesis
            depth, i = 1, pos
            while i < len(top) and depth:
                depth += {"(": 1, ")": -1}.get(top[i], 0)
                i += 1
            specs = re.split(r"[\n;]", top[pos:i - 1 if depth == 0 else i])
            pos = i
        for spec in specs:
            sm = GO_SPEC_NAMES.match(spec)
            if sm:
                names.update(n.strip() for n in sm.group(1).split(","))


def go_hoist_imports(code: str):
    """(code without its package clauses and import declarations, [(alias or None, path)] they imported)."""
    specs = []
    for m in GO_TOP_IMPORTS.finditer(code):
        if m.group(1):
            specs += [(a or None, path) for a, path in GO_IMPORT_SPEC.findall(m.group(1))]
    return GO_TOP_IMPORTS.sub("", code), specs


def assemble_go(problem, head: str, completion: str) -> str:
    """test_setup's imports + every package the assembled program names (prompt, completion AND test),
    each kept alive by a reference in TestMain: no `undefined: math` when only the test uses a package,
    no `imported and not used` when only the setup or a false match names one."""
    setup = problem.extra["test_setup"]
    setup_imports = go_imports(setup)
    if "testing" not in setup_imports:
        raise AssemblyError(f"{problem.task_id}: test_setup does not import testing")
    body, own = go_hoist_imports(GO_IMPORT_BLOCK.sub("", head, count=1) + completion)
    test = problem.test
    declared = set(GO_TOP_NAME.findall(top_level_text(body + "\n" + test)))
    shadowed = sorted(go_top_declared(top_level_text(body)) & GO_PREDECLARED
                      & set(re.findall(r"\w+", strip_comments_and_strings(test))))
    if shadowed:
        raise SampleRejected(f"the sample redeclares {', '.join(shadowed)} at package level, which its test uses "
                             "as Go's own (predeclared identifiers are not the sample's to replace)")
    aliased = [(a, p) for a, p in own if a and a != go_package_name(p)]
    known = [p for p in dict.fromkeys(go_imports(problem.extra.get("import", "")) + [p for a, p in own if not a]
                                      + list(GO_STD_PACKAGES)) if p not in setup_imports]
    # What the test uses is imported whatever the sample declares: a sample's own `var math` then
    # collides with it (a compile error, as in any Go file) instead of standing in for it in the test.
    # A package only the sample names is left out when the sample declares that name itself.
    needed = set(go_used_packages(test, known))
    selectors = set(GO_SELECTOR.findall(strip_comments_and_strings(body)))  # every `name.` of the body, once
    used = [p for p in known if p in needed or (go_package_name(p) in selectors and go_package_name(p) not in declared)]
    specs = [(None, p) for p in setup_imports + used]
    specs += [(a, p) for a, p in dict.fromkeys(aliased)
              if a == "_" or (a != "." and a not in declared and a in selectors)]
    header = ("package main\n\nimport (\n" + "".join(f'    {a + " " if a else ""}"{p}"\n' for a, p in specs)
              + '    hxos "os"\n    "hxsentinel"\n)\n\n')
    keep = "".join(f"    _ = {a or go_package_name(p)}.{GO_STD_PACKAGES[p]}\n" for a, p in specs
                   if p in GO_STD_PACKAGES and a != "_")
    testmain = ("\nfunc TestMain(m *testing.M) {\n" + keep +
                "    code := m.Run()\n"
                "    if code == 0 { hxsentinel.Print() }\n"
                "    hxos.Exit(code)\n}\n")
    return header + body + "\n" + test + "\n" + testmain


GO_TOP_FUNC = re.compile(r"\bfunc\s+(\w+)\s*\(")
# compiler directives (comments to the text scanner) and packages that reach past the language's rules
GO_UNBATCHABLE = re.compile(r"go:linkname|\"unsafe\"")  # cgo is off in the sandboxes


def go_batch_info(program: str):
    """{"test": name} when a Go program may share a test binary with others, else None.

    In a shared binary every linked package initialises in every run, and only the program's own
    test is selected; so only programs with no package-level ``var``, no ``init``, no ``go:linkname``
    or ``unsafe``, and exactly one test function (besides the harness's TestMain) qualify. The rest
    compile alone, as before. The runner checks the linked binary too (no member may have init code).
    """
    if not program.startswith("package main\n") or GO_UNBATCHABLE.search(program):
        return None
    top_text = top_level_text(program)
    if re.search(r"\b(?:var|init)\b", top_text):  # any `init` at all, not only `func init(`: the safe side
        return None
    funcs = GO_TOP_FUNC.findall(top_text)
    special = [f for f in funcs if re.match(r"(Test|Benchmark|Example|Fuzz)", f) and f != "TestMain"]
    if "init" in funcs or funcs.count("TestMain") != 1 or len(special) != 1 or not special[0].startswith("Test"):
        return None
    return {"test": special[0]}


# ---------------------------------------------------------------- samples from other tools
# A chat model or an evalplus-style file gives the whole function (often in a Markdown fence)
# instead of the continuation of the prompt. Such a sample becomes the program: the prompt's text
# before the function it defines (imports, includes, helpers) + the sample, where a helper the sample
# defines itself replaces the prompt's, and what the test brings (main, class Main) is dropped.


def unfence(text: str, defines=None):
    """(code, fenced): the code of an answer, by the rules of humaneval_x/extract.py (reasoning removed,
    the last block that ``defines`` the entry point, ``` or ~~~), or the answer itself when it has no
    block. A bare fence after code is a closing fence of a continuation (chat mode), not a block."""
    from .extract import answer_code
    code, fenced, _ = answer_code(text, defines)
    return code, fenced


def _drop(text: str, spans) -> str:
    """``text`` without the lines of the (start, end) spans: from the line where each starts to the end
    of the line where it ends (end None: nothing dropped). One pass, whatever the number of spans."""
    out, kept = [], 0  # kept: where the text not yet copied begins (always a line start or a span's end)
    for start, end in sorted(s for s in spans if s[1] is not None):
        if end <= kept:
            continue
        nl = text.rfind("\n", kept, start)
        line = kept if nl < 0 else nl + 1
        out.append(text[kept:line])
        nl = text.find("\n", end)
        kept = len(text) if nl < 0 else nl + 1
    out.append(text[kept:])
    return "".join(out)


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


@lru_cache(maxsize=4096)  # one answer may hold thousands of blocks, each checked against the same prompt
def _prompt_split(prompt: str, defs: Definitions, depth: int = 0):
    """(text before the function the prompt ends with, its name, the prompt's complete definitions)."""
    found = defs.find(prompt, depth)
    if not found or found[-1][2] is not None:
        return None
    name, start, _ = found[-1]
    return prompt[:_line_start(prompt, start)], name, found[:-1]


def _whole_clike(defs: Definitions, drop=("main",), depth: int = 0):
    """C++/JavaScript/Go: prefix (helpers the sample redefines taken out) + the sample (its main taken out)."""
    def whole(problem, code: str, forced: bool = False):
        split = _prompt_split(problem.prompt, defs, depth)
        if split is None:
            return None
        prefix, entry, helpers = split
        if entry not in code and not forced:  # a text that never names the function cannot define it
            return None
        mine = defs.find(code)
        names = {n for n, _, _ in mine}
        if entry not in names and not forced:
            return None
        code = _drop(code, [(s, e) for n, s, e in mine if n in drop])
        prefix = _drop(prefix, [(s, e) for n, s, e in helpers if n in names])
        return prefix, code.strip("\n") + "\n"
    return whole


whole_cpp = _whole_clike(CPP_DEFS)
whole_js = _whole_clike(JS_DEFS, drop=())
whole_go = _whole_clike(GO_DEFS)

PY_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.M)
PY_MAIN = re.compile(r"^if[ \t]+__name__[ \t]*==.*", re.M | re.S)


def whole_python(problem, code: str, forced: bool = False):
    """The prompt's text before its last `def` (imports, helpers) + the sample. Python lets the sample
    redefine a helper (the later definition wins); an `if __name__ == ...` block is dropped."""
    defs = list(PY_DEF.finditer(problem.prompt))
    if not defs:
        return None
    entry = defs[-1]
    if entry.group(1) not in code and not forced:  # a text that never names the function cannot define it
        return None
    first = next((line for line in code.splitlines() if line.strip()), "")
    mine = {m.group(1) for m in PY_DEF.finditer(code)}
    if not forced and (entry.group(1) not in mine or first[:1] in (" ", "\t")):
        return None
    return problem.prompt[:entry.start()], PY_MAIN.sub("", code).rstrip() + "\n"


JAVA_CLASS_MODIFIERS = re.compile(r"^\s*(?:(?:public|final)\s+)*")
JAVA_IMPORT = re.compile(r"^[ \t]*(?:import|package)\s[^;\n]*;[ \t]*\n?", re.M)


def whole_java(problem, code: str, forced: bool = False):
    """A whole `class Solution` (with its imports): the prompt's imports + the sample's + the class,
    with the prompt's helper methods it lacks put in, without the sample's own `class Main`. Only
    methods: the prompt up to its last method (helpers the sample redefines taken out) + the methods."""
    split = _prompt_split(problem.prompt, JAVA_DEFS, depth=1)
    if split is None:
        return None
    prefix, entry, helpers = split
    if entry not in code and not forced:  # a text that never names the method cannot define it
        return None
    own_imports = "".join(m.group(0) for m in JAVA_IMPORT.finditer(code) if m.group(0).lstrip().startswith("import"))
    body = JAVA_IMPORT.sub("", code)
    classes = JAVA_CLASS.find(body)
    solution = next(((s, e) for n, s, e in classes if n == "Solution" and e), None)
    if solution:
        start, end = solution
        methods = {n for n, _, _ in JAVA_DEFS.find(body[start:end], depth=1)}
        if entry not in methods and not forced:
            return None
        # its header without `public` or `final` (class Main is the file's public class) and without
        # comments, the prompt's helpers it lacks right after its `{`; then its own `class Main` dropped
        brace = start + next(i for i, c in code_positions(body[start:end], False) if c == "{")
        header = " ".join(JAVA_CLASS_MODIFIERS.sub("", strip_comments_and_strings(body[start:brace], False)).split()) + " "
        missing = "".join(problem.prompt[_line_start(problem.prompt, s):e] + "\n"
                          for n, s, e in helpers if n not in methods)
        body = body[:start] + header + "{" + ("\n" + missing if missing else "") + body[brace + 1:]
        body = _drop(body, [(s, e) for n, s, e in JAVA_CLASS.find(body) if n == "Main"])
        head = problem.prompt[:problem.prompt.find("class Solution")] if "class Solution" in problem.prompt else ""
        return head, own_imports + body.strip("\n") + "\n"
    mine = JAVA_DEFS.find(body)
    names = {n for n, _, _ in mine}
    if entry not in names and not forced:
        return None
    prefix = _drop(prefix, [(s, e) for n, s, e in helpers if n in names])
    return own_imports + prefix, body.strip("\n") + "\n}\n"


def prepare_sample(lang, problem, text: str, clean: bool = True, whole: bool = False):
    """(form, head, code) for ``lang.assemble``: a Markdown block is unwrapped; a sample that defines the
    prompt's function itself (or any ``whole`` one, e.g. evalplus's `solution`) is the whole program;
    anything else continues the prompt, cleaned with the language's rule unless ``clean`` is False.
    form: "completion", "fenced", "whole_function" or "fenced_whole_function"."""
    code, fenced = unfence(text, (lambda block: lang.whole(problem, block) is not None) if lang.whole else None)
    parts = lang.whole(problem, code, whole) if lang.whole else None
    if parts is not None:
        return ("fenced_" if fenced else "") + "whole_function", parts[0], parts[1]
    from .cleaning import clean_continuation  # with the prompt: a helper kept after the function defines no name twice
    return ("fenced" if fenced else "completion"), problem.prompt, (clean_continuation(lang, code, problem.prompt)
                                                                    if clean else code)
