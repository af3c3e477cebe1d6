#!/usr/bin/env python3
"""A realistic n=200 sample mix for every problem of every language, reproducible from a seed.

Shaped like a mid-sized model's samples at T=0.8 (what the execution stage really sees), built from
the real problems' canonical solutions:

- a per-problem pass rate drawn from Beta(0.7, 1.0) (mean ~0.41: a few problems almost always
  solved, many rarely);
- correct samples: 1-4 distinct correct variants (the canonical solution, and copies differing only
  in a comment line), drawn Zipf-like, so most correct samples are exact duplicates;
- wrong samples: an operator flipped or a constant changed at a random place; 40% repeat one of
  two common wrong variants of the problem, the rest are distinct texts;
- compile/syntax errors (~7%): truncated bodies, an undefined name, an unclosed parenthesis;
- crashes (~5%): an exception/panic/null dereference before the body;
- never finishing (~1%, binomial per problem): a CPU-bound endless loop before the body, each a
  distinct text (a real model's endless loops are as distinct as its other wrong answers).

Each record: {"task_id", "sample_index", "generation", "kind"}; the generation is a completion of
the problem's prompt, as a model writes it (already clean).

    HUMANEVAL_X_DATA=../shared/humaneval-x python benchmarks/make_mix.py --out /tmp/mix.jsonl.gz [--n 200] [--seed 0]
"""
import argparse
import gzip
import io
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RATES = {"compile_error": 0.07, "crash": 0.05, "endless": 0.01}
FLIPS = [(" < ", " <= "), (" <= ", " < "), (" > ", " >= "), (" >= ", " > "), (" == ", " != "), (" != ", " == "),
         (" + ", " - "), (" - ", " + "), (" * ", " + "), ("+ 1", "+ 2"), ("- 1", "- 2")]
COMMENT = {"python": "#", "cpp": "//", "java": "//", "js": "//", "go": "//"}


def indent_of(code: str, lang: str) -> str:
    for line in code.splitlines():
        if line.strip():
            return re.match(r"\s*", line).group(0) or ("    " if lang == "python" else "  ")
    return "    "


def prefixed(code: str, lang: str, stmt: str) -> str:
    """``stmt`` (one line, no indentation) as the first statement of the body."""
    return indent_of(code, lang) + stmt + "\n" + code


def tagged(code: str, lang: str, tag: str) -> str:
    return indent_of(code, lang) + f"{COMMENT[lang]} {tag}\n" + code


def correct_variant(code: str, lang: str, i: int) -> str:
    return code if i == 0 else tagged(code, lang, f"solution {i}")


def wrong_variant(code: str, rng: random.Random) -> str:
    spots = [(m.start(), a, b) for a, b in FLIPS for m in re.finditer(re.escape(a), code)]
    consts = [m for m in re.finditer(r"(?<![\w.])([0-9])(?![\w.])", code)]
    if spots and (not consts or rng.random() < 0.75):
        pos, a, b = rng.choice(spots)
        return code[:pos] + b + code[pos + len(a):]
    if consts:
        m = rng.choice(consts)
        return code[:m.start()] + str((int(m.group(1)) + 1) % 10) + code[m.end():]
    return code.replace("return ", "return -", 1) if "return " in code else code + "\n"


def compile_error(code: str, lang: str, rng: random.Random, u: int) -> str:
    r = rng.random()
    lines = code.splitlines(keepends=True)
    if r < 0.4 and len(lines) > 1:  # truncated (C-like: unbalanced braces; Python: often still valid)
        return "".join(lines[: rng.randrange(1, len(lines))]) + tagged("", lang, f"cut {u}")
    if r < 0.7:
        call = {"python": f"hx_undefined_{u}()", "go": f"hx_undefined_{u}()"}.get(lang, f"hx_undefined_{u}();")
        return prefixed(code, lang, call)
    return prefixed(code, lang, {"python": f"return (hx_{u}", "go": f"return (hx_{u}"}.get(lang, f"return (hx_{u};"))


