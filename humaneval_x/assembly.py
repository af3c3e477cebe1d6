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

from .clike import code_positions, strip_comments_and_strings
from .errors import HarnessError

class AssemblyError(HarnessError):
    """The test code of a record does not have the shape assembly relies on (a data bug)."""


# ---------------------------------------------------------------- Python
PYTHON_SENTINEL_READ = ("import os as _hx_os\n"
                        "_hx_done = (lambda s: lambda: _hx_os.write(1, b'\\n' + s + b'\\n'))(_hx_os.read(0, 256).strip())\n"
                        "_hx_os.dup2(_hx_os.open(_hx_os.devnull, _hx_os.O_RDONLY), 0)\n")
PYTHON_PREAMBLE = PYTHON_SENTINEL_READ + "".join(f"import {m}\n" for m in (
    "math", "re", "sys", "copy", "datetime", "itertools", "collections", "heapq", "statistics",
    "functools", "hashlib", "numpy", "numpy as np", "string")) + "from typing import *\nfrom collections import *\n"


def assemble_python(problem, head: str, completion: str) -> str:
    return PYTHON_PREAMBLE + head + completion + "\n\n" + problem.test + "\n\n_hx_done()\n"


# ---------------------------------------------------------------- C++
CPP_INCLUDES = ("stdlib.h", "algorithm", "math.h", "stdio.h", "vector", "string", "climits", "cstring", "iostream")


CPP_SENTINEL_READ = ("#include<stdio.h>\n"
                     "static char hx_sentinel_[96];\n"
                     "static const bool hx_sentinel_read_ = fgets(hx_sentinel_, sizeof hx_sentinel_, stdin) != NULL\n"
                     "    && freopen(\"/dev/null\", \"r\", stdin) != NULL;\n")


def assemble_cpp(problem, head: str, completion: str) -> str:
    missing = "".join(f"#include<{h}>\n" for h in CPP_INCLUDES
                      if not re.search(r"#include\s*<" + re.escape(h) + r">", head))
    test = problem.test.rstrip()
    if not test.endswith("}"):
        raise AssemblyError(f"{problem.task_id}: the test does not end with main's closing brace")
    # the test's main() is last; print the sentinel as its final statement
    test = test[:-1] + '    fflush(stdout);\n    fputs("\\n", stdout);\n    fputs(hx_sentinel_, stdout);\n    fflush(stdout);\n}\n'
    return missing + CPP_SENTINEL_READ + head + completion + "\n" + test


# ---------------------------------------------------------------- Java
JAVA_MAIN = re.compile(r"public\s+static\s+void\s+main\s*\(\s*String\s*(\[\])?\s*\w+\s*(\[\])?\s*\)")
JAVA_ENTRY_CLASS = "HxEntry"


def assemble_java(problem, head: str, completion: str) -> str:
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
    return head + completion + "\n" + test + entry



# ---------------------------------------------------------------- JavaScript
JS_ASSERT = ("const __hxAssert = (cond, ...msg) => {\n"
             "  if (!cond) { throw new Error('HX_ASSERTION_FAILED ' + msg.join(' ')) }\n"
             "}\n")


JS_SENTINEL_READ = ("const __hxDone = ((s) => () => process.stdout.write('\\n' + s + '\\n'))"
                    "(require('fs').readFileSync(0, 'utf8').trim());\n")


def assemble_js(problem, head: str, completion: str) -> str:
    # console.assert only prints in Node; the test's asserts throw instead
    test = problem.test.replace("console.assert(", "__hxAssert(")
    return JS_SENTINEL_READ + head + completion + "\n" + JS_ASSERT + test + "\n__hxDone()\n"


# ---------------------------------------------------------------- Go
GO_STD_PACKAGES = ("bytes", "crypto/md5", "encoding/hex", "errors", "fmt", "math", "math/big", "math/bits",
                   "math/rand", "os", "reflect", "regexp", "sort", "strconv", "strings", "time", "unicode",
                   "unicode/utf8", "container/heap", "container/list")
GO_IMPORT_BLOCK = re.compile(r"^\s*import\s*(\([^)]*\)|\"[^\"]*\")\s*\n?")
GO_IMPORT_PATH = re.compile(r"\"([^\"]+)\"")


def go_imports(block: str):
    m = GO_IMPORT_BLOCK.search(block) or re.search(r"import\s*(\([^)]*\)|\"[^\"]*\")", block)
    return GO_IMPORT_PATH.findall(m.group(1)) if m else []


def go_used_packages(code: str, candidates) -> list:
    """Standard packages the code really uses (names in comments or strings do not count)."""
    bare = strip_comments_and_strings(code)
    return [p for p in candidates if re.search(r"(?<![\w.])" + re.escape(p.rsplit("/", 1)[-1]) + r"\s*\.", bare)]


def assemble_go(problem, head: str, completion: str) -> str:
    setup = problem.extra["test_setup"]
    setup_imports = go_imports(setup)
    if "testing" not in setup_imports:
        raise AssemblyError(f"{problem.task_id}: test_setup does not import testing")
    body = GO_IMPORT_BLOCK.sub("", head, count=1) + completion
    candidates = [p for p in dict.fromkeys(go_imports(problem.extra.get("import", "")) + list(GO_STD_PACKAGES))
                  if p not in setup_imports]
    imports = setup_imports + go_used_packages(body, candidates)
    header = "package main\n\nimport (\n" + "".join(f'    "{p}"\n' for p in imports) + '    hxos "os"\n    "hxsentinel"\n)\n\n'
    testmain = ("\nfunc TestMain(m *testing.M) {\n"
                "    code := m.Run()\n"
                "    if code == 0 { hxsentinel.Print() }\n"
                "    hxos.Exit(code)\n}\n")
    return header + body + "\n" + problem.test + "\n" + testmain


GO_TOP_FUNC = re.compile(r"\bfunc\s+(\w+)\s*\(")


def go_batch_info(program: str):
    """{"test": name} when a Go program may share a test binary with others, else None.

    In a shared binary every linked package initialises in every run, and only the program's own
    test is selected; so only programs with no package-level ``var``, no ``init``, and exactly one
    test function (besides the harness's TestMain) qualify. The rest compile alone, as before.
    """
    if not program.startswith("package main\n"):
        return None
    depth, top = 0, []
    for _, c in code_positions(program):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0:
            top.append(c)
    top_text = "".join(top)
    if re.search(r"\bvar\b", top_text):
        return None
    funcs = GO_TOP_FUNC.findall(top_text)
    special = [f for f in funcs if re.match(r"(Test|Benchmark|Example|Fuzz)", f) and f != "TestMain"]
    if "init" in funcs or funcs.count("TestMain") != 1 or len(special) != 1 or not special[0].startswith("Test"):
        return None
    return {"test": special[0]}
