"""Reference times: each problem's canonical solution's CPU time, measured in the run's sandbox image and
mode, from which the ``reference`` time-limit policy (humaneval_x/limits.py) sets the problem's limit.

Callers resolve a run's limits here before they build its executor: ``resolve(policy, task ids,
problems, measurer(...))`` gives the ``ResolvedLimits`` the executor is handed. The measuring executor
comes from the caller (``measurer``: the run's sandboxes, the measuring limits, no results cache).

Reference times are measured once per image, on first use, and kept with the image's identity in
``~/.cache/humaneval-x/reference-times/<image id>.json``; entries are keyed by the assembled
canonical program's hash and the execution mode, so a dataset variant that changes a canonical
solution is measured again. ``data/reference-times.json`` ships measured times: an entry whose
image id is the current image's is used without measuring (``python -m humaneval_x.reference_times
ship`` writes it from the cache).
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, Optional

from .dataset import DEFAULT_VARIANT, load_problems
from .errors import HarnessError
from .execute import Executor, make_job
from .languages import LANGUAGES, language_of_task, parse_languages
from .limits import REPETITIONS, LimitPolicy, ResolvedLimits, Timeouts
from .paths import DATA_DIR, user_cache_dir
from .samples import Sample
from .sandbox.images import image_tag

MEASURE = Timeouts(run_cpu=20.0, run_timeout=60.0)  # the limits the reference runs themselves get
FORMAT = 1
SHIPPED_FILE = DATA_DIR / "reference-times.json"


def reference_dir() -> Path:
    return user_cache_dir() / "reference-times"


def reference_path(image_id: str) -> Path:
    return reference_dir() / (image_id.replace(":", "_").replace("/", "_") + ".json")


def measurer(sandbox_factory=None, workers: Optional[int] = None, naive: bool = False) -> Executor:
    """The executor that measures reference times: the run's sandboxes and mode, the measuring limits, no
    results cache (every reference run is a fresh run)."""
    return Executor(sandbox_factory, workers, MEASURE, naive=naive)


def canonical_job(problem):
    return make_job(Sample(problem.task_id, 0, problem.canonical_solution), problem, clean=False)


def entry_key(job, naive: bool) -> str:
    return f"{'naive' if naive else 'fast'}:{job.sample.task_id}:{job.program_hash[:16]}"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if data.get("format") == FORMAT else {}
    except (OSError, ValueError):
        return {}


def shipped_entries(image_id: str, path: Path = None) -> dict:
    data = _read(path or SHIPPED_FILE)
    return (data.get("images") or {}).get(image_id, {}).get("entries", {})


def measure(problems: list, measurer: Executor, repetitions: int, log=None) -> Dict[str, dict]:
    """Run each problem's canonical solution ``repetitions`` times through ``measurer`` (one fresh run each);
    entry key -> {cpu_s: [...], wall_s: [...], status: [...]}."""
    jobs = [canonical_job(p) for p in problems]
    keys = {j.sample.task_id: entry_key(j, measurer.naive) for j in jobs}
    runs: Dict[str, dict] = defaultdict(lambda: {"cpu_s": [], "wall_s": [], "status": []})

    def take(rec):
        e = runs[keys[rec["task_id"]]]
        run = rec.get("run") or {}
        e["cpu_s"].append(run.get("cpu_s"))
        e["wall_s"].append(run.get("wall_s"))
        e["status"].append(rec["status"])

    t0 = time.monotonic()
    for _ in range(repetitions):
        measurer.run(jobs, take)
    if log:
        log(f"measured reference times of {len(jobs)} canonical solution(s) x {repetitions} in "
            f"{time.monotonic() - t0:.1f} s")
    images = {j.language: measurer.identities.get(j.language) for j in jobs}
    return {k: {**v, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "image": images} for k, v in runs.items()}


def reference_value(entry: Optional[dict]) -> Optional[float]:
    """The reference CPU time of an entry: the highest of its runs, if every run passed; else None."""
    if not entry or not entry.get("status") or any(s != "passed" for s in entry["status"]):
        return None
    cpus = entry.get("cpu_s") or []
    if not cpus or any(c is None for c in cpus):
        return None
    return max(cpus)


def resolve(policy: LimitPolicy, tasks: Iterable[str], problems: Dict[str, object], measurer: Executor,
            log=None) -> ResolvedLimits:
    """Per-problem limits for every task id of ``tasks``; measures (with ``measurer``) the reference times the
    cache lacks. Only the reference policy measures, or reads ``measurer``'s images."""
    res = ResolvedLimits(policy)
    tasks_by_lang: Dict[str, set] = defaultdict(set)
    for t in tasks:
        tasks_by_lang[language_of_task(t).name].add(t)
    if policy.kind != "reference":
        for lang, tids in tasks_by_lang.items():
            for t in tids:
                res.cpu[t] = policy.cpu_limit(None) if policy.kind == "flat" else LANGUAGES[lang].run_cpu
        return res
    for lang, tids in sorted(tasks_by_lang.items()):
        missing = [t for t in tids if t not in problems]
        if missing:
            raise HarnessError(f"time limits: no problem record for {missing[:3]}")
        image_id = measurer.image_id(lang) or "unknown-image"
        path = reference_path(image_id)
        stored = _read(path)
        entries = dict(stored.get("entries") or {})
        cjobs = {t: canonical_job(problems[t]) for t in tids}
        want = {t: entry_key(j, measurer.naive) for t, j in cjobs.items()}
        shipped = shipped_entries(image_id)
        from_shipped = {k: shipped[k] for k in want.values() if k not in entries and k in shipped}
        entries.update(from_shipped)
        todo = [problems[t] for t, k in sorted(want.items()) if k not in entries]
        measured = {}
        if todo:
            if log:
                log(f"time limits: measuring the {LANGUAGES[lang].display} reference times of {len(todo)} problem(s) "
                    f"on image {image_id[:19]} (once per image)")
            measured = measure(todo, measurer, policy.repetitions, log)
            entries.update(measured)
        if todo or from_shipped:
            _write_atomic(path, {"format": FORMAT, "image_id": image_id, "language": lang, "entries": entries})
        # the file relative to the user cache folder: summary.json travels (reports/), machine paths stay home
        res.sources[lang] = {"image_id": image_id, "file": f"{path.parent.name}/{path.name}",
                             "measured_now": len(measured),
                             "from_shipped": len(from_shipped),
                             "from_cache": len(want) - len(measured) - len(from_shipped)}
        for t, k in want.items():
            ref = reference_value(entries.get(k))
            res.reference_cpu[t] = None if ref is None else round(ref, 4)
            res.cpu[t] = policy.cpu_limit(ref)
    return res


