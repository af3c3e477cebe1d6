"""self-check: every canonical solution must pass, deliberately wrong programs must not.

Wrong programs per language, each on problem 0 (has_close_elements): a wrong
answer, an early successful exit (must not pass: the sentinel never prints), a
crash, a syntax error and an endless loop, with the status each must get.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Tuple

from .dataset import DEFAULT_VARIANT, load_problems
from .engines import make_executor
from .execute import make_job
from .languages import LANGUAGES, parse_languages
from .limits import Timeouts
from .run_options import progress_disabled
from .samples import Sample

# (name, completion of problem 0, expected status): each language's own (its entry's wrong_programs)
WRONG: Dict[str, List[Tuple[str, str, str]]] = {name: list(lang.wrong_programs) for name, lang in LANGUAGES.items()}


def run_self_check(languages=None, data_dir: Optional[str] = None, variant: str = DEFAULT_VARIANT,
                   workers: Optional[int] = None, timeouts: Timeouts = Timeouts(), sandbox_factory=None,
                   include_wrong: bool = True, limit: Optional[int] = None, show_progress=None, log=print,
                   ray: Optional[str] = None, repeat: int = 1) -> dict:
    """``repeat``: runs of every program; a program whose status differs between its runs is a mismatch
    (a flip: reported with all its statuses), canonical or wrong."""
    from tqdm import tqdm

    langs = parse_languages(languages)
    problems = load_problems(langs, data_dir=data_dir, variant=variant)
    jobs, expected = [], {}
    for tid, p in problems.items():
        if limit is not None and p.number >= limit:
            continue
        # canonical solutions are executed as shipped: no cleaning
        jobs.append(make_job(Sample(tid, 0, p.canonical_solution), p, clean=False))
        expected[(tid, 0)] = ("canonical", "passed")
    if include_wrong:
        for name in langs:
            tid = f"{LANGUAGES[name].task_prefix}/0"
            for i, (label, code, status) in enumerate(WRONG[name], start=1):
                jobs.append(make_job(Sample(tid, i, code), problems[tid], clean=False))
                expected[(tid, i)] = (label, status)
    executor = make_executor(sandbox_factory, workers, timeouts, ray=ray, log=log,
                             **({"repeat": repeat} if repeat > 1 else {}))
    results: Dict[tuple, dict] = {}
    t0 = time.monotonic()
    with tqdm(total=len(jobs), desc="self-check", unit="program", disable=progress_disabled(show_progress)) as bar:
        seconds = executor.run(jobs, lambda r: results.__setitem__((r["task_id"], r["sample_index"]), r), bar)
    report = {"languages": {}, "mismatches": [], "seconds": round(time.monotonic() - t0, 1),
              "dataset_variant": variant, "repeat": repeat, "flips": []}
    per_lang = defaultdict(Counter)
    for key, (label, want) in expected.items():
        rec = results[key]
        lang = rec["language"]
        kind = "canonical" if label == "canonical" else "wrong"
        per_lang[lang][f"{kind}_total"] += 1
        flipped = bool(rec.get("flipped"))
        ok = rec["status"] == want and not flipped
        if flipped:
            report["flips"].append({"task_id": key[0], "case": label, "verdicts": rec["verdicts"]})
        per_lang[lang][f"{kind}_ok"] += ok
        if not ok:
            report["mismatches"].append({"task_id": key[0], "case": label, "expected": want,
                                         "got": " ".join(rec["verdicts"]) if flipped else rec["status"],
                                         "detail": rec["detail"],
                                         "stderr": ((rec.get("run") or rec.get("compile") or {}).get("stderr") or "")[-600:]})
    for lang in langs:
        c = per_lang[lang]
        report["languages"][lang] = {"canonical_passed": c["canonical_ok"], "canonical_total": c["canonical_total"],
                                     "wrong_as_expected": c["wrong_ok"], "wrong_total": c["wrong_total"],
                                     "seconds": round(seconds.get(lang, 0.0), 1)}
    report["ok"] = not report["mismatches"]
    return report


def format_report(report: dict) -> str:
    lines = [f"{'language':<12}{'canonical passed':>18}{'wrong programs as expected':>28}{'seconds':>10}"]
    for lang, r in report["languages"].items():
        lines.append(f"{LANGUAGES[lang].display:<12}{r['canonical_passed']:>11}/{r['canonical_total']:<6}"
                     f"{r['wrong_as_expected']:>21}/{r['wrong_total']:<6}{r['seconds']:>10}")
    for m in report["mismatches"]:
        lines.append(f"MISMATCH {m['task_id']} [{m['case']}]: expected {m['expected']}, got {m['got']} "
                     f"({m['detail']})\n    {m['stderr'][-300:]!r}")
    if report.get("repeat", 1) > 1:
        lines.append(f"every program ran {report['repeat']} times: {len(report['flips'])} flipped"
                     + "".join(f"\n  FLIP {f['task_id']} [{f['case']}]: {' '.join(f['verdicts'])}" for f in report["flips"]))
    lines.append(f"total {report['seconds']} s: " + ("OK" if report["ok"] else "FAILED"))
    return "\n".join(lines)


def run_translation_self_check(pairs=None, data_dir: Optional[str] = None, variant: str = DEFAULT_VARIANT,
                               workers: Optional[int] = None, limit: Optional[int] = None, sandbox_factory=None,
                               show_progress=None, ray: Optional[str] = None) -> dict:
    """Each target's canonical solution, fed as the "translation" of every pair, must pass.

    The program is assembled from the TARGET's own declaration (not from the translation
    prompt), so this proves every pair's assembly compiles and runs. Identical programs
    (the same target across sources) run once.
    """
    from tqdm import tqdm

    from .prompts import parse_pairs, problem_number_map

    pairs = parse_pairs(pairs)
    problems = load_problems(sorted({x for p in pairs for x in p}), data_dir=data_dir, variant=variant)
    by_num = problem_number_map(problems)
    jobs = []
    for s, t in pairs:
        for n in range(164 if limit is None else limit):
            tgt = by_num[(t, n)]
            jobs.append(make_job(Sample(tgt.task_id, 0, tgt.canonical_solution, source_language=s), tgt, clean=False))
    executor = make_executor(sandbox_factory, workers, ray=ray)
    per_pair: Dict[str, Counter] = defaultdict(Counter)
    failures = []
    t0 = time.monotonic()

    def record(r):
        pair = f"{r['source_language']}-{r['language']}"
        per_pair[pair]["total"] += 1
        per_pair[pair]["passed"] += r["passed"]
        if not r["passed"]:
            failures.append({"pair": pair, "task_id": r["task_id"], "status": r["status"], "detail": r["detail"]})

    with tqdm(total=len(jobs), desc="translation self-check", unit="program", disable=progress_disabled(show_progress)) as bar:
        executor.run(jobs, record, bar)
    return {"pairs": {p: dict(c) for p, c in sorted(per_pair.items())}, "failures": failures,
            "seconds": round(time.monotonic() - t0, 1), "ok": not failures and len(per_pair) == len(pairs)}


def format_translation_report(report: dict) -> str:
    lines = [f"{pair:<12}{c['passed']:>5}/{c['total']}" for pair, c in report["pairs"].items()]
    lines += [f"FAILED {f['pair']} {f['task_id']}: {f['status']} ({f['detail']})" for f in report["failures"][:50]]
    lines.append(f"total {report['seconds']} s: " + ("OK" if report["ok"] else "FAILED"))
    return "\n".join(lines)
