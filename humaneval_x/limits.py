"""Run time limits: each problem's CPU limit from its canonical solution's measured CPU time.

Policy ``reference`` (the default of the evaluate commands): a problem's run limit is

    clamp(ceil(FACTOR x reference CPU seconds), FLOOR, CEILING)        (whole CPU seconds)

where the reference is the canonical solution's CPU time measured in the same sandbox image and
mode (the highest of REPETITIONS runs). CPU time, not wall time, so a busy machine does not turn a
correct program into a timeout; whole seconds because the runner's RLIMIT_CPU is whole seconds.
The wall limit of a run is ``wall_for(cpu)`` (catches programs that sleep or block); compile
limits are the languages' own (60 s wall), apart from the run limits. ``flat`` gives every problem
the same CPU limit (``--time-limit S``); ``language`` is the languages' old defaults (10 s, Java 20 s).

Reference times are measured once per image, on first use, and kept with the image's identity in
``~/.cache/humaneval-x/reference-times/<image id>.json``; entries are keyed by the assembled
canonical program's hash and the execution mode, so a dataset variant that changes a canonical
solution is measured again. ``data/reference-times.json`` ships measured times: an entry whose
image id is the current image's is used without measuring (``python -m humaneval_x.limits ship``
writes it from the cache).
"""
from __future__ import annotations

import json
import math
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Optional

from .errors import HarnessError
from .paths import DATA_DIR, user_cache_dir

# Chosen from data measured on this project's 2-core machine (README "Measured", time limits):
FACTOR = 5.0        # limit >= 5x the reference's CPU time
FLOOR = 3.0         # no problem below 3 CPU seconds: >= 2.4x the slowest correct variant measured (1.26 s)
CEILING = 10.0      # no problem above 10 CPU seconds (the old default limit)
REPETITIONS = 3     # reference runs per problem; the highest counts
MEASURE_CPU = 20.0  # the limits the reference runs themselves get
MEASURE_WALL = 60.0
FORMAT = 1
SHIPPED_FILE = DATA_DIR / "reference-times.json"
KINDS = ("reference", "flat", "language")


def wall_for(cpu: float) -> float:
    """The wall limit of a run with this CPU limit: room for a loaded machine, and for programs that sleep."""
    return float(max(3 * cpu, cpu + 10))


def reference_dir() -> Path:
    return user_cache_dir() / "reference-times"


def reference_path(image_id: str) -> Path:
    return reference_dir() / (image_id.replace(":", "_").replace("/", "_") + ".json")


