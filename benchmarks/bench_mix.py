#!/usr/bin/env python3
"""Execution of a realistic n=200 mix (benchmarks/make_mix.py): the fast path under the time-limit
policy against the naive baseline with flat 5 s limits, and the policy's verdicts against flat
ceiling limits.

1. fast: Executor (dedup, fast paths, no results cache) with the reference policy
   (humaneval_x/limits.py; reference times from the image's cache, measured first if missing);
2. naive: Executor(naive=True) (one fresh process per program, every duplicate executed) with flat
   5 s CPU limits (15 s wall), on a stated random fraction of the samples (--naive-fraction), per
   language extrapolated to all of them: seconds x (samples / sampled);
3. verdict check against flat ceiling limits (10 s CPU, 30 s wall): a program that finishes under a
   smaller limit finishes the same way under a larger one, so only programs that timed out under the
   policy can differ; every distinct one of them is run again under the ceiling (--recheck-timeouts,
   default all), plus --recheck-sample distinct other programs as a control.

--per-problem N takes the first N samples of each problem (the mix is shuffled per problem: a random
draw of its 200), to get numbers at a scale that fits; say so when reporting. --recheck-timeouts N
rechecks a random N of the distinct timeouts (each costs the ceiling's 10 CPU seconds).

    HUMANEVAL_X_DATA=../shared/humaneval-x nice -n 10 python benchmarks/bench_mix.py --mix /tmp/mix.jsonl.gz [--per-problem 20] [--naive-fraction 0.02] [--json out.json]

The whole mix takes hours on two cores; run it one language at a time (--languages cpp --json
cpp.json --results cpp.results.jsonl: every fast-path verdict is appended as it arrives, so an
interrupted run keeps what it did) and add the parts up with

    python benchmarks/bench_mix.py --combine python.json cpp.json java.json js.json go.json [--json all.json]
"""
import argparse
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hx_bench_common import present_factory  # noqa: E402


def load_mix(path, per_problem, languages):
    opener = gzip.open if str(path).endswith(".gz") else open
    out = []
    with opener(path, "rt") as f:
        for line in f:
            r = json.loads(line)
            if r["sample_index"] >= per_problem:
                continue
            if languages and r["task_id"].split("/")[0] not in languages:
                continue
            out.append(r)
    return out


