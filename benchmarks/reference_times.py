#!/usr/bin/env python3
"""Reference CPU times of the canonical solutions, per problem, in the sandbox images: the data the
time-limit policy (humaneval_x/limits.py) is chosen from.

Measures every canonical solution REPETITIONS times (fresh runs, no cache) through the fast path
(humaneval_x/reference_times.py),
stores them in the per-image reference-time cache (as the policy would on first use), and writes
the distribution: per language min/median/p90/max of the reference (highest of the runs), the
heaviest problems, the spread between repetitions, and the limits the policy gives.

    HUMANEVAL_X_DATA=../shared/humaneval-x nice -n 10 python benchmarks/reference_times.py [--repetitions 5] [--json benchmarks/results/reference-times-2core.json]
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hx_bench_common import present_factory  # noqa: E402


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * (len(xs) - 1) + 0.5))]


def main():
    from humaneval_x import limits, reference_times
    from humaneval_x.dataset import load_problems
    from humaneval_x.languages import parse_languages

    ap = argparse.ArgumentParser()
    ap.add_argument("--languages", default=None)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    factory, tags = present_factory()
    langs = parse_languages(a.languages)
    problems = load_problems(langs)
    ex = reference_times.measurer(factory, a.workers)
    t0 = time.monotonic()
    policy = limits.LimitPolicy(repetitions=a.repetitions)
    res = reference_times.resolve(policy, problems, problems, ex, log=print)
    out = {"repetitions": a.repetitions, "workers": a.workers, "images": tags, "seconds": round(time.monotonic() - t0, 1),
           "policy": policy.describe(), "languages": {}}
    for lang in langs:
        path = reference_times.reference_path(ex.image_id(lang))
        entries = json.loads(path.read_text())["entries"]
        refs, spreads, rows = [], [], []
        for tid, p in problems.items():
            if p.language != lang:
                continue
            e = entries[reference_times.entry_key(reference_times.canonical_job(p), False)]
            ref = reference_times.reference_value(e)
            if ref is None:
                rows.append((tid, None, e["status"]))
                continue
            cpus = [c for c in e["cpu_s"] if c is not None]
            refs.append(ref)
            spreads.append(max(cpus) - min(cpus))
            rows.append((tid, ref, statistics.median(cpus)))
        rows_ok = sorted((r for r in rows if r[1] is not None), key=lambda r: -r[1])
        lim = [res.cpu[t] for t in res.cpu if t.startswith(problems[rows[0][0]].task_id.split("/")[0] + "/")]
        out["languages"][lang] = {
            "problems": len(rows), "unmeasurable": [r for r in rows if r[1] is None],
            "reference_cpu_s": {"min": min(refs), "median": statistics.median(refs), "p90": quantile(refs, 0.9),
                                "max": max(refs)},
            "rep_spread_s": {"median": statistics.median(spreads), "max": max(spreads)},
            "heaviest": [{"task_id": t, "reference_cpu_s": r, "median_cpu_s": round(m, 4), "limit_s": res.cpu[t]}
                         for t, r, m in rows_ok[:8]],
            "limits_s": {str(v): lim.count(v) for v in sorted(set(lim))},
        }
        d = out["languages"][lang]
        print(f"{lang:<7} ref CPU s: min {d['reference_cpu_s']['min']:.3f} median {d['reference_cpu_s']['median']:.3f} "
              f"p90 {d['reference_cpu_s']['p90']:.3f} max {d['reference_cpu_s']['max']:.3f}; spread max "
              f"{d['rep_spread_s']['max']:.3f}; limits {d['limits_s']}; heaviest "
              + ", ".join(f"{h['task_id']} {h['reference_cpu_s']:.3f}" for h in d["heaviest"][:4]))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
