"""Test-program assembly per language (the paper's harness, with its defects fixed).

Every program ends by printing a sentinel line after the last test ran; the runner
passes a program only if it exited with status 0 AND printed the sentinel, so an
early ``exit(0)`` (or ``System.exit``, ``process.exit``, ``os.Exit``) cannot pass.
``head`` is the text the completion continues: the prompt (generation) or the
target language's declaration (translation).
"""
from __future__ import annotations

import hashlib
import re

from .clike import code_positions, strip_comments_and_strings
from .errors import HarnessError

SENTINEL_PREFIX = "HUMANEVAL_X_SUITE_COMPLETE_"


def sentinel_for(task_id: str, completion: str) -> str:
    """A marker the model cannot know in advance: it depends on its own completion."""
    digest = hashlib.sha256(f"{task_id}\0{completion}".encode()).hexdigest()[:16]
    return SENTINEL_PREFIX + digest


class AssemblyError(HarnessError):
    """The test code of a record does not have the shape assembly relies on (a data bug)."""


# ---------------------------------------------------------------- Python
PYTHON_PREAMBLE = "".join(f"import {m}\n" for m in (
    "math", "re", "sys", "copy", "datetime", "itertools", "collections", "heapq", "statistics",
    "functools", "hashlib", "numpy", "numpy as np", "string")) + "from typing import *\nfrom collections import *\n"


def assemble_python(problem, head: str, completion: str, sentinel: str) -> str:
    return (PYTHON_PREAMBLE + head + completion + "\n\n" + problem.test + "\n\n"
            f"import os as _hx_os\n_hx_os.write(1, b'\\n{sentinel}\\n')\n")


# ---------------------------------------------------------------- C++
CPP_INCLUDES = ("stdlib.h", "algorithm", "math.h", "stdio.h", "vector", "string", "climits", "cstring", "iostream")


def assemble_cpp(problem, head: str, completion: str, sentinel: str) -> str:
    missing = "".join(f"#include<{h}>\n" for h in CPP_INCLUDES
                      if not re.search(r"#include\s*<" + re.escape(h) + r">", head))
    test = problem.test.rstrip()
    if not test.endswith("}"):
        raise AssemblyError(f"{problem.task_id}: the test does not end with main's closing brace")
    # the test's main() is last; print the sentinel as its final statement
    test = test[:-1] + f'    fflush(stdout);\n    puts("\\n{sentinel}");\n    fflush(stdout);\n}}\n'
    return missing + head + completion + "\n" + test


# ---------------------------------------------------------------- Java
JAVA_MAIN = re.compile(r"public\s+static\s+void\s+main\s*\(\s*String\s*(\[\])?\s*\w+\s*(\[\])?\s*\)")
JAVA_ENTRY_CLASS = "HxEntry"


def assemble_java(problem, head: str, completion: str, sentinel: str) -> str:
    test, count = JAVA_MAIN.subn("public static void hxMain(String[] args)", problem.test, count=1)
    if count != 1:
        raise AssemblyError(f"{problem.task_id}: no `public static void main(String[] args)` in the test")
    entry = (f"\nclass {JAVA_ENTRY_CLASS} {{\n"
             "    public static void main(String[] args) throws Throwable {\n"
             "        Main.hxMain(args);\n"
             f'        System.out.println("\\n{sentinel}");\n'
             "        System.out.flush();\n"
             "    }\n}\n")
    return head + completion + "\n" + test + entry


# What a Java program may use only in a JVM of its own: process-wide state (System.exit, the
# standard streams and properties, the runtime, threads and thread pools, class loaders and
# reflection, default locale or time zone), files (the working directory differs), native code.
# A program that names none of them runs the same in a fresh class loader of a long-lived JVM
# (sandboxes/java/HxRun.java) as with `java -cp . HxEntry`.
JAVA_JVM_ONLY = re.compile(
    r"\bSystem\s*\.\s*(?!out\b|err\b|arraycopy\b|currentTimeMillis\b|nanoTime\b|lineSeparator\b)\w+"
    r"|\b(Runtime|Thread\w*|\w*Executor\w*|ForkJoin\w*|CompletableFuture|Timer|TimerTask|\w*Lock|"
    r"ProcessBuilder|Process|ProcessHandle|ClassLoader|\w*ClassLoader|forName|getDeclared\w*|setAccessible|"
    r"reflect|invoke|MethodHandles?|Unsafe|ServiceLoader|SecurityManager|finalize|Cleaner|"
    r"parallel|parallelStream|concurrent|setDefault|File\w*|Files|Paths?|RandomAccessFile|Scanner|"
    r"Console|native|synchronized|volatile|wait|notify|notifyAll|HxEntry|HxRun)\b")


