"""Issue 29's must-hold, measured: hostile samples mixed with correct and wrong neighbours.

Runs ``humaneval-x evaluate-samples --nocache`` three times: the neighbours alone (8 problems per
language, canonical and wrong), the same with the hostile samples added (host-side bombs: runs of
stars and ampersands, thousands of Go struct lines and JavaScript functions, a Java class header
with a comment, a Go sample shadowing `math`, a C++ sample switching off assert, an unclosed
<think> per line, a Go raw string of newlines), and the mixed run again, sent SIGTERM after
``--term-after`` seconds. Prints JSON: the seconds of each run, its exit status, every neighbour
judged as expected, and the sandbox containers left after the SIGTERM.

    python benchmarks/bench_hostile_mix.py [--workers 2] [--out benchmarks/results/hostile-mix.json]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from humaneval_x.dataset import load_problems

LANGS = (("python", "Python"), ("cpp", "CPP"), ("java", "Java"), ("js", "JavaScript"), ("go", "Go"))
WRONG = {"python": "    return None\n", "cpp": "    return {};\n}\n", "java": "        return null;\n    }\n}\n",
         "js": "  return null;\n}\n", "go": "    panic(\"no\")\n}\n"}
GO_F = "func HasCloseElements(numbers []float64, threshold float64) bool {\n    return false\n}\n"


def samples(problems):
    """(neighbours with the status each must get, hostile samples)."""
    neighbours = []
    for lang, prefix in LANGS:
        for i in range(8):
            tid = f"{prefix}/{i}"
            neighbours.append(({"task_id": tid, "generation": problems[tid].canonical_solution}, "passed"))
            neighbours.append(({"task_id": tid, "generation": WRONG[lang]}, "not passed"))
    hostile = [
        {"task_id": "CPP/0", "generation": "    int " + "*" * 60 + "hx{nullptr};\n    return false;\n}\n"},
        {"task_id": "CPP/0", "generation": "    return false;\n#define _ASSERT_H_DECLS\n#define __assert_fail(...) ((void)0)\n}\n"},
        {"task_id": "Java/0", "generation": "        " + "a&" * 60 + "a {\n        return false;\n    }\n}\n"},
        {"task_id": "Java/10", "generation": "class /* the solution */ Solution {\n    public String makePalindrome(String string) {\n"
                                            + problems["Java/10"].canonical_solution},
        {"task_id": "Go/0", "generation": GO_F + "var _ struct{}\n" * 30000},
        {"task_id": "Go/2", "generation": "func TruncateNumber(number float64) float64 {\n    return 0.5\n}\n\n"
                                          "var math = struct{ Abs func(float64) float64 }{func(float64) float64 { return 0 }}\n"},
        {"task_id": "Go/1", "generation": "    x := `" + "\n" * 200000 + "`\n    _ = x\n    return nil\n}\n"},
        {"task_id": "JavaScript/0", "generation": "function hasCloseElements(numbers, threshold) {\n  return false;\n}\n"
                                                  + "function f(" * 60000 + " {\n}\n"},
        {"task_id": "Python/1", "generation": "<think>```\n" * 50000},
    ]
    return neighbours, hostile


def _write(path: Path, records):
    with open(path, "w") as f:
        for i, rec in enumerate(records):
            f.write(json.dumps(dict(rec, sample_index=100 + i)) + "\n")


def _containers(pid: int) -> int:
    """Worker containers still running that the harness process ``pid`` started (its owner label)."""
    out = subprocess.run(["docker", "ps", "--filter", "label=org.humaneval-x.worker", "--format",
                          '{{.Label "org.humaneval-x.owner"}}'], capture_output=True, text=True).stdout
    return sum(1 for owner in out.split() if owner.split(":")[1:2] == [str(pid)])


def run(path: Path, out_dir: Path, workers: int, term_after=None):
    cmd = [sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", str(path), "--output-dir", str(out_dir),
           "--workers", str(workers), "--progress", "false", "--nocache"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if term_after is not None:
        time.sleep(term_after)
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate()
    return proc.returncode, round(time.monotonic() - t0, 1), err.strip().splitlines()[-1:] if err else [], proc.pid


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--term-after", type=float, default=15.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    problems = load_problems([lang for lang, _ in LANGS])
    neighbours, hostile = samples(problems)
    tmp = Path(tempfile.mkdtemp(prefix="hx-hostile-mix-"))
    _write(tmp / "neighbours.jsonl", [r for r, _ in neighbours])
    _write(tmp / "mixed.jsonl", [r for r, _ in neighbours] + hostile)
    expect = {(r["task_id"], 100 + i): want for i, (r, want) in enumerate(neighbours)}
    report = {"neighbours": len(neighbours), "hostile": len(hostile), "workers": args.workers,
              "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    for name, path in (("neighbours_alone", tmp / "neighbours.jsonl"), ("mixed", tmp / "mixed.jsonl")):
        rc, seconds, err, _ = run(path, tmp / name, args.workers)
        results = [json.loads(line) for line in open(tmp / name / "results.jsonl")] if rc in (0, 3) else []
        wrong = [(r["task_id"], r["sample_index"], r["status"]) for r in results
                 if (r["task_id"], r["sample_index"]) in expect
                 and (r["status"] == "passed") != (expect[(r["task_id"], r["sample_index"])] == "passed")]
        report[name] = {"exit": rc, "seconds": seconds, "results": len(results), "neighbours_misjudged": wrong,
                        "hostile_statuses": sorted((r["task_id"], r["status"]) for r in results
                                                   if (r["task_id"], r["sample_index"]) not in expect),
                        "stderr_tail": err}
    rc, seconds, err, pid = run(tmp / "mixed.jsonl", tmp / "terminated", args.workers, term_after=args.term_after)
    time.sleep(3)
    report["sigterm"] = {"after_s": args.term_after, "exit": rc, "seconds": seconds,
                         "its_containers_left_3s_later": _containers(pid), "stderr_tail": err}
    report["load_after"] = os.getloadavg()[0]
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
