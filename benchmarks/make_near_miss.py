#!/usr/bin/env python3
"""A near-miss set for the flip audit (issue 26): wrong programs whose verdict a harness can get wrong
by chance, in every language, reproducible from a seed. Each record names its ``kind``:

- ``oob``: every `< x.size()` loop bound of a canonical solution made `<= x.size()` (C++: reads one
  element past a vector's end, undefined behaviour; the other languages: a deterministic exception);
- ``random_input``: problems 32, 38, 50, 53, whose tests draw random inputs: the canonical solution
  with a guard that answers wrongly on a rare input only (a pair of residues of the summands, a first
  and last letter, the first two coefficients), hit by some draws of the test and not by others;
- ``memory``: a program that grows memory without bound at one of six rates (out of memory or out of
  CPU time first: the status must not depend on the machine's load);
- ``endless``: a CPU-bound endless loop (timeout, also on a loaded machine);
- ``map_order``: Go programs whose result depends on map iteration order (upstream's Go/95 canonical
  solution, and a first-key-wins variant): nondeterministic by the language's own rule, which no
  harness setting removes; the flip audit must report them;
- ``wrong``: one operator-flipped or constant-changed variant of every canonical solution (make_mix.py).

    HUMANEVAL_X_DATA=../shared/humaneval-x python benchmarks/make_near_miss.py --out /tmp/near-miss.jsonl [--seed 0]
"""
import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from make_mix import endless, prefixed, tagged, wrong_variant  # noqa: E402

PREFIX = {"python": "Python", "cpp": "CPP", "java": "Java", "js": "JavaScript", "go": "Go"}
MODULI = (8, 10, 12, 15, 20)                   # P(hit) in 100 draws: 1 - (1 - 1/m^2)^100 (79% .. 22%)
RESIDUES = ((3, 4), (4, 6), (6, 3), (1, 6))    # none is a residue pair of the test's fixed asserts
LETTERS = (("ab", "cd"), ("xy", "mn"), ("q", "z"), ("abc", "def"))
COEFFS = (((7, 8), (-3, -4)), ((1,), (2,)), ((5, 6, 9), (3, 4)), ((-1, -2), (1, 2)))
MEMORY_RATES = (1, 10, 100, 1000, 10000, 100000)  # elements per allocation


def _any(lang, expr, values):
    sep = " or " if lang == "python" else " || "
    return "(" + sep.join(f"{expr} == {v}" for v in values) + ")"


def add_guard(lang, m, a, b):
    cond = {"python": f"x % {m} == {a} and y % {m} == {b}"}.get(lang, f"x % {m} == {a} && y % {m} == {b}")
    return {"python": f"if {cond}: return x + y + 1", "go": f"if {cond} {{ return x + y + 1 }}"}.get(
        lang, f"if ({cond}) return x + y + 1;")


def decode_guard(lang, first, last):
    if lang == "python":
        return f"if len(s) > 1 and s[0] in {first!r} and s[-1] in {last!r}: return s"
    if lang == "cpp":
        return (f"if (s.size() > 1 && {_any(lang, 's[0]', [repr(c) for c in first])} && "
                f"{_any(lang, 's.back()', [repr(c) for c in last])}) return s;")
    if lang == "java":
        return (f"if (s.length() > 1 && \"{first}\".indexOf(s.charAt(0)) >= 0 && "
                f"\"{last}\".indexOf(s.charAt(s.length() - 1)) >= 0) return s;")
    if lang == "js":
        return f"if (s.length > 1 && '{first}'.includes(s[0]) && '{last}'.includes(s[s.length - 1])) return s;"
    return (f"if len(s) > 1 && strings.ContainsRune(\"{first}\", rune(s[0])) && "
            f"strings.ContainsRune(\"{last}\", rune(s[len(s)-1])) {{ return s }}")


def zero_guard(lang, c0, c1):
    x0, x1 = {"java": ("xs.get(0)", "xs.get(1)")}.get(lang, ("xs[0]", "xs[1]"))
    vals = (lambda vs: [f"{v}.0" for v in vs]) if lang == "java" else (lambda vs: list(vs))
    cond = f"{_any(lang, x0, vals(c0))} {'and' if lang == 'python' else '&&'} {_any(lang, x1, vals(c1))}"
    return {"python": f"if {cond}: return 1e9", "go": f"if {cond} {{ return 1e9 }}"}.get(lang, f"if ({cond}) return 1e9;")