def java_vm_eligible(program: str) -> bool:
    """True when the program, outside comments and strings, names nothing in JAVA_JVM_ONLY
    (the harness's own entry class aside). Conservative: the others just run alone."""
    body = program.rsplit(f"\nclass {JAVA_ENTRY_CLASS} {{\n", 1)[0]
    return not JAVA_JVM_ONLY.search(strip_comments_and_strings(body, backtick_strings=False))


# ---------------------------------------------------------------- JavaScript
JS_ASSERT = ("const __hxAssert = (cond, ...msg) => {\n"
             "  if (!cond) { throw new Error('HX_ASSERTION_FAILED ' + msg.join(' ')) }\n"
             "}\n")


JS_SENTINEL_LINE = "\nprocess.stdout.write('\\n{sentinel}\\n')\n"


def assemble_js(problem, head: str, completion: str, sentinel: str) -> str:
    # console.assert only prints in Node; the test's asserts throw instead
    test = problem.test.replace("console.assert(", "__hxAssert(")
    return head + completion + "\n" + JS_ASSERT + test + JS_SENTINEL_LINE.format(sentinel=sentinel)


# Names a program may use only in a real Node process: Node's globals and module wrapper, the
# asynchronous parts of the language (their jobs run after the script, in Node's event loop), code
# generation (eval, Function: such code could name anything), and console methods other than the
# printing ones. A program that names none of them runs the same in a fresh V8 context of a
# long-lived Node (runners/js_vm.js) as in `node main.js`.
JS_NODE_ONLY = re.compile(
    r"\b(process|global|globalThis|Buffer|require|module|exports|__filename|__dirname|"
    r"setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate|queueMicrotask|"
    r"structuredClone|URL|URLSearchParams|DOMException|BroadcastChannel|AbortController|AbortSignal|Event|"
    r"EventTarget|MessageChannel|MessagePort|MessageEvent|atob|btoa|Blob|Performance|performance|TextEncoder|"
    r"TextDecoder|\w*Stream\w*|ByteLengthQueuingStrategy|CountQueuingStrategy|fetch|FormData|Headers|Request|"
    r"Response|crypto|Promise|async|await|import|eval|Function|WebAssembly|Atomics|SharedArrayBuffer|"
    r"WeakRef|FinalizationRegistry)\b"
    r"|\bconsole\b(?!\s*\.\s*(log|error|warn|info|debug)\s*\()")
# the same names that are not English words: also looked for inside strings and comments, in case
# the small lexer took a regular expression literal for the start of a string
JS_NODE_ONLY_ANYWHERE = re.compile(
    r"\b(process|globalThis|Buffer|require|__filename|__dirname|setTimeout|setInterval|setImmediate|"
    r"queueMicrotask|structuredClone|Promise|async|await|eval|Function|WebAssembly|Atomics|"
    r"SharedArrayBuffer|WeakRef|FinalizationRegistry)\b")


def js_vm_eligible(program: str) -> bool:
    """True when the program (the harness's sentinel line aside) names nothing in JS_NODE_ONLY
    outside comments and strings (template literals count as code), nor, anywhere, anything in
    JS_NODE_ONLY_ANYWHERE. Conservative: a program that is not eligible just runs alone."""
    body, line, _ = program.rpartition("\nprocess.stdout.write('\\n")
    if not line or JS_NODE_ONLY_ANYWHERE.search(body):
        return False
    return not JS_NODE_ONLY.search(strip_comments_and_strings(body, backtick_strings=False))


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


def assemble_go(problem, head: str, completion: str, sentinel: str) -> str:
    setup = problem.extra["test_setup"]
    setup_imports = go_imports(setup)
    if "testing" not in setup_imports:
        raise AssemblyError(f"{problem.task_id}: test_setup does not import testing")
    body = GO_IMPORT_BLOCK.sub("", head, count=1) + completion
    candidates = [p for p in dict.fromkeys(go_imports(problem.extra.get("import", "")) + list(GO_STD_PACKAGES))
                  if p not in setup_imports]
    imports = setup_imports + go_used_packages(body, candidates)
    header = "package main\n\nimport (\n" + "".join(f'    "{p}"\n' for p in imports) + '    hxos "os"\n)\n\n'
    testmain = ("\nfunc TestMain(m *testing.M) {\n"
                "    code := m.Run()\n"
                f'    if code == 0 {{ hxos.Stdout.WriteString("\\n{sentinel}\\n") }}\n'
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
