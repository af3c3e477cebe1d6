#!/usr/bin/env python3
"""Load on the judge service (``humaneval-x serve``), all on 127.0.0.1, bounded in time and count, then
``evaluate-samples`` on exactly the samples sent, back to back on the same machine.

- A pool of samples from the realistic mix (benchmarks/make_mix.py): ``--per-language`` problems of each
  language (a random draw), ``--per-problem`` samples of each (the mix's first ones: a random draw of its
  200), shuffled. Their reference times (time limits) are measured first, outside the timing.
- ``--clients`` threads each send POST /v1/judge with 1-8 samples (uniform) taken from the pool, each
  batch with a request id of its own (the client retries with the same id), until ``--seconds`` pass or
  the pool runs out. Every sample is sent once: sent = returned is checked sample by sample (lost,
  doubled, out of order), and so are verdicts and digests against evaluate-samples on the same samples.
- ``--kill N``: N worker containers of the server are killed (``docker kill``) during the run, evenly
  spread, each one that is running a program at that moment.

    HUMANEVAL_X_DATA=../shared/humaneval-x python benchmarks/bench_serve.py --mix /tmp/mix.jsonl.gz \
        --seconds 120 [--kill 2] --json benchmarks/results/serve-load-2core.json
"""
import argparse
import gzip
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from humaneval_x.serve.client import JudgeClient, JudgeError  # noqa: E402


def read_mix(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def pick_pool(mix, per_language, per_problem, seed):
    rng = random.Random(seed)
    by_task = {}
    for rec in mix:
        by_task.setdefault(rec["task_id"], []).append(rec)
    by_lang = {}
    for task in by_task:
        by_lang.setdefault(task.split("/")[0], []).append(task)
    pool = []
    for lang, tasks in sorted(by_lang.items()):
        for task in rng.sample(sorted(tasks), min(per_language, len(tasks))):
            pool += [{k: r[k] for k in ("task_id", "sample_index", "generation")} for r in by_task[task][:per_problem]]
    rng.shuffle(pool)
    return pool


def measure_limits(pool, data_dir, workers):
    """Reference times of the pool's problems (the time-limit policy), before any timing."""
    from humaneval_x.dataset import DEFAULT_VARIANT, load_problems
    from humaneval_x.limits import LimitPolicy
    from humaneval_x.reference_times import measurer, resolve
    problems = load_problems(None, data_dir=data_dir, variant=DEFAULT_VARIANT)
    t0 = time.monotonic()
    resolve(LimitPolicy(), {s["task_id"] for s in pool}, problems, measurer(None, workers), log=print)
    return round(time.monotonic() - t0, 1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir, workers, log_path):
    port = free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "humaneval_x.cli", "serve", "--port", str(port), "--workers",
                             str(workers), "--nocache", "--data-dir", data_dir], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        if proc.poll() is not None:
            raise SystemExit(f"server exited {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if json.loads(r.read())["status"] == "ok":
                    return proc, url, round(time.monotonic() - t0, 1)
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not become ready")


def busy_workers(pid):
    """Worker containers of the server with a program running in them now (a process besides the runner's)."""
    import docker
    client = docker.from_env()
    host = socket.gethostname()
    out = []
    for c in client.containers.list(filters={"label": "org.humaneval-x.worker"}):
        if not c.labels.get("org.humaneval-x.owner", "").startswith(f"{host}:{pid}:"):
            continue
        try:
            procs = c.top(ps_args="-e -o pid,comm").get("Processes") or []
        except Exception:  # noqa: BLE001 - gone meanwhile
            continue
        if len(procs) > 6:  # init, sleep, runner, zygote (+ a compile server): more means a program runs
            out.append(c)
    return out


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 3)


def load(url, pool, clients, seconds, pid, kills, seed):
    rng = random.Random(seed)
    lock = threading.Lock()
    cursor = [0]
    sent, answers, latencies, errors = [], {}, [], []
    killed = []
    t_start = time.monotonic()
    stop_at = t_start + seconds

    def take():
        with lock:
            n = rng.randint(1, 8)
            batch = pool[cursor[0]:cursor[0] + n]
            cursor[0] += len(batch)
            return batch

    def client_loop():
        client = JudgeClient(url, max_retries=12, timeout=600)
        while time.monotonic() < stop_at:
            batch = take()
            if not batch:
                return
            rid = uuid.uuid4().hex
            with lock:
                sent.append((rid, batch))
            t0 = time.monotonic()
            try:
                answer = client.judge_batch(batch, request_id=rid, compact=True)
            except JudgeError as exc:
                with lock:
                    errors.append(f"{rid}: {exc}")
                continue
            with lock:
                latencies.append(time.monotonic() - t0)
                answers.setdefault(rid, []).append(answer["results"])

    def killer():
        for k in range(kills):
            when = t_start + seconds * (k + 1) / (kills + 1)
            while time.monotonic() < when:
                time.sleep(0.2)
            for _ in range(50):
                busy = busy_workers(pid)
                if busy:
                    victim = random.choice(busy)
                    victim.kill()
                    killed.append({"at_s": round(time.monotonic() - t_start, 1), "container": victim.name,
                                   "language": victim.labels.get("org.humaneval-x.worker")})
                    print(f"killed {victim.name} at {killed[-1]['at_s']} s", flush=True)
                    break
                time.sleep(0.2)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    if kills:
        threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t_start
    return sent, answers, latencies, errors, killed, wall