def _write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def ship(out: Path = SHIPPED_FILE, languages=None) -> Path:
    """Copy the cached reference times of the current images (all of a language's problems measured)
    into the shipped file, with the images' tags."""
    import docker

    client = docker.from_env()
    data = _read(out) or {"format": FORMAT, "images": {}}
    data.setdefault("images", {})
    wanted = set(parse_languages(languages))
    for path in sorted(reference_dir().glob("*.json")):
        stored = _read(path)
        if stored.get("language") not in wanted or len(stored.get("entries") or {}) < 164:
            continue
        try:
            tags = client.images.get(stored["image_id"]).tags
        except docker.errors.ImageNotFound:
            continue
        if image_tag(stored["language"]) not in tags:  # only the images of today's recipes
            continue
        data["images"][stored["image_id"]] = {"language": stored["language"], "tags": tags, "entries": {
            k: {"cpu_s": e["cpu_s"], "status": e["status"]} for k, e in stored["entries"].items()}}
    _write_atomic(out, data)
    return out


def main(argv=None):  # python -m humaneval_x.reference_times measure [--languages L] | ship | show
    import argparse

    ap = argparse.ArgumentParser(prog="python -m humaneval_x.reference_times")
    ap.add_argument("action", choices=("measure", "ship", "show"))
    ap.add_argument("--languages", default=None)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--variant", default=DEFAULT_VARIANT)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repetitions", type=int, default=REPETITIONS)
    ap.add_argument("--naive", action="store_true")
    a = ap.parse_args(argv)
    langs = parse_languages(a.languages)
    if a.action == "ship":
        print(ship(languages=langs))
        return
    problems = load_problems(langs, data_dir=a.data_dir, variant=a.variant)
    res = resolve(LimitPolicy(repetitions=a.repetitions), problems, problems, measurer(None, a.workers, a.naive),
                  log=print)
    if a.action == "show" or a.action == "measure":
        print(json.dumps(res.summary(), indent=1))


if __name__ == "__main__":
    main()