def main():
    from humaneval_x import limits, reference_times
    from humaneval_x.dataset import load_problems
    from humaneval_x.execute import Executor, Timeouts, make_job
    from humaneval_x.languages import LANGUAGES, parse_languages
    from humaneval_x.samples import Sample

    ap = argparse.ArgumentParser()
    ap.add_argument("--mix", help="the mix from make_mix.py (required unless --combine)")
    ap.add_argument("--per-problem", type=int, default=200)
    ap.add_argument("--languages", default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--naive-fraction", type=float, default=0.02)
    ap.add_argument("--recheck-sample", type=int, default=100)
    ap.add_argument("--recheck-timeouts", type=int, default=None, help="at most this many (default: all)")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--results", default=None, help="append each fast-path verdict to this JSONL as it arrives")
    ap.add_argument("--combine", nargs="+", default=None, help="add up per-language JSON outputs of this script")
    a = ap.parse_args()
    if a.combine:
        return combine(a.combine, a.json)
    if not a.mix:
        ap.error("--mix is required (or --combine to add up earlier outputs)")

    langs = parse_languages(a.languages)
    prefixes = {LANGUAGES[l].task_prefix for l in langs}
    problems = load_problems(langs)
    recs = load_mix(a.mix, a.per_problem, prefixes)
    kind = {(r["task_id"], r["sample_index"]): r["kind"] for r in recs}
    jobs = [make_job(Sample(r["task_id"], r["sample_index"], r["generation"]), problems[r["task_id"]], clean=False)
            for r in recs]
    factory, tags = present_factory()
    by_lang = Counter(j.language for j in jobs)
    distinct = {l: len({j.program_hash for j in jobs if j.language == l}) for l in langs}
    print(f"{len(jobs)} samples ({a.per_problem} per problem), distinct programs {sum(distinct.values())}: {distinct}")
    out = {"mix": str(a.mix), "per_problem": a.per_problem, "samples": len(jobs), "workers": a.workers,
           "images": tags, "distinct_programs": distinct, "kinds": dict(Counter(kind.values()))}

    # 1. fast path + policy
    t0 = time.monotonic()
    resolved = reference_times.resolve(limits.LimitPolicy(), {j.sample.task_id for j in jobs}, problems,
                                       reference_times.measurer(factory, a.workers), log=print)
    fast_ex = Executor(factory, a.workers, limits=resolved)
    out["reference_seconds"] = round(time.monotonic() - t0, 1)
    fast = {}
    sink = open(a.results, "a") if a.results else None

    def on_fast(r):
        fast[(r["task_id"], r["sample_index"])] = r
        if sink is not None:
            sink.write(json.dumps({k: r.get(k) for k in ("task_id", "sample_index", "status", "program_sha256",
                                                          "reused_result")}) + "\n")

    from tqdm import tqdm
    t0 = time.monotonic()
    with tqdm(total=len(jobs), unit="prog", mininterval=30, file=sys.stderr) as bar:
        fast_secs = fast_ex.run(jobs, on_fast, progress=bar)
    if sink is not None:
        sink.close()
    fast_total = time.monotonic() - t0
    tl = fast_ex.limits_summary()
    out["policy"] = tl["policy"]
    out["fast"] = {"seconds": round(fast_total, 1), "programs_per_s": round(len(jobs) / fast_total, 2),
                   "executed": fast_ex.executed, "seconds_per_language": {k: round(v, 1) for k, v in fast_secs.items()},
                   "statuses": dict(Counter(r["status"] for r in fast.values()))}
    timed_out = {}
    for r in fast.values():
        if r["status"] == "timeout" and not r["reused_result"]:
            timed_out[r["program_sha256"]] = r
    out["fast"]["distinct_timeouts"] = len(timed_out)
    out["fast"]["timeout_cpu_limit_s"] = sum(tl["limits_cpu_s"][r["task_id"]] for r in timed_out.values())
    print(f"fast+policy: {fast_total:.1f} s, {len(jobs) / fast_total:.1f} programs/s; per language "
          f"{out['fast']['seconds_per_language']}; {len(timed_out)} distinct timeouts costing "
          f"{out['fast']['timeout_cpu_limit_s']:.0f} CPU s of limits")

    # 2. naive, flat 5 s, a random fraction
    rng = random.Random(a.seed)
    if not a.skip_naive:
        sel = [j for j in jobs if rng.random() < a.naive_fraction]
        naive_ex = Executor(factory, a.workers, Timeouts(run_cpu=5, run_timeout=15), naive=True)
        naive = {}
        t0 = time.monotonic()
        naive_secs = naive_ex.run(sel, lambda r: naive.__setitem__((r["task_id"], r["sample_index"]), r))
        naive_total = time.monotonic() - t0
        sel_by_lang = Counter(j.language for j in sel)
        per_lang = {}
        for l in langs:
            if not sel_by_lang[l]:
                continue
            est = naive_secs.get(l, 0.0) * by_lang[l] / sel_by_lang[l]
            per_lang[l] = {"sampled": sel_by_lang[l], "seconds_sampled": round(naive_secs.get(l, 0.0), 1),
                           "seconds_extrapolated": round(est, 1), "fast_seconds": round(fast_secs.get(l, 0.0), 1),
                           "ratio": round(est / fast_secs[l], 2) if fast_secs.get(l) else None}
        est_total = sum(v["seconds_extrapolated"] for v in per_lang.values())
        diffs = [(k, naive[k]["status"], fast[k]["status"]) for k in naive if naive[k]["status"] != fast[k]["status"]]
        out["naive"] = {"fraction": a.naive_fraction, "sampled": len(sel), "seconds_sampled": round(naive_total, 1),
                        "seconds_extrapolated": round(est_total, 1), "ratio": round(est_total / fast_total, 2),
                        "per_language": per_lang,
                        "verdict_differences_vs_fast": [{"sample": f"{k[0]}#{k[1]}", "kind": kind[k], "naive": n,
                                                         "fast": f} for k, n, f in diffs]}
        print(f"naive (flat 5 s) on {len(sel)} samples ({a.naive_fraction:.1%}): {naive_total:.1f} s, extrapolated "
              f"{est_total:.0f} s: ratio {est_total / fast_total:.2f}x; per language " +
              ", ".join(f"{l} {v['ratio']}x" for l, v in per_lang.items()) + f"; {len(diffs)} verdict differences")

    # 3. the policy's timeouts (and a control sample) under flat ceiling limits
    recheck = sorted(timed_out.values(), key=lambda r: r["program_sha256"])
    if a.recheck_timeouts is not None and a.recheck_timeouts < len(recheck):
        recheck = rng.sample(recheck, a.recheck_timeouts)
    others = {}
    for r in fast.values():
        if r["status"] != "timeout" and not r["reused_result"]:
            others[r["program_sha256"]] = r
    control = rng.sample(sorted(others.values(), key=lambda r: r["program_sha256"]), min(a.recheck_sample, len(others)))
    sel = {(r["task_id"], r["sample_index"]) for r in recheck + control}
    rjobs = [j for j in jobs if (j.sample.task_id, j.sample.sample_index) in sel]
    ceil_ex = Executor(factory, a.workers, Timeouts(run_cpu=limits.CEILING, run_timeout=limits.wall_for(limits.CEILING)))
    ceil = {}
    t0 = time.monotonic()
    ceil_ex.run(rjobs, lambda r: ceil.__setitem__((r["task_id"], r["sample_index"]), r))
    changed = []
    for k, r in ceil.items():
        f = fast[k]
        if r["status"] != f["status"]:
            changed.append({"sample": f"{k[0]}#{k[1]}", "kind": kind[k], "policy": f["status"], "ceiling": r["status"],
                            "policy_limit_s": tl["limits_cpu_s"][k[0]],
                            "ceiling_cpu_s": (r.get("run") or {}).get("cpu_s"), "detail": r.get("detail", "")[:200]})
    out["ceiling_recheck"] = {"timeouts_rechecked": len(recheck), "timeouts_total": len(timed_out),
                              "control_rechecked": len(control), "seconds": round(time.monotonic() - t0, 1),
                              "verdict_differences": changed,
                              "timeouts_by_kind": dict(Counter(kind[(r["task_id"], r["sample_index"])] for r in recheck))}
    print(f"ceiling recheck: {len(recheck)} policy timeouts + {len(control)} control programs under flat "
          f"{limits.CEILING:g} s: {len(changed)} verdict differences")
    for c in changed:
        print("  ", c)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")


def combine(paths, json_out):
    """One summary from per-language runs of this script: seconds, samples, verdicts and the naive
    extrapolation add up; programs/s and ratios are recomputed from the sums."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    out = {"parts": [str(p) for p in paths], "samples": sum(d["samples"] for d in parts),
           "per_problem": sorted({d["per_problem"] for d in parts}), "images": {}, "distinct_programs": {},
           "kinds": Counter(), "policy": parts[0].get("policy")}
    fast = {"seconds": 0.0, "executed": 0, "seconds_per_language": {}, "statuses": Counter(),
            "distinct_timeouts": 0, "timeout_cpu_limit_s": 0.0}
    naive = {"sampled": 0, "seconds_sampled": 0.0, "seconds_extrapolated": 0.0, "per_language": {},
             "verdict_differences_vs_fast": []}
    recheck = {"timeouts_rechecked": 0, "timeouts_total": 0, "control_rechecked": 0, "seconds": 0.0,
               "verdict_differences": [], "timeouts_by_kind": Counter()}
    for d in parts:
        for k in ("images", "distinct_programs"):
            out[k].update(d[k])
        out["kinds"].update(d["kinds"])
        f = d["fast"]
        for k in ("seconds", "executed", "distinct_timeouts", "timeout_cpu_limit_s"):
            fast[k] += f[k]
        fast["seconds_per_language"].update(f["seconds_per_language"])
        fast["statuses"].update(f["statuses"])
        if "naive" in d:
            n = d["naive"]
            naive["fraction"] = n["fraction"]
            for k in ("sampled", "seconds_sampled", "seconds_extrapolated"):
                naive[k] += n[k]
            naive["per_language"].update(n["per_language"])
            naive["verdict_differences_vs_fast"] += n["verdict_differences_vs_fast"]
        c = d["ceiling_recheck"]
        for k in ("timeouts_rechecked", "timeouts_total", "control_rechecked", "seconds"):
            recheck[k] += c[k]
        recheck["verdict_differences"] += c["verdict_differences"]
        recheck["timeouts_by_kind"].update(c["timeouts_by_kind"])
    fast["seconds"] = round(fast["seconds"], 1)
    fast["programs_per_s"] = round(out["samples"] / fast["seconds"], 2)
    out["fast"] = fast
    if naive["sampled"]:
        naive["ratio"] = round(naive["seconds_extrapolated"] / fast["seconds"], 2)
        out["naive"] = naive
    out["ceiling_recheck"] = recheck
    print(f"{out['samples']} samples: fast+policy {fast['seconds']:.1f} s, {fast['programs_per_s']} programs/s, "
          f"per language {fast['seconds_per_language']}, {fast['distinct_timeouts']} distinct timeouts "
          f"({fast['timeout_cpu_limit_s']:.0f} CPU s of limits)")
    if naive["sampled"]:
        print(f"naive extrapolated {naive['seconds_extrapolated']:.0f} s: {naive['ratio']}x; per language " +
              ", ".join(f"{l} {v['ratio']}x" for l, v in naive["per_language"].items()) +
              f"; {len(naive['verdict_differences_vs_fast'])} verdict differences")
    print(f"ceiling recheck: {recheck['timeouts_rechecked']} of {recheck['timeouts_total']} timeouts + "
          f"{recheck['control_rechecked']} control: {len(recheck['verdict_differences'])} verdict differences")
    if json_out:
        Path(json_out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
