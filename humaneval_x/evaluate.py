"""evaluate-samples: samples file -> results.jsonl + summary.json in an output folder (resumable)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, List, Optional

from . import reference_times
from .dataset import DEFAULT_VARIANT, Problem, load_problems, variant_settings
from .engines import make_executor
from .errors import HarnessError
from .execute import Executor, make_job
from .jsonl import JsonlAppender, read_jsonl, write_jsonl_atomic
from .languages import language_of_task
from .limits import LimitPolicy
from .metrics import DEFAULT_KS
from .samples import Sample, load_samples, sample_key
from .summary import format_table, summarize

from .run_options import RESUME_MODES, progress_disabled  # noqa: F401 - re-exported
from .runs import RESULTS_FILE, SUMMARY_FILE
from .sandbox.engine import require_docker

RUN_FILE = "run.json"


def open_cache(enabled: bool):
    from .result_cache import ResultCache
    return ResultCache() if enabled else None


def default_output_dir(samples_path) -> Path:
    p = Path(samples_path)
    name = p.name
    for ext in (".gz", ".jsonl", ".json"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return p.with_name(name + ".eval")


SUPERSEDED_FILE = "results.superseded.jsonl"
def _key(rec: dict) -> tuple:
    return sample_key(rec["task_id"], rec["sample_index"], rec.get("source_language"))


def stored_results(path: Path) -> List[dict]:
    """Every record of a results file, in file order (a torn last line is skipped)."""
    return [rec for _, rec in read_jsonl(path, strict=False)] if path.exists() else []


def load_results(path: Path, stored: Optional[List[dict]] = None) -> Dict[tuple, dict]:
    """Stored verdicts by sample key, the last one per key (harness errors are not kept: they are retried)."""
    out = {}
    for rec in stored_results(path) if stored is None else stored:
        if rec.get("status") != "harness_error":
            out[_key(rec)] = rec
        else:
            out.pop(_key(rec), None)
    return out


def check_run_identity(out_dir: Path, identity: dict) -> bool:
    """Refuse to mix results of a different dataset variant or cleaning into one folder.
    Returns True when this call made the folder's run.json (a new run)."""
    path = out_dir / RUN_FILE
    if path.exists():
        old = json.loads(path.read_text())
        diff = [k for k, v in identity.items() if old.get(k) != v]
        if diff:
            made = ", ".join(f"{k}={old.get(k)!r}" for k in diff)
            asks = ", ".join(f"{k}={identity[k]!r}" for k in diff)
            raise HarnessError(f"{out_dir} was made with {made}; this run asks for {asks}: "
                               "use another --output-dir")
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(identity, indent=2) + "\n")
        return True
    return False


def unpin_if_empty(out_dir: Path) -> None:
    """A new run that failed before it stored anything leaves no folder pinned to its settings."""
    if any(p.name != RUN_FILE for p in out_dir.iterdir()):
        return
    (out_dir / RUN_FILE).unlink(missing_ok=True)
    try:
        out_dir.rmdir()
    except OSError:
        pass


def check_samples(samples: List[Sample], problems: Dict[str, Problem], resume: str) -> None:
    """HarnessError (one line) for a resume mode or a sample's problem that is not there, before any work."""
    if resume not in RESUME_MODES:
        raise HarnessError(f"--resume must be one of {', '.join(RESUME_MODES)} (got {resume!r})")
    for s in samples:
        if s.task_id not in problems:
            raise HarnessError(f"sample for {s.task_id}: no such problem in the loaded data")