def crash(code: str, lang: str, u: int) -> str:
    stmt = {"python": f"raise RuntimeError('boom {u}')",
            "cpp": f"{{ volatile int *hx_p = 0; *hx_p = {u}; }}",
            "java": f"if (true) throw new RuntimeException(\"boom {u}\");",
            "js": f"throw new Error('boom {u}');",
            "go": f"if true {{ panic(\"boom {u}\") }}"}[lang]
    return prefixed(code, lang, stmt)


def endless(code: str, lang: str, u: int) -> str:
    m = 1000 + u
    stmt = {"python": f"hx_i = 0\n{indent_of(code, lang)}while hx_i >= 0: hx_i = (hx_i + 1) % {m}",
            "cpp": f"volatile long hx_i = 0; while (hx_i >= 0) {{ hx_i = (hx_i + 1) % {m}; }}",
            "java": f"long hx_i = 0; while (hx_i >= 0) {{ hx_i = (hx_i + 1) % {m}; }}",
            "js": f"let hx_i = 0; while (hx_i >= 0) {{ hx_i = (hx_i + 1) % {m}; }}",
            "go": f"for hx_i := 0; hx_i >= 0; hx_i = (hx_i + 1) % {m} {{ }}"}[lang]
    return prefixed(code, lang, stmt)


def binomial(rng, n, p):
    return sum(rng.random() < p for _ in range(n))


def problem_samples(problem, n: int, seed: int):
    rng = random.Random(f"{seed}:{problem.task_id}")
    lang, code = problem.language, problem.canonical_solution
    counts = {k: binomial(rng, n, p) for k, p in RATES.items()}
    rest = n - sum(counts.values())
    p_correct = rng.betavariate(0.7, 1.0)
    counts["correct"] = binomial(rng, rest, p_correct)
    counts["wrong"] = rest - counts["correct"]
    k = rng.randint(1, 4)
    weights = [1 / (i + 1) for i in range(k)]
    common_wrong = [wrong_variant(code, rng) for _ in range(2)]
    out, u = [], 0
    for kind, c in counts.items():
        for _ in range(c):
            u += 1
            if kind == "correct":
                gen = correct_variant(code, lang, rng.choices(range(k), weights)[0])
            elif kind == "wrong":
                gen = rng.choice(common_wrong) if rng.random() < 0.4 else tagged(wrong_variant(code, rng), lang, f"w{u}")
            elif kind == "compile_error":
                gen = compile_error(code, lang, rng, u)
            elif kind == "crash":
                gen = crash(code, lang, u)
            else:
                gen = endless(code, lang, u)
            out.append((kind, gen))
    rng.shuffle(out)
    return [{"task_id": problem.task_id, "sample_index": i, "generation": g, "kind": kind}
            for i, (kind, g) in enumerate(out)]


def main():
    from humaneval_x.dataset import load_problems
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--languages", default=None)
    a = ap.parse_args()
    problems = load_problems(a.languages.split(",") if a.languages else None)
    kinds, distinct = Counter(), set()
    raw = open(a.out, "wb")
    if a.out.endswith(".gz"):  # no name, no time in the header: the same bytes for the same seed
        raw = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
    with io.TextIOWrapper(raw, encoding="utf-8") as f:
        for p in sorted(problems.values(), key=lambda p: (p.language, p.number)):
            for rec in problem_samples(p, a.n, a.seed):
                kinds[rec["kind"]] += 1
                distinct.add((rec["task_id"], rec["generation"]))
                f.write(json.dumps(rec) + "\n")
    total = sum(kinds.values())
    print(f"{a.out}: {total} samples, {len(distinct)} distinct programs; "
          + ", ".join(f"{k} {v} ({100 * v / total:.1f}%)" for k, v in kinds.items()))


if __name__ == "__main__":
    main()