def memory_hog(lang, k):
    return {"python": f"hx_m = []\n    while len(hx_m) >= 0: hx_m.append([len(hx_m)] * {k})",
            "cpp": f"std::vector<std::vector<int>> hx_m; while (hx_m.size() >= 0) hx_m.push_back(std::vector<int>({k}, 1));",
            "java": f"java.util.List<int[]> hx_m = new java.util.ArrayList<>(); "
                    f"while (hx_m.size() >= 0) {{ int[] hx_b = new int[{k}]; java.util.Arrays.fill(hx_b, 1); hx_m.add(hx_b); }}",
            "js": f"const hx_m = []; while (hx_m.length >= 0) hx_m.push(new Array({k}).fill(1));",
            "go": f"hx_m := [][]int{{}}; for len(hx_m) >= 0 {{ hx_b := make([]int, {k}); "
                  f"for j := range hx_b {{ hx_b[j] = j }}; hx_m = append(hx_m, hx_b) }}"}[lang]


GO95_ORIGINAL_TAIL = "        } else {\n            break\n        }\n    }\n    return state == \"upper\" || state == \"lower\"\n"


def records(problems, seed):
    rng = random.Random(seed)
    out = []

    def add(kind, task_id, generation):
        out.append({"task_id": task_id, "sample_index": sum(r["task_id"] == task_id for r in out),
                    "generation": generation, "kind": kind})

    for p in sorted(problems.values(), key=lambda p: (p.language, p.number)):
        code = p.canonical_solution
        for m in re.finditer(r"<(\s*[\w.]+\.size\(\))", code):
            add("oob", p.task_id, code[:m.start()] + "<=" + m.group(1) + code[m.end():])
    for lang, pre in PREFIX.items():
        canon = {n: problems[f"{pre}/{n}"].canonical_solution for n in (32, 38, 50, 53)}
        for m in MODULI:
            for a, b in RESIDUES:
                add("random_input", f"{pre}/53", prefixed(canon[53], lang, add_guard(lang, m, a, b)))
        for n in (38, 50):
            for first, last in LETTERS:
                add("random_input", f"{pre}/{n}", prefixed(canon[n], lang, decode_guard(lang, first, last)))
        for c0, c1 in COEFFS:
            add("random_input", f"{pre}/32", prefixed(canon[32], lang, zero_guard(lang, c0, c1)))
        for i, k in enumerate(MEMORY_RATES):
            add("memory", f"{pre}/{i}", prefixed(problems[f"{pre}/{i}"].canonical_solution, lang, memory_hog(lang, k)))
        for i in range(5):
            add("endless", f"{pre}/{10 + i}", endless(problems[f"{pre}/{10 + i}"].canonical_solution, lang, i))
    go95 = problems["Go/95"].canonical_solution.replace(
        "        }\n    }\n    return state == \"upper\" || state == \"lower\"\n", GO95_ORIGINAL_TAIL)
    add("map_order", "Go/95", go95)
    add("map_order", "Go/95", tagged(go95, "go", "same logic, another text"))
    for p in sorted(problems.values(), key=lambda p: (p.language, p.number)):
        add("wrong", p.task_id, tagged(wrong_variant(p.canonical_solution, rng), p.language, "near miss"))
    return out


def main():
    from humaneval_x.dataset import load_problems
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default=None,
                    help="keep these kinds and programs, comma-separated (a kind or TASK_ID#INDEX), e.g. "
                         "memory,endless,Java/123#0: a subset of the same set, the same sample indexes")
    a = ap.parse_args()
    recs = records(load_problems(variant="errata-v1"), a.seed)  # canonical texts: the same in every variant
    if a.only:
        keep = set(a.only.split(","))
        recs = [r for r in recs if r["kind"] in keep or "%s#%d" % (r["task_id"], r["sample_index"]) in keep]
    with open(a.out, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    kinds = Counter(r["kind"] for r in recs)
    langs = Counter(r["task_id"].split("/")[0] for r in recs)
    print(f"{a.out}: {len(recs)} programs; " + ", ".join(f"{k} {v}" for k, v in kinds.items()) + "; "
          + ", ".join(f"{k} {v}" for k, v in langs.items()))


if __name__ == "__main__":
    main()
