"""Host-side cost of hostile sample text: seconds to assemble pathological samples, per language.

Every generator makes one sample of about ``--size`` characters built to hurt a parser (long runs of
operator characters, deep nesting, huge headers, many definitions, comments and strings in odd places,
mixed line endings). Prints JSON: per case the size and the seconds ``make_job`` took (whose own budget
is a second per megabyte; tests/test_host_side.py asserts a looser one, for loaded CI machines).

    python benchmarks/bench_host_side.py [--size 1000000] [--out benchmarks/results/host-side.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from humaneval_x.dataset import load_problems
from humaneval_x.execute import make_job
from humaneval_x.samples import Sample

PROBLEMS = {"python": "Python/0", "cpp": "CPP/0", "java": "Java/10", "js": "JavaScript/0", "go": "Go/0"}


def _fill(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def cases(size: int):
    """(name, language, sample text) of the pathological samples."""
    common = {
        "operators": lambda: _fill("*&<>::,.?[]", size),
        "stars": lambda: "int " + "*" * size + "hx{nullptr};\n",
        "ampersands": lambda: _fill("a&", size) + "a {\n",
        "nesting": lambda: "{" * (size // 2) + "}" * (size // 2),
        "open_parens": lambda: _fill("f(", size) + "{ }\n",
        "many_functions": lambda: _fill("int f(int x) { return x; }\n", size),
        "huge_header": lambda: "int " + _fill("a ", size) + "f(int x) {\n}\n",
        "comments_strings": lambda: _fill('/* { */ "}" // {\n\'{\' `}` ', size),
        "mixed_line_endings": lambda: _fill("int f()\r{\r\n}\n\r", size),
        "unclosed_comment": lambda: "/*" + _fill("{ ( ", size),
        "fences": lambda: _fill("```\nx\n~~~\n", size),
        "think": lambda: _fill("<think>```\n", size),
    }
    per_language = {
        "go": {"struct_literals": lambda: _fill("var _ struct{}\n", size),
               "struct_one_line": lambda: _fill("struct{}", size),
               "imports": lambda: _fill("import (\n", size),
               "receivers": lambda: _fill("func (func (", size) + ") x() {\n}\n",
               "blank_lines": lambda: "\n" * size + "var"},
        "js": {"functions": lambda: _fill("function f(", size) + "{\n",
               "arrows": lambda: _fill("const f = (", size) + ") => {\n",
               "vars": lambda: _fill("var ", size) + "{\n"},
        "java": {"classes": lambda: _fill("public ", size) + "x class {\n",
                 "comment_class": lambda: "class /* the solution */ Solution {\n" + _fill("int f(int x) { return x; }\n", size) + "}\n",
                 "throws": lambda: "void f() throws " + _fill("a, ", size) + "{\n}\n"},
        "cpp": {"defines": lambda: _fill("#define abs(x) 0\n", size)},
        "python": {"defs": lambda: _fill("def f(x):\n    return x\n", size), "indent": lambda: _fill(" ", size) + "x"},
    }
    for lang in PROBLEMS:
        for name, make in {**common, **per_language.get(lang, {})}.items():
            yield name, lang, make()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    problems = load_problems(list(PROBLEMS))
    rows = []
    for name, lang, text in cases(args.size):
        t0 = time.perf_counter()
        job = make_job(Sample(PROBLEMS[lang], 0, text), problems[PROBLEMS[lang]])
        rows.append({"language": lang, "case": name, "chars": len(text), "seconds": round(time.perf_counter() - t0, 3),
                     "decided": (job.outcome or {}).get("status")})
    out = {"machine": platform.processor() or platform.machine(), "size": args.size, "cases": rows,
           "max_seconds": max(r["seconds"] for r in rows)}
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
