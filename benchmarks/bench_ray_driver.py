"""The Ray path's costs on this machine.

    HUMANEVAL_X_DATA=../shared/humaneval-x python benchmarks/bench_ray_driver.py [--programs 20000] [--ray ADDRESS]
    HUMANEVAL_X_DATA=../shared/humaneval-x python benchmarks/bench_ray_driver.py --overhead [--languages python,js]

Default: the driver alone. Executors that answer instantly (``InstantExecutor``: the
``NodeExecutor`` interface, no sandbox) on a local two-node cluster (loopback, one CPU each, or the
cluster at --ray), fed distinct programs of real size (canonical solutions, each made unique); the
driver does everything it does in a real run (dedupe, requests, chunks, Ray calls, result records,
one JSONL line per result, optionally the results cache). Prints programs/s and the driver's CPU
microseconds per program, per chunk size: the driver's throughput limit.

--overhead: the canonical solutions of --languages (real Docker, cache off) executed by the local
``Executor`` and by ``RayExecutor`` with the same number of sandboxes (2: two nodes x one slot vs
--workers 2); prints both wall times and the ratio. The cluster's own start is not counted (a
cluster outlives runs); the executors' start, image checks and sandbox starts are.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback cluster stays on loopback

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from humaneval_x.dataset import load_problems  # noqa: E402
from humaneval_x.execute import Executor, make_job  # noqa: E402
from humaneval_x.samples import Sample  # noqa: E402


class InstantExecutor:
    """A node executor that answers every program at once ("passed"): only the driver and Ray remain."""

    def __init__(self, workers, limits=None, sandbox_factory=None):
        self.workers = max(1, int(workers))

    def describe(self):
        return {"workers": self.workers}

    def images(self, wanted):
        return {lang: w.get("id") for lang, w in wanted.items()}

    def run_chunk(self, lang, requests):
        return {"results": [(r["id"], {"id": r["id"], "status": "passed", "stage": "run", "detail": ""})
                            for r in requests], "replacements": 0}

    def release(self, lang):
        pass

    def shutdown(self):
        pass


def start_cluster():
    import ray
    from ray.cluster_utils import Cluster
    node = dict(num_cpus=1, node_ip_address="127.0.0.1", include_dashboard=False, object_store_memory=200 * 2 ** 20)
    c = Cluster(initialize_head=True, head_node_args=dict(node))
    c.add_node(**node)
    ray.init(address=c.address, log_to_driver=False, logging_level="warning")
    c.wait_for_nodes()
    return c


def synthetic_jobs(problems, n):
    """``n`` distinct programs of real size: canonical solutions with a unique trailing comment."""
    base = [p for p in problems.values()]
    jobs = []
    for i in range(n):
        p = base[i % len(base)]
        mark = "#" if p.language == "python" else "//"
        jobs.append(make_job(Sample(p.task_id, i // len(base), p.canonical_solution + f"\n{mark} variant {i}\n"),
                             p, clean=False))
    return jobs


def driver(args, address):
    from humaneval_x.distributed import ray_executor
    from humaneval_x.jsonl import JsonlAppender
    from humaneval_x.result_cache import ResultCache

    problems = load_problems(["python", "js"], data_dir=args.data_dir)
    jobs = synthetic_jobs(problems, args.programs)
    size = sum(len(j.program) for j in jobs) / len(jobs)
    print(f"driver alone: {len(jobs)} distinct programs (mean {size:.0f} bytes), instant executors, "
          f"{args.slots} slots per node, "
          f"{'cluster ' + args.ray if args.ray else 'local 2-node cluster (1 CPU each)'}")
    print(f"{'chunk':>8}{'cache':>7}{'wall s':>9}{'programs/s':>12}{'driver CPU us/program':>24}")
    rows = []
    for chunk in args.chunks:
        for cache in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                ex = ray_executor.RayExecutor(address, workers=args.slots, cache=ResultCache(os.path.join(tmp, "c.sqlite")) if cache else None,
                                              executor_cls=InstantExecutor, log=lambda *a: None)
                if chunk != "auto":
                    ex.chunk_size = lambda lang, n, k=int(chunk): k
                n = [0]
                with JsonlAppender(os.path.join(tmp, "results.jsonl")) as out:
                    def store(rec):
                        out.write(rec)
                        n[0] += 1
                    c0, t0 = time.process_time(), time.perf_counter()
                    ex.run(jobs, store)
                    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                assert n[0] == len(jobs)
                rows.append({"chunk": chunk, "cache": cache, "wall_s": round(wall, 2),
                             "programs_per_s": round(len(jobs) / wall), "driver_cpu_us": round(1e6 * cpu / len(jobs)),
                             "chunks": ex.stats["chunks"]})
                r = rows[-1]
                print(f"{chunk:>8}{'on' if cache else 'off':>7}{wall:>9.2f}{r['programs_per_s']:>12}"
                      f"{r['driver_cpu_us']:>24}")
    return rows


def overhead(args, address):
    from humaneval_x.distributed.ray_executor import RayExecutor

    langs = args.languages.split(",")
    problems = load_problems(langs, data_dir=args.data_dir)
    jobs = [make_job(Sample(t, 0, p.canonical_solution), p, clean=False) for t, p in problems.items()]
    out = {}
    for name, make in (("local", lambda: Executor(workers=2)), ("ray", lambda: RayExecutor(address, log=lambda *a: None)),
                       ("local2", lambda: Executor(workers=2)), ("ray2", lambda: RayExecutor(address, log=lambda *a: None))):
        got = {}
        t0 = time.perf_counter()
        make().run(jobs, lambda r: got.__setitem__(r["task_id"], r["status"]))
        out[name] = {"wall_s": round(time.perf_counter() - t0, 1),
                     "passed": sum(s == "passed" for s in got.values()), "programs": len(got)}
        print(f"{name:<8}{out[name]['wall_s']:>8} s  {out[name]['passed']}/{out[name]['programs']} passed", flush=True)
    local = (out["local"]["wall_s"] + out["local2"]["wall_s"]) / 2
    ray_ = (out["ray"]["wall_s"] + out["ray2"]["wall_s"]) / 2
    print(f"canonical {args.languages} ({len(jobs)} programs), 2 sandboxes each way: local {local:.1f} s, "
          f"Ray {ray_:.1f} s: overhead {100 * (ray_ / local - 1):+.1f}% (mean of two runs each, interleaved)")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--programs", type=int, default=20000)
    ap.add_argument("--chunks", default="1,4,16,auto", help="chunk sizes to measure (auto: the executor's own)")
    ap.add_argument("--slots", type=int, default=16, help="sandbox slots per node the instant executors claim "
                    "(in flight: 2 chunks per slot)")
    ap.add_argument("--ray", default=None, help="an existing cluster (default: start a local 2-node one)")
    ap.add_argument("--overhead", action="store_true", help="Ray vs local on the canonical set (real Docker)")
    ap.add_argument("--languages", default="python,js")
    ap.add_argument("--data-dir", default=os.environ.get("HUMANEVAL_X_DATA"))
    ap.add_argument("--json", default=None, help="also write the numbers here")
    args = ap.parse_args()
    args.chunks = args.chunks.split(",")
    os.environ.setdefault("HUMANEVAL_X_CACHE", tempfile.mkdtemp(prefix="hx-bench-cache-"))
    cluster = None
    if args.ray:
        from humaneval_x.distributed import connect
        connect(args.ray)
        address = args.ray
    else:
        cluster = start_cluster()
        address = cluster.address
    try:
        result = overhead(args, address) if args.overhead else driver(args, address)
    finally:
        import ray
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
