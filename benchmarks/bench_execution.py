#!/usr/bin/env python3
"""Execution throughput through the Docker sandboxes: the harness's fast path vs a naive baseline.

Program sets (built from the real data):
  A. the canonical solution of every selected problem, plus per problem a wrong variant (its
     canonical solution with one operator flipped: mostly wrong answers, some compile errors), so
     failures are timed too;
  B. a realistic sample file with duplicates: per problem, N samples drawn from {canonical,
     wrong variant, truncated canonical} with repetitions, as sampling at T=0.8 produces.
The naive baseline is what the original harness does, in the same sandboxes with the same limits:
one fresh process per program (python3 main.py, javac + java, g++, go test -c), every duplicate
executed. The fast path deduplicates identical programs, forks Python programs from a preloaded
interpreter, compiles C++ with a precompiled header of the common includes, and (given a
results cache) reuses verdicts across runs. Both run in this one invocation; every verdict of
the fast path must equal the naive one (the script fails loudly otherwise). A program whose
verdict differs is run naive again (--recheck times): when the baseline itself also gives the fast
path's verdict (a test that draws random numbers, an endless allocation racing the CPU limit),
the program is reported as unstable in the baseline, not as a mismatch.

    HUMANEVAL_X_DATA=../shared/humaneval-x python benchmarks/bench_execution.py [--problems 164] [--dup-problems 20] [--dup-n 10]
"""
import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FLIPS = [(" < ", " >= "), (" > ", " <= "), (" == ", " != "), (" != ", " == "), (" + ", " - "), (" - ", " + ")]


def wrong_variant(code: str) -> str:
    for a, b in FLIPS:
        if a in code:
            return code.replace(a, b, 1)
    return code.replace("return ", "return 1 + ", 1)


