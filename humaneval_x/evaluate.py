"""evaluate-samples: samples file -> results.jsonl + summary.json in an output folder (resumable)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, List, Optional

from .dataset import DEFAULT_VARIANT, Problem, load_problems
from .errors import HarnessError
from .execute import Executor, Job, Timeouts, make_job
from .jsonl import JsonlAppender, read_jsonl
from .languages import language_of_task
from .metrics import DEFAULT_KS
from .samples import Sample, load_samples, sample_key
from .summary import format_table, summarize

from .runs import RESULTS_FILE, SUMMARY_FILE

RUN_FILE = "run.json"


def open_cache(enabled: bool):
    from .result_cache import ResultCache
    return ResultCache() if enabled else None


def progress_disabled(show_progress) -> Optional[bool]:
    """tqdm's ``disable``: None (the default) shows bars on a terminal only."""
    return None if show_progress is None else not show_progress


def default_output_dir(samples_path) -> Path:
    p = Path(samples_path)
    name = p.name
    for ext in (".gz", ".jsonl", ".json"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return p.with_name(name + ".eval")


def load_results(path: Path) -> Dict[tuple, dict]:
    """Stored verdicts by sample key (harness errors are not kept: they are retried)."""
    if not path.exists():
        return {}
    out = {}
    for _, rec in read_jsonl(path, strict=False):
        key = sample_key(rec["task_id"], rec["sample_index"], rec.get("source_language"))
        if rec.get("status") != "harness_error":
            out[key] = rec
        else:
            out.pop(key, None)
    return out


def check_run_identity(out_dir: Path, identity: dict) -> None:
    """Refuse to mix results of a different dataset variant or cleaning into one folder."""
    path = out_dir / RUN_FILE
    if path.exists():
        old = json.loads(path.read_text())
        diff = {k: (old.get(k), v) for k, v in identity.items() if old.get(k) != v}
        if diff:
            raise HarnessError(f"{out_dir} holds results of a different run ({diff}); use another --output-dir")
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(identity, indent=2) + "\n")


def run_samples(samples: List[Sample], problems: Dict[str, Problem], out_dir: Path, *, clean: bool,
                executor: Executor, ks=DEFAULT_KS, meta: Optional[dict] = None, show_progress=None,
                log=print) -> dict:
    """Execute what is missing from ``out_dir``, then write and return the summary."""
    from tqdm import tqdm

    for s in samples:
        if s.task_id not in problems:
            raise HarnessError(f"sample for {s.task_id}: no such problem in the loaded data")
    results_path = out_dir / RESULTS_FILE
    done = load_results(results_path)
    wanted = {s.key for s in samples}
    todo = [s for s in samples if s.key not in done]
    if done:
        log(f"resuming: {len(wanted & done.keys())} samples already evaluated, {len(todo)} to go")
    jobs: List[Job] = [make_job(s, problems[s.task_id], clean=clean) for s in todo]
    t0 = time.monotonic()
    seconds = {}
    if jobs:
        with JsonlAppender(results_path) as out, tqdm(total=len(jobs), desc="executing", unit="sample",
                                                       disable=progress_disabled(show_progress)) as bar:
            def store(rec):
                out.write(rec)
                done[sample_key(rec["task_id"], rec["sample_index"], rec.get("source_language"))] = rec
            seconds = executor.run(jobs, store, progress=bar)
    records = sorted((done[k] for k in wanted if k in done),
                     key=lambda r: (language_of_task(r["task_id"]).name, r.get("source_language") or "",
                                    int(r["task_id"].split("/")[1]), r["sample_index"]))
    meta = dict(meta or {})
    meta.update({"executed_now": len(jobs), "execution_seconds": round(time.monotonic() - t0, 2),
                 "seconds_per_language": {k: round(v, 2) for k, v in seconds.items()},
                 "programs_executed": executor.executed, "cache_hits": executor.cache_hits,
                 "sandbox_images": executor.identities, "sandbox_replacements": executor.replacements})
    summary = summarize(records, ks, meta)
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    write_reports_safely(out_dir, log)
    return summary


def write_reports_safely(out_dir: Path, log=print) -> None:
    """report.md + report.html next to the results; a report failure never loses the results."""
    from .report import write_reports
    try:
        write_reports(out_dir)
    except Exception as exc:  # the evaluation itself is complete and stored
        import sys
        print(f"humaneval-x: warning: could not write the report ({exc!r}); "
              f"results are in {out_dir}; retry with `humaneval-x report {out_dir}`", file=sys.stderr)


def evaluate_samples(samples_path, output_dir=None, data_dir=None, variant: str = DEFAULT_VARIANT,
                     clean: bool = True, workers: Optional[int] = None, ks=DEFAULT_KS,
                     timeouts: Timeouts = Timeouts(), sandbox_factory=None, show_progress=None, log=print,
                     cache: bool = True) -> dict:
    samples = load_samples(samples_path)
    langs = sorted({language_of_task(s.task_id).name for s in samples}
                   | {s.source_language for s in samples if s.source_language})
    problems = load_problems(langs, data_dir=data_dir, variant=variant)
    out_dir = Path(output_dir) if output_dir else default_output_dir(samples_path)
    check_run_identity(out_dir, {"dataset_variant": variant, "clean": clean})
    meta = {"samples_file": str(samples_path), "dataset_variant": variant, "clean": clean}
    return execute_and_report(samples, problems, out_dir, clean, meta, workers, ks, timeouts, sandbox_factory,
                              cache, show_progress, log)


def execute_and_report(samples, problems, out_dir: Path, clean: bool, meta: dict, workers, ks, timeouts,
                       sandbox_factory, cache: bool, show_progress, log) -> dict:
    """Execute the samples through the sandboxes (resumable), then print the table and where things are."""
    executor = Executor(sandbox_factory, workers, timeouts, cache=open_cache(cache))
    summary = run_samples(samples, problems, out_dir, clean=clean, executor=executor, ks=ks,
                          meta={**meta, "tool_versions": tool_versions()}, show_progress=show_progress, log=log)
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


def evaluate_model(items, problems, out_dir: Path, backend, params, *, chat: bool = False, identity: dict,
                   workers: Optional[int] = None, ks=DEFAULT_KS, timeouts: Timeouts = Timeouts(),
                   sandbox_factory=None, show_progress=None, log=print, cache: bool = True) -> dict:
    """prompts -> generate (resumable) -> clean -> execute (resumable) -> summary."""
    from dataclasses import asdict

    from .generate import SAMPLES_FILE, run_generation

    check_run_identity(out_dir, identity)
    samples_path = out_dir / SAMPLES_FILE
    t0 = time.monotonic()
    generated = run_generation(items, backend, params, samples_path, chat=chat, show_progress=show_progress, log=log)
    gen_seconds = time.monotonic() - t0
    wanted = {(i.task_id, i.source_language or "") for i in items}
    samples = [s for s in load_samples(samples_path)
               if (s.task_id, s.source_language or "") in wanted and s.sample_index < params.n]
    meta = {"dataset_variant": identity.get("dataset_variant"), "sampling": asdict(params), "chat": chat,
            "generation": {**backend.describe(), "generated_now": generated, "seconds": round(gen_seconds, 2)}}
    log(f"samples: {samples_path}")
    return execute_and_report(samples, problems, out_dir, True, meta, workers, ks, timeouts, sandbox_factory,
                              cache, show_progress, log)