def check(sent, answers):
    """Sample by sample: every sent sample answered exactly once, in order."""
    lost = doubled = misordered = 0
    results = []
    for rid, batch in sent:
        got = answers.get(rid, [])
        if not got:
            lost += len(batch)
            continue
        if len(got) > 1:
            doubled += len(batch) * (len(got) - 1)
        res = got[0]
        if len(res) != len(batch):
            lost += max(0, len(batch) - len(res))
        for s, r in zip(batch, res):
            if (r["task_id"], r["sample_index"]) != (s["task_id"], s["sample_index"]):
                misordered += 1
            results.append((s, r))
    return lost, doubled, misordered, results


def run_cli(samples, data_dir, workers, tmp):
    path = Path(tmp) / "sent.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in samples))
    out = Path(tmp) / "cli"
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "humaneval_x.cli", "evaluate-samples", str(path), "--output-dir",
                        str(out), "--nocache", "--workers", str(workers), "--data-dir", data_dir, "--progress", "false"],
                       cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - t0
    if p.returncode not in (0, 3):
        raise SystemExit(f"evaluate-samples failed ({p.returncode}): {p.stderr[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    recs = {(r["task_id"], r["sample_index"]): r for r in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    return recs, wall, summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mix", required=True)
    ap.add_argument("--data-dir", default=os.environ.get("HUMANEVAL_X_DATA"))
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--per-language", type=int, default=40)
    ap.add_argument("--per-problem", type=int, default=10)
    ap.add_argument("--kill", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if not a.data_dir:
        raise SystemExit("--data-dir or HUMANEVAL_X_DATA")
    pool = pick_pool(read_mix(a.mix), a.per_language, a.per_problem, a.seed)
    print(f"pool: {len(pool)} samples of {len({s['task_id'] for s in pool})} problems", flush=True)
    measured_s = measure_limits(pool, a.data_dir, a.workers)
    tmp = tempfile.mkdtemp(prefix="hx-bench-serve-")
    proc, url, ready_s = start_server(a.data_dir, a.workers, Path(tmp) / "server.log")
    try:
        sent, answers, latencies, errors, killed, wall = load(url, pool, a.clients, a.seconds, proc.pid, a.kill, a.seed)
        metrics = JudgeClient(url).metrics()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            server_exit = proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            server_exit = "killed"
    lost, doubled, misordered, results = check(sent, answers)
    n_sent = sum(len(b) for _, b in sent)
    n_returned = sum(len(v[0]) for v in answers.values() if v)
    statuses = Counter(r["status"] for _, r in results)
    print(f"load: {n_sent} samples sent in {len(sent)} requests, {n_returned} returned, lost {lost}, doubled "
          f"{doubled}, misordered {misordered}, client errors {len(errors)}; {wall:.1f} s", flush=True)
    # evaluate-samples on exactly the samples sent, back to back
    cli, cli_wall, summary = run_cli([s for _, b in sent for s in b], a.data_dir, a.workers, tmp)
    differ = [(s["task_id"], s["sample_index"], r["status"], cli[(s["task_id"], s["sample_index"])]["status"])
              for s, r in results
              if (r["status"], r["digest"]) != (cli[(s["task_id"], s["sample_index"])]["status"],
                                                cli[(s["task_id"], s["sample_index"])]["digest"])]
    out = {
        "machine": f"{os.cpu_count()} cores", "clients": a.clients, "seconds_asked": a.seconds, "workers": a.workers,
        "batch_sizes": "1-8 uniform", "pool": {"samples": len(pool), "per_language": a.per_language,
                                               "per_problem": a.per_problem, "seed": a.seed},
        "reference_times_measured_s": measured_s, "server_ready_s": ready_s,
        "load": {"wall_s": round(wall, 1), "requests": len(sent), "samples_sent": n_sent, "results_returned": n_returned,
                 "lost": lost, "doubled": doubled, "misordered": misordered, "client_errors": errors[:10],
                 "latency_s": {"p50": pct(latencies, 0.5), "p95": pct(latencies, 0.95), "p99": pct(latencies, 0.99),
                               "mean": round(statistics.mean(latencies), 3) if latencies else None,
                               "max": round(max(latencies), 3) if latencies else None},
                 "samples_per_s": round(n_returned / wall, 2),
                 "programs_executed": metrics.get("executed"),
                 "statuses": dict(statuses), "harness_errors": statuses.get("harness_error", 0),
                 "workers_killed": killed, "server_metrics": metrics, "server_exit": server_exit,
                 "client_retries": None},
        "cli": {"wall_s": round(cli_wall, 1), "execution_s": summary.get("execution_seconds"),
                "samples_per_s_wall": round(n_sent / cli_wall, 2),
                "samples_per_s_execution": round(n_sent / summary["execution_seconds"], 2) if summary.get("execution_seconds") else None,
                "programs_executed": summary.get("programs_executed"), "harness_errors": summary.get("harness_errors")},
        "verdicts_differ": len(differ), "differences": differ[:20],
    }
    out["service_over_cli_samples_per_s"] = round(out["load"]["samples_per_s"] / out["cli"]["samples_per_s_wall"], 3)
    print(json.dumps({k: v for k, v in out.items() if k != "load"} | {"load": {k: v for k, v in out["load"].items()
                                                                              if k != "server_metrics"}}, indent=1))
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
    ok = (lost == doubled == misordered == 0 and not errors and not differ and n_sent == n_returned
          and statuses.get("harness_error", 0) == 0)
    print("OK" if ok else "FAILED: see above")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