def truncated(code: str) -> str:
    lines = code.splitlines(keepends=True)
    return "".join(lines[: max(1, len(lines) // 2)])


def build_jobs(problems, n_problems, dup_problems, dup_n, seed):
    from humaneval_x.execute import make_job
    from humaneval_x.samples import Sample
    rng = random.Random(seed)
    jobs = []
    for p in sorted(problems.values(), key=lambda p: (p.language, p.number)):
        if p.number >= n_problems:
            continue
        jobs.append(("A", make_job(Sample(p.task_id, 0, p.canonical_solution), p, clean=False)))
        jobs.append(("A", make_job(Sample(p.task_id, 1, wrong_variant(p.canonical_solution)), p, clean=False)))
        if p.number < dup_problems:
            pool = [p.canonical_solution] * 5 + [wrong_variant(p.canonical_solution)] * 3 + [truncated(p.canonical_solution)] * 2
            for i in range(dup_n):
                jobs.append(("B", make_job(Sample(p.task_id, 100 + i, rng.choice(pool)), p, clean=False)))
    return jobs


def run(mode, jobs, workers, timeouts, cache):
    from humaneval_x.execute import Executor, docker_factory
    ex = Executor(docker_factory(), workers, timeouts, cache=cache, naive=(mode == "naive"))
    records = {}
    t0 = time.monotonic()
    seconds = ex.run([j for _, j in jobs], lambda r: records.__setitem__((r["task_id"], r["sample_index"]), r))
    return records, seconds, time.monotonic() - t0, ex


def stage_mean(records, stage):
    vals = [r[stage]["wall_s"] for r in records
            if r.get(stage) and r[stage].get("wall_s") is not None and not r["reused_result"]]
    return sum(vals) / len(vals) if vals else 0.0


def classify(seen, fast, warm):
    """seen: program key -> every status the naive baseline gave it. A fast-path verdict that the
    baseline also gave is explained by the program (unstable); any other is a mismatch."""
    unstable, mismatches = [], []
    for k in sorted(seen):
        got = {fast[k]["status"], warm[k]["status"]}
        if got <= seen[k]:
            unstable.append([k, sorted(seen[k]), fast[k]["status"]])
        else:
            mismatches.append([k, sorted(seen[k]), fast[k]["status"], warm[k]["status"]])
    return unstable, mismatches


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=164, help="problems per language in set A")
    ap.add_argument("--dup-problems", type=int, default=20, help="problems per language in set B")
    ap.add_argument("--dup-n", type=int, default=10, help="samples per problem in set B")
    ap.add_argument("--languages", default="all")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--run-cpu", type=float, default=3.0, help="CPU limit of a run (both modes)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recheck", type=int, default=3, help="naive reruns of a program whose verdicts differ")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    from humaneval_x.dataset import load_problems
    from humaneval_x.execute import Timeouts, default_workers
    from humaneval_x.languages import LANGUAGES, parse_languages
    from humaneval_x.result_cache import ResultCache

    langs = parse_languages(args.languages)
    problems = load_problems(langs)
    jobs = build_jobs(problems, args.problems, args.dup_problems, args.dup_n, args.seed)
    workers = args.workers or default_workers()
    timeouts = Timeouts(run_cpu=args.run_cpu, run_timeout=max(10.0, 3 * args.run_cpu))
    print(f"{len(jobs)} programs ({sum(s == 'A' for s, _ in jobs)} in set A, {sum(s == 'B' for s, _ in jobs)} in set B), "
          f"{workers} workers, run CPU limit {args.run_cpu:g} s", flush=True)
    naive, naive_s, naive_total, _ = run("naive", jobs, workers, timeouts, None)
    with tempfile.TemporaryDirectory() as tmp:
        cache = ResultCache(Path(tmp) / "cache.sqlite")
        fast, fast_s, fast_total, ex = run("fast", jobs, workers, timeouts, cache)
        warm, warm_s, warm_total, _ = run("fast", jobs, workers, timeouts, cache)  # a rerun: all cached

    differ = {k for k in naive if len({naive[k]["status"], fast[k]["status"], warm[k]["status"]}) > 1}
    seen = {k: {naive[k]["status"]} for k in differ}
    for _ in range(args.recheck if differ else 0):  # is the baseline itself unstable on these?
        again, _, _, _ = run("naive", [(s, j) for s, j in jobs if (j.sample.task_id, j.sample.sample_index) in differ],
                             workers, timeouts, None)
        for k, r in again.items():
            seen[k].add(r["status"])
    unstable, mismatches = classify(seen, fast, warm)
    rows = []
    by_lang = defaultdict(list)
    for _, j in jobs:
        by_lang[j.language].append((j.sample.task_id, j.sample.sample_index))
    head = (f"{'language':<11}{'programs':>9}{'naive s':>9}{'fast s':>8}{'naive/s':>9}{'fast/s':>8}{'ratio':>7}"
            f"{'compile s':>15}{'run s':>14}{'reused':>8}{'timeouts':>9}{'warm/s':>8}")
    print(head + "\n" + "-" * len(head))
    for name in langs:
        keys = by_lang[name]
        fr = [fast[k] for k in keys]
        nr = [naive[k] for k in keys]
        row = {"language": name, "programs": len(keys), "naive_s": round(naive_s.get(name, 0), 1),
               "fast_s": round(fast_s.get(name, 0), 1), "warm_s": round(warm_s.get(name, 0), 2),
               "naive_compile_s": round(stage_mean(nr, "compile"), 3), "fast_compile_s": round(stage_mean(fr, "compile"), 3),
               "naive_run_s": round(stage_mean(nr, "run"), 3), "fast_run_s": round(stage_mean(fr, "run"), 3),
               "reuse_rate": round(sum(r["reused_result"] for r in fr) / len(fr), 3),
               # executed programs that ran into the CPU limit: they cost it in every mode
               "timeouts": sum(r["status"] == "timeout" and not r["reused_result"] for r in fr),
               "timeout_cpu_s": round(sum((r.get("run") or {}).get("cpu_s") or 0 for r in fr
                                          if r["status"] == "timeout" and not r["reused_result"]), 1)}
        row["naive_per_s"] = round(len(keys) / max(row["naive_s"], 1e-9), 2)
        row["fast_per_s"] = round(len(keys) / max(row["fast_s"], 1e-9), 2)
        row["ratio"] = round(row["naive_s"] / max(row["fast_s"], 1e-9), 2)
        rows.append(row)
        print(f"{LANGUAGES[name].display:<11}{row['programs']:>9}{row['naive_s']:>9}{row['fast_s']:>8}"
              f"{row['naive_per_s']:>9}{row['fast_per_s']:>8}{row['ratio']:>6}x"
              f"{row['naive_compile_s']:>9.3f}/{row['fast_compile_s']:<5.3f}{row['naive_run_s']:>8.3f}/{row['fast_run_s']:<5.3f}"
              f"{row['reuse_rate']:>6.0%}{row['timeouts']:>9}{len(keys) / max(row['warm_s'], 1e-9):>9.0f}")
    total = {"programs": len(jobs), "naive_s": round(naive_total, 1), "fast_s": round(fast_total, 1),
             "warm_s": round(warm_total, 2), "ratio": round(naive_total / fast_total, 2),
             "warm_ratio": round(naive_total / max(warm_total, 1e-9), 1),
             "timeout_floor_s": round(sum(r["timeout_cpu_s"] for r in rows) / workers, 1)}
    total["ratio_bound"] = round(naive_total / total["timeout_floor_s"], 1) if total["timeout_floor_s"] else None
    print(f"{'overall':<11}{len(jobs):>9}{total['naive_s']:>9}{total['fast_s']:>8}"
          f"{len(jobs) / naive_total:>9.2f}{len(jobs) / fast_total:>8.2f}{total['ratio']:>6}x")
    print(f"rerun with a warm results cache: {total['warm_s']} s ({total['warm_ratio']}x the naive run)")
    if total["ratio_bound"]:
        print(f"programs that time out cost their CPU limit in both modes: {total['timeout_floor_s']} s on {workers} "
              f"workers, so no fast path can beat {total['ratio_bound']}x on this set")
    print("(compile s / run s: mean wall seconds per executed program, naive/fast; reused: share of programs whose "
          "verdict came from an identical program in the same run)")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "languages": rows, "overall": total,
                                               "unstable_in_baseline": unstable, "mismatches": mismatches}, indent=2))
    for k, statuses, got in unstable:
        print(f"unstable in the baseline itself (naive gave {'/'.join(statuses)}; fast {got}): {k[0]} #{k[1]}")
    if mismatches:
        print(f"VERDICT MISMATCH between naive and fast on {len(mismatches)} programs:", file=sys.stderr)
        for m in mismatches[:30]:
            print(f"  {m}", file=sys.stderr)
        sys.exit(1)
    print("all verdicts identical to the naive baseline" + (f" (but for {len(unstable)} unstable in it)" if unstable else ""))


if __name__ == "__main__":
    main()
