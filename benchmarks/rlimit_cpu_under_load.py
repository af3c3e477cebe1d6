#!/usr/bin/env python3
"""How much CPU time wait4 reports for a process the kernel killed at its RLIMIT_CPU, on this machine now.

The kernel compares tick-sampled CPU time with the limit; wait4 reports the precise time. Under load a
busy process is sampled more often than it runs, and is killed with less precise CPU time than the limit:
the reason runners/hxrunner/waits.py calls a SIGKILL without an OOM kill after half the CPU limit the CPU
limit (the old rule, "limit - 0.5 s", judged endless loops on a loaded machine "killed by signal 9").

    python benchmarks/rlimit_cpu_under_load.py [--limit 2] [--trials 6] [--json OUT]
"""
import argparse
import json
import os
import resource


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=2)
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    runs = []
    for _ in range(a.trials):
        pid = os.fork()
        if pid == 0:
            resource.setrlimit(resource.RLIMIT_CPU, (a.limit, a.limit))
            while True:
                pass
        _, status, ru = os.wait4(pid, 0)
        runs.append({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                     "cpu_s": round(ru.ru_utime + ru.ru_stime, 3)})
    out = {"rlimit_cpu_s": a.limit, "load": open("/proc/loadavg").read().split()[:3], "runs": runs,
           "shortest_cpu_s": min(r["cpu_s"] for r in runs)}
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