def run_samples(samples: List[Sample], problems: Dict[str, Problem], out_dir: Path, *, clean: bool,
                executor: Executor, ks=DEFAULT_KS, meta: Optional[dict] = None, show_progress=None,
                log=print, resume: str = "auto") -> dict:
    """Execute what ``out_dir`` lacks, then write and return the summary.

    Resume is by content: every result records the digest of what produced it (sample text,
    assembled program, verdict-relevant settings: ``Executor.digest``). A stored result is reused
    only if its digest matches today's sample; a changed sample runs again, and results of samples
    no longer in the input are dropped (moved to results.superseded.jsonl), so that results.jsonl,
    summary.json, ``report`` and ``gate`` always describe the same set. ``resume="strict"`` refuses
    instead of re-executing or dropping anything."""
    from tqdm import tqdm

    check_samples(samples, problems, resume)
    results_path = out_dir / RESULTS_FILE
    stored = stored_results(results_path)
    latest = load_results(results_path, stored)
    jobs = {s.key: make_job(s, problems[s.task_id], clean=clean) for s in samples}
    digests = {k: executor.digest(j) for k, j in jobs.items()}
    done = {k: r for k, r in latest.items() if k in digests and r.get("digest") == digests[k]}
    stale = [k for k in latest if k in digests and k not in done]
    gone = [k for k in latest if k not in digests]
    if resume == "strict" and (stale or gone):
        raise HarnessError(f"{results_path}: {len(stale)} stored result(s) no longer match their samples and "
                           f"{len(gone)} belong to samples not in this input; --resume strict refuses "
                           "(--resume auto re-executes and drops them; or use another --output-dir)")
    todo = [j for k, j in jobs.items() if k not in done]
    reused = len(done)
    if stored:
        log(f"resuming: {len(done)} results reused, {len(stale)} changed samples to re-execute, "
            f"{len(gone)} results of samples no longer present dropped, {len(todo)} to go")
    t0 = time.monotonic()
    seconds = {}
    if todo:
        with JsonlAppender(results_path) as out, tqdm(total=len(todo), desc="executing", unit="sample",
                                                       disable=progress_disabled(show_progress)) as bar:
            def store(rec):
                rec["digest"] = digests[_key(rec)]
                out.write(rec)
                done[_key(rec)] = rec
            seconds = executor.run(todo, store, progress=bar)
    records = sorted((done[k] for k in digests if k in done),
                     key=lambda r: (language_of_task(r["task_id"]).name, r.get("source_language") or "",
                                    int(r["task_id"].split("/")[1]), r["sample_index"]))
    if len(stored) + len(todo) != len(records):  # stale, dropped, retried or doubled lines: one per sample
        kept = {id(r) for r in records}
        old = [r for r in stored if id(r) not in kept and r.get("status") != "harness_error"]
        if old:
            with JsonlAppender(out_dir / SUPERSEDED_FILE) as sup:
                for r in old:
                    sup.write(r)
        write_jsonl_atomic(results_path, records)
    meta = dict(meta or {})
    meta.update({"executed_now": len(todo), "reused_results": reused,
                 "stale_results_rerun": len(stale), "results_dropped": len(gone),
                 "execution_seconds": round(time.monotonic() - t0, 2),
                 "seconds_per_language": {k: round(v, 2) for k, v in seconds.items()},
                 "programs_executed": executor.executed, "cache_hits": executor.cache_hits,
                 "sandbox_images": executor.identities, "sandbox_replacements": executor.replacements,
                 "evaluated_at": utc_now(),  # when these results were complete (the report's header says it)
                 "time_limits": executor.limits_summary()})  # the policy and each problem's limit: the gate compares them
    if hasattr(executor, "ray_stats"):  # executed on a Ray cluster: nodes, slots, chunks rerun, executors lost
        meta["ray"] = executor.ray_stats()
    summary = summarize(records, ks, meta)
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    write_reports_safely(out_dir, log, problems)
    return summary


def utc_now() -> str:
    """The time of day as summary.json records it: UTC, whole seconds, ISO 8601."""
    import datetime
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def generation_dates(out_dir: Path, started: Optional[str]) -> dict:
    """When the samples were generated: started_at (the run's first generating invocation; a resumed run keeps
    it) and finished_at (the last that generated anything); {} for samples none of this run's records saw made."""
    try:
        dates = {k: v for k, v in json.loads((out_dir / SUMMARY_FILE).read_text())["generation"].items()
                 if k in ("started_at", "finished_at") and isinstance(v, str)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        dates = {}
    if started:
        dates.setdefault("started_at", started)
        dates["finished_at"] = utc_now()
    return dates


def write_reports_safely(out_dir: Path, log=print, problems=None) -> None:
    """report.md + report.html next to the results; a report failure never loses the results."""
    from .report import write_reports
    try:
        write_reports(out_dir, problems=problems)  # the problems: the drill-down shows assembled programs
    except Exception as exc:  # the evaluation itself is complete and stored
        import sys
        print(f"humaneval-x: warning: could not write the report ({exc!r}); "
              f"results are in {out_dir}; retry with `humaneval-x report {out_dir}`", file=sys.stderr)


def evaluate_samples(samples_path, output_dir=None, data_dir=None, variant: str = DEFAULT_VARIANT,
                     clean: bool = True, workers: Optional[int] = None, ks=DEFAULT_KS,
                     policy: Optional[LimitPolicy] = None, sandbox_factory=None, show_progress=None, log=print,
                     cache: bool = True, resume: str = "auto", ray: Optional[str] = None,
                     format: str = "auto", language: Optional[str] = None, repeat: int = 1) -> dict:
    samples = load_samples(samples_path, format, language)  # format/language: samples.load_samples
    langs = sorted({language_of_task(s.task_id).name for s in samples}
                   | {s.source_language for s in samples if s.source_language})
    problems = load_problems(langs, data_dir=data_dir, variant=variant)
    out_dir = Path(output_dir) if output_dir else default_output_dir(samples_path)
    check_samples(samples, problems, resume)  # an unknown task or --resume value leaves no folder behind
    if sandbox_factory is None and not ray:  # on Ray, the nodes' engines are checked when executors start
        require_docker()  # before a folder is made
    check_run_identity(out_dir, {"dataset_variant": variant, "clean": clean})
    meta = {"samples_file": str(samples_path), "dataset_variant": variant, "clean": clean}
    return execute_and_report(samples, problems, out_dir, clean, meta, workers, ks, policy, sandbox_factory,
                              cache, show_progress, log, resume=resume, ray=ray, repeat=repeat)


def execute_and_report(samples, problems, out_dir: Path, clean: bool, meta: dict, workers, ks,
                       policy: Optional[LimitPolicy], sandbox_factory, cache: bool, show_progress, log,
                       resume: str = "auto", ray: Optional[str] = None, repeat: int = 1) -> dict:
    """Execute the samples through the sandboxes (resumable), then print the table and where things are.

    ``policy``: the time-limit policy, resolved here into each problem's limits before the executor is
    built (None: the reference policy on this machine's Docker sandboxes; with a ``sandbox_factory`` or
    on Ray, the languages' own limits). ``ray``: execute on that Ray cluster (auto or an address) instead
    of this machine's sandboxes. ``repeat``: runs of each distinct program (the flip audit, humaneval_x/flips.py)."""
    check_samples(samples, problems, resume)  # before reference times are measured
    if policy is None and sandbox_factory is None and not ray:
        policy = LimitPolicy()  # the default: per-problem limits from the canonical solutions' times
    limits = None
    if policy is not None:  # measured on this machine's sandboxes (on Ray too: the driver's images are the nodes')
        limits = reference_times.resolve(policy, {s.task_id for s in samples}, problems,
                                         reference_times.measurer(sandbox_factory, workers), log=log)
    executor = make_executor(sandbox_factory, workers, cache=open_cache(cache), ray=ray, log=log, limits=limits,
                             **({"repeat": repeat} if repeat > 1 else {}))
    determinism = {**variant_settings(meta.get("dataset_variant")), "repeat": repeat}  # settings that make verdicts facts
    summary = run_samples(samples, problems, out_dir, clean=clean, executor=executor, ks=ks,
                          meta={**meta, "tool_versions": tool_versions(), "determinism": determinism},
                          show_progress=show_progress, log=log,
                          resume=resume)
    log(format_table(summary))
    log(f"results: {out_dir / RESULTS_FILE}\nsummary: {out_dir / SUMMARY_FILE}")
    return summary


def tool_versions() -> dict:
    import platform
    out = {"python": platform.python_version()}
    try:
        import docker
        out["docker_sdk"] = docker.__version__
        out["docker_engine"] = docker.from_env().version().get("Version")
    except Exception:
        pass
    return out


def resolve_params(preset: str = "codegeex", **overrides):
    """A preset's sampling parameters with the given (non-None) knobs overridden."""
    from dataclasses import replace

    from .generation.backend import PRESETS
    if preset not in PRESETS:
        raise HarnessError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})


