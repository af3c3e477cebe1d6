#!/usr/bin/env python3
"""Programs of the near-miss set (make_near_miss.py) whose verdict differs between runs of it.

    python benchmarks/near_miss_flips.py NEAR_MISS.jsonl RUN_DIR [RUN_DIR ...] [--json OUT] [--times KINDS]

Each RUN_DIR is an evaluate-samples output folder (``--nocache``, same settings). A program is one
(task_id, sample_index) of the set; it flips when its status differs between the runs (a pass/fail flip
when it passed in some and not in others). Printed per kind and language, with every flipping program.
"""
import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path


def results(run_dir):
    out = {}
    for line in (Path(run_dir) / "results.jsonl").read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            out[(r["task_id"], r["sample_index"])] = r
    return out


def times(result):
    """A result's status with its run's times: user CPU (what the CPU limit counts, where the runner
    reports it), user + system CPU, wall."""
    run = result.get("run") or {}
    return [result["status"], run.get("user_s"), run.get("cpu_s"), run.get("wall_s")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("near_miss")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--json", default=None)
    ap.add_argument("--times", default="memory",
                    help="kinds whose every run's [status, user_s, cpu_s, wall_s] the JSON lists (comma-separated)")
    a = ap.parse_args()
    kinds = {}
    for line in Path(a.near_miss).read_text().splitlines():
        r = json.loads(line)
        kinds[(r["task_id"], r["sample_index"])] = r["kind"]
    full = [results(d) for d in a.runs]
    runs = [{k: r["status"] for k, r in run.items()} for run in full]
    timed = {}
    flips, pass_fail = [], Counter()
    per_kind = defaultdict(Counter)
    for key, kind in sorted(kinds.items(), key=lambda kv: (kv[0][0].split("/")[0], int(kv[0][0].split("/")[1]), kv[0][1])):
        seen = [run.get(key, "missing") for run in runs]
        per_kind[kind]["programs"] += 1
        if kind in a.times.split(","):
            timed["%s#%d" % key] = [times(run[key]) if key in run else None for run in full]
        if len(set(seen)) > 1:
            pf = "passed" in seen
            flips.append({"task_id": key[0], "sample_index": key[1], "kind": kind, "statuses": seen, "pass_fail": pf})
            per_kind[kind]["pass_fail_flips" if pf else "status_flips"] += 1
    summary = {"runs": [str(d) for d in a.runs], "programs": len(kinds),
               "flipped": len(flips), "pass_fail_flips": sum(f["pass_fail"] for f in flips),
               "status_only_flips": sum(not f["pass_fail"] for f in flips),
               "by_kind": {k: dict(v) for k, v in sorted(per_kind.items())},
               "by_language": dict(Counter(f["task_id"].split("/")[0] for f in flips)),
               "status_counts": [dict(Counter(r.values())) for r in runs], "flips": flips,
               "times": {"kinds": a.times.split(","), "fields": ["status", "user_s", "cpu_s", "wall_s"], "programs": timed}}
    print(f"{summary['programs']} programs x {len(runs)} runs: {summary['flipped']} flipped "
          f"({summary['pass_fail_flips']} pass/fail, {summary['status_only_flips']} status only)")
    for k, v in summary["by_kind"].items():
        print(f"  {k:<13} {dict(v)}")
    for f in flips:
        print(f"  FLIP {f['task_id']}#{f['sample_index']} [{f['kind']}]: {' '.join(f['statuses'])}")
    if a.json:
        Path(a.json).write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