@dataclass(frozen=True)
class LimitPolicy:
    kind: str = "reference"                  # reference | flat | language
    factor: float = FACTOR
    floor: float = FLOOR
    ceiling: float = CEILING
    flat: Optional[float] = None             # kind == flat: every problem's CPU limit
    run_timeout: Optional[float] = None      # wall limit of every run (default: wall_for(cpu))
    compile_timeout: Optional[float] = None  # default: the language's own
    repetitions: int = REPETITIONS

    def __post_init__(self):
        if self.kind not in KINDS:
            raise HarnessError(f"time-limit policy must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.kind == "flat" and not (self.flat and self.flat > 0):
            raise HarnessError("a flat time limit needs a positive number of seconds")
        if self.kind == "reference" and not (0 < self.floor <= self.ceiling and self.factor > 0):
            raise HarnessError(f"time limits: need 0 < floor <= ceiling and factor > 0 "
                               f"(got factor {self.factor}, floor {self.floor}, ceiling {self.ceiling})")

    @classmethod
    def from_options(cls, time_limit: Optional[float] = None, run_cpu: Optional[float] = None,
                     run_timeout: Optional[float] = None, compile_timeout: Optional[float] = None) -> "LimitPolicy":
        """The command line's flags: --time-limit S (a flat CPU limit; --run-cpu S is the same, older
        name), --run-timeout (every run's wall limit), --compile-timeout; none of them: the reference policy.
        ``time_limit`` may also be a whole policy (``gate --run`` passes the baseline's, ``from_description``)."""
        if isinstance(time_limit, LimitPolicy):
            if (run_cpu, run_timeout, compile_timeout) != (None, None, None):
                raise HarnessError("a whole time-limit policy takes no --run-cpu, --run-timeout or --compile-timeout")
            return time_limit
        if time_limit is not None and run_cpu is not None and float(time_limit) != float(run_cpu):
            raise HarnessError(f"--time-limit {time_limit} and --run-cpu {run_cpu} disagree: they are the same "
                               "limit (CPU seconds of a run); give one")
        flat = time_limit if time_limit is not None else run_cpu
        if flat is not None:
            return cls(kind="flat", flat=float(flat), run_timeout=run_timeout, compile_timeout=compile_timeout)
        return cls(run_timeout=run_timeout, compile_timeout=compile_timeout)

    @classmethod
    def from_description(cls, d: dict) -> "LimitPolicy":
        """The policy a summary recorded (``describe``'s inverse), whatever its kind: ``gate --run`` repeats a
        baseline's. HarnessError (one line) when this version cannot make a policy that describes itself the same."""
        def seconds(key):
            v = d.get(key)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        kind = d.get("kind")
        runs = re.search(r">= (\d+) runs", str(d.get("reference", "")))
        try:
            policy = cls(kind=kind, factor=seconds("factor") or FACTOR, floor=seconds("floor_s") or FLOOR,
                         ceiling=seconds("ceiling_s") or CEILING, flat=seconds("cpu_s") if kind == "flat" else None,
                         run_timeout=seconds("run_timeout_s"), compile_timeout=seconds("compile_timeout_s"),
                         repetitions=int(runs.group(1)) if runs else REPETITIONS)
        except HarnessError as exc:
            raise HarnessError(f"the recorded time-limit policy {_policy_text(d)} cannot be repeated: {exc}") from None
        if policy.describe() != d:
            raise HarnessError(f"the recorded time-limit policy {_policy_text(d)} cannot be repeated by this version "
                               f"(it would run {_policy_text(policy.describe())})")
        return policy

    def text(self) -> str:
        return _policy_text(self.describe())

    def cpu_limit(self, reference_cpu: Optional[float]) -> float:
        """A problem's CPU limit (whole seconds) from its reference CPU time (None: not measurable: ceiling)."""
        if self.kind == "flat":
            return float(self.flat)
        if reference_cpu is None:
            return float(self.ceiling)
        return float(min(self.ceiling, max(self.floor, math.ceil(self.factor * reference_cpu))))

    def describe(self) -> dict:
        """What two runs must share to be compared (the gate checks it); per-problem limits are apart."""
        if self.kind == "flat":
            d = {"kind": "flat", "cpu_s": self.flat}
        elif self.kind == "language":
            d = {"kind": "language"}
        else:
            d = {"kind": "reference", "factor": self.factor, "floor_s": self.floor, "ceiling_s": self.ceiling,
                 "reference": f"highest CPU seconds of >= {self.repetitions} runs of the canonical solution, same image and mode"}
        d["run_timeout_s"] = self.run_timeout if self.run_timeout else ("language" if self.kind == "language"
                                                                        else "max(3 x cpu, cpu + 10)")
        d["compile_timeout_s"] = self.compile_timeout or "language"
        return d


@dataclass
class ResolvedLimits:
    """Per-problem limits of one run: what the executor asks for, and what the summary records."""
    policy: LimitPolicy
    cpu: Dict[str, float] = field(default_factory=dict)          # task_id -> CPU limit
    reference_cpu: Dict[str, Optional[float]] = field(default_factory=dict)
    sources: Dict[str, dict] = field(default_factory=dict)       # language -> where its references came from

    def timeouts(self, task_id: str, language: str):
        from .execute import Timeouts
        from .languages import LANGUAGES
        p = self.policy
        if p.kind == "language":
            return Timeouts(compile_timeout=p.compile_timeout, run_timeout=p.run_timeout)
        if task_id not in self.cpu:
            raise HarnessError(f"no time limit resolved for {task_id} (Executor.prepare was not given it)")
        cpu = self.cpu[task_id]
        return Timeouts(compile_timeout=p.compile_timeout or LANGUAGES[language].compile_timeout,
                        run_cpu=cpu, run_timeout=p.run_timeout or wall_for(cpu))

    def summary(self) -> dict:
        out = {"policy": self.policy.describe(), "limits_cpu_s": dict(sorted(self.cpu.items(), key=_task_order))}
        if self.policy.kind == "reference":
            out["reference_cpu_s"] = dict(sorted(self.reference_cpu.items(), key=_task_order))
            out["reference_sources"] = self.sources
        return out


def _task_order(kv):
    prefix, num = kv[0].split("/")
    return prefix, int(num)


def compare_time_limits(base: Optional[dict], cand: Optional[dict], base_timeouts: Optional[int] = None,
                        cand_timeouts: Optional[int] = None):
    """(refusal or None, warning or None) for gating two runs' summaries' ``time_limits`` records.

    Different policies (kind, factor, floor, ceiling, flat limit, wall or compile limits) are refused:
    a different limit can turn the same program into a timeout. Except where that cannot have happened
    (``bridged``): every limit of one run is at most the other's and that run had no timeout at all
    (``*_timeouts``: its count of `timeout` verdicts), so each of its programs ended within its limits
    and would have got the same verdict under the other's (a warning says so). Same policy with different
    per-problem limits (references measured on other machines or images) is a warning."""
    if not base or not cand:
        which = "baseline" if not base else "candidate"
        if not base and not cand:
            return None, None
        return None, (f"the {which} records no time-limit policy (made before policies were recorded); the "
                      f"other used {_policy_text((cand or base)['policy'])}: timeouts may differ between them")
    bp, cp = base.get("policy"), cand.get("policy")
    if bp != cp:
        bridge = bridged(base, cand, base_timeouts, cand_timeouts)
        if bridge:
            return None, bridge
        return (f"the runs used different time-limit policies: baseline {_policy_text(bp)}, candidate "
                f"{_policy_text(cp)}; a timeout under one may pass under the other, so they are not gated "
                "against each other (rerun the candidate under the baseline's policy: `gate --run` does, whatever its "
                "kind; --time-limit S gives a flat one)"), None
    bl, cl = base.get("limits_cpu_s") or {}, cand.get("limits_cpu_s") or {}
    diff = sorted(t for t in set(bl) & set(cl) if bl[t] != cl[t])
    if diff:
        return None, (f"same time-limit policy, but {len(diff)} problem(s) got different CPU limits (reference "
                      f"times measured on other images or machines), e.g. " +
                      ", ".join(f"{t} {bl[t]:g} s vs {cl[t]:g} s" for t in diff[:3]))
    return None, None


def _limit_triples(record: dict) -> Optional[Dict[str, tuple]]:
    """task_id -> (CPU, wall, compile) limits a run recorded (compile None: the language's own), or None
    where the record does not say them all."""
    from .languages import language_of_task
    policy, cpu = record.get("policy") or {}, record.get("limits_cpu_s")
    if policy.get("kind") not in ("reference", "flat") or not isinstance(cpu, dict) or not cpu:
        return None
    run, comp = policy.get("run_timeout_s"), policy.get("compile_timeout_s")
    if not (isinstance(run, (int, float)) or run == "max(3 x cpu, cpu + 10)"):
        return None
    if not (isinstance(comp, (int, float)) or comp == "language"):
        return None
    out = {}
    for task, c in cpu.items():
        if not isinstance(c, (int, float)):
            return None
        try:
            lang_compile = language_of_task(task).compile_timeout
        except Exception:
            return None
        out[task] = (float(c), float(run) if isinstance(run, (int, float)) else wall_for(c),
                     float(comp) if isinstance(comp, (int, float)) else lang_compile)
    return out


def bridged(base: dict, cand: dict, base_timeouts: Optional[int], cand_timeouts: Optional[int]) -> Optional[str]:
    """A warning when two different policies cannot have given the runs different verdicts: one run's CPU, wall
    and compile limits are each at most the other's, problem by problem, and that run had no timeout (so its
    programs ended within its limits, and within the other's larger ones); else None (refused)."""
    bl, cl = _limit_triples(base), _limit_triples(cand)
    if not bl or not cl or set(bl) != set(cl):
        return None
    for name, small, large, timeouts in (("baseline", bl, cl, base_timeouts), ("candidate", cl, bl, cand_timeouts)):
        if timeouts == 0 and all(s <= g for t in small for s, g in zip(small[t], large[t])):
            other = "candidate" if name == "baseline" else "baseline"
            return (f"the runs used different time-limit policies (baseline {_policy_text(base.get('policy'))}; "
                    f"candidate {_policy_text(cand.get('policy'))}), but every limit of the {name} is at most the "
                    f"{other}'s and the {name} had no timeout: its verdicts are those the {other}'s limits give")
    return None


def _policy_text(p: Optional[dict]) -> str:
    if not p:
        return "none recorded"
    return p.get("kind", "?") + " (" + ", ".join(f"{k} {v}" for k, v in p.items() if k != "kind") + ")"


# ------------------------------------------------------------------ reference times
def canonical_job(problem):
    from .execute import make_job
    from .samples import Sample
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


def measure(problems: list, sandbox_factory, workers: Optional[int], naive: bool, repetitions: int,
            log=None) -> Dict[str, dict]:
    """Run each problem's canonical solution ``repetitions`` times (one fresh run each, no cache);
    entry key -> {cpu_s: [...], wall_s: [...], status: [...]}."""
    from .execute import Executor, Timeouts
    jobs = [canonical_job(p) for p in problems]
    keys = {j.sample.task_id: entry_key(j, naive) for j in jobs}
    runs: Dict[str, dict] = defaultdict(lambda: {"cpu_s": [], "wall_s": [], "status": []})
    ex = Executor(sandbox_factory, workers, Timeouts(run_cpu=MEASURE_CPU, run_timeout=MEASURE_WALL), naive=naive)

    def take(rec):
        e = runs[keys[rec["task_id"]]]
        run = rec.get("run") or {}
        e["cpu_s"].append(run.get("cpu_s"))
        e["wall_s"].append(run.get("wall_s"))
        e["status"].append(rec["status"])

    t0 = time.monotonic()
    for _ in range(repetitions):
        ex.run(jobs, take)
    if log:
        log(f"measured reference times of {len(jobs)} canonical solution(s) x {repetitions} in "
            f"{time.monotonic() - t0:.1f} s")
    return {k: {**v, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "image": ex.identities} for k, v in runs.items()}


def reference_value(entry: Optional[dict]) -> Optional[float]:
    """The reference CPU time of an entry: the highest of its runs, if every run passed; else None."""
    if not entry or not entry.get("status") or any(s != "passed" for s in entry["status"]):
        return None
    cpus = entry.get("cpu_s") or []
    if not cpus or any(c is None for c in cpus):
        return None
    return max(cpus)


def resolve(policy: LimitPolicy, jobs: Iterable, problems: Dict[str, object], executor, log=None) -> ResolvedLimits:
    """Per-problem limits for every task of ``jobs``; measures the reference times the cache lacks."""
    res = ResolvedLimits(policy)
    tasks_by_lang: Dict[str, set] = defaultdict(set)
    for j in jobs:
        tasks_by_lang[j.language].add(j.sample.task_id)
    if policy.kind != "reference":
        from .languages import LANGUAGES
        for lang, tids in tasks_by_lang.items():
            for t in tids:
                res.cpu[t] = policy.cpu_limit(None) if policy.kind == "flat" else LANGUAGES[lang].run_cpu
        return res
    for lang, tids in sorted(tasks_by_lang.items()):
        missing = [t for t in tids if t not in problems]
        if missing:
            raise HarnessError(f"time limits: no problem record for {missing[:3]}")
        image_id = executor.image_id(lang) or "unknown-image"
        path = reference_path(image_id)
        stored = _read(path)
        entries = dict(stored.get("entries") or {})
        cjobs = {t: canonical_job(problems[t]) for t in tids}
        want = {t: entry_key(j, executor.naive) for t, j in cjobs.items()}
        shipped = shipped_entries(image_id)
        from_shipped = {k: shipped[k] for k in want.values() if k not in entries and k in shipped}
        entries.update(from_shipped)
        todo = [problems[t] for t, k in sorted(want.items()) if k not in entries]
        measured = {}
        if todo:
            if log:
                log(f"time limits: measuring the {LANG_DISPLAY(lang)} reference times of {len(todo)} problem(s) "
                    f"on image {image_id[:19]} (once per image)")
            measured = measure(todo, executor.sandbox_factory, executor.workers, executor.naive,
                               policy.repetitions, log)
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


def LANG_DISPLAY(lang: str) -> str:
    from .languages import LANGUAGES
    return LANGUAGES[lang].display


def _write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def ship(out: Path = SHIPPED_FILE, languages=None) -> Path:
    """Copy the cached reference times of the current images (all of a language's problems measured)
    into the shipped file, with the images' tags."""
    import docker

    from .sandbox.images import image_tag

    from .languages import parse_languages
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


def main(argv=None):  # python -m humaneval_x.limits measure [--languages L] | ship | show
    import argparse

    from .dataset import DEFAULT_VARIANT, load_problems
    from .execute import Executor
    from .languages import parse_languages
    ap = argparse.ArgumentParser(prog="python -m humaneval_x.limits")
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
    ex = Executor(workers=a.workers, naive=a.naive)
    jobs = [canonical_job(p) for p in problems.values()]
    res = resolve(LimitPolicy(repetitions=a.repetitions), jobs, problems, ex, log=print)
    if a.action == "show" or a.action == "measure":
        print(json.dumps(res.summary(), indent=1))


if __name__ == "__main__":
    main()