def plan_line(items, backend, params) -> str:
    """What a generation run is about to do, in one line (with a word of warning on a CPU)."""
    samples = len(items) * params.n
    device = getattr(backend, "device", None)
    if device is None and backend.name.startswith("transformers"):
        from .generation.loading import pick_device
        device = pick_device(None)
    line = (f"plan: {len(items)} prompts x {params.n} samples x up to {params.max_new_tokens} new tokens "
            f"= {samples} samples; backend {backend.name}, device {device}")
    if str(device).startswith("cpu") and samples * params.max_new_tokens > 2_000_000:
        line += ("; on a CPU this takes many hours (~50 tokens/s for a 135M model): "
                 "try --limit 5 --n 2 --max-new-tokens 128 first")
    return line


def evaluate_model(items, problems, out_dir: Path, backend, params, *, chat: bool = False, identity: dict,
                   workers: Optional[int] = None, ks=DEFAULT_KS, policy: Optional[LimitPolicy] = None,
                   sandbox_factory=None, show_progress=None, log=print, cache: bool = True,
                   resume: str = "auto", ray: Optional[str] = None, repeat: int = 1) -> dict:
    """prompts -> generate (resumable) -> clean -> execute (resumable) -> summary."""
    from dataclasses import asdict

    from .generate import SAMPLES_FILE, run_generation

    if sandbox_factory is None and not ray:
        require_docker()  # before hours of generation, not after
    log(plan_line(items, backend, params))
    new_run = check_run_identity(out_dir, identity)
    samples_path = out_dir / SAMPLES_FILE
    t0, started = time.monotonic(), utc_now()
    try:
        generated = run_generation(items, backend, params, samples_path, chat=chat, show_progress=show_progress,
                                   log=log)
    except BaseException:
        if new_run:  # e.g. the model did not load: the corrected command may use this folder
            unpin_if_empty(out_dir)
        raise
    gen_seconds = time.monotonic() - t0
    wanted = {(i.task_id, i.source_language or "") for i in items}
    samples = [s for s in load_samples(samples_path)
               if (s.task_id, s.source_language or "") in wanted and s.sample_index < params.n]
    meta = {"dataset_variant": identity.get("dataset_variant"), "sampling": asdict(params), "chat": chat,
            "settings": identity,  # what made the samples (gate --run repeats it)
            "generation": {**backend.describe(), "generated_now": generated, "seconds": round(gen_seconds, 2),
                           **generation_dates(out_dir, started if generated else None)}}
    log(f"samples: {samples_path}")
    if hasattr(backend, "release_replicas"):  # Ray generation replicas: their GPUs/CPUs are free for what follows
        backend.release_replicas()
    return execute_and_report(samples, problems, out_dir, True, meta, workers, ks, policy, sandbox_factory,
                              cache, show_progress, log, resume=resume, ray=ray, repeat=repeat)
