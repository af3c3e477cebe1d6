"""Execution stage: samples -> assembled programs -> sandboxes -> per-sample results.

Each distinct program runs once per run (identical completions are common at
n=200); results stream to the caller as they complete so they can be stored
at once, and a run resumes by skipping what is stored.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional

from . import flips
from .assembly import CPP_ASSERTIONS_LINE, SampleRejected, prepare_sample
from .dataset import Problem
from .languages import LANGUAGES, Language
from .protocol import ISOLATION, OUTPUT_CAP, harness_error
from .result_cache import cache_key
from .samples import Sample
from .sandbox.base import SandboxLimits
from .sandbox.pool import SandboxPool

REPEAT_MARK = "~repeat"  # request id of a program's k-th repeat: <program hash>~repeat<k>
# A program whose first line is one of these compiles with the flags: assembly writes the line when the
# dataset variant asks for the mode (dataset.VARIANT_PROTOCOL); the flag on the command line makes the
# precompiled header of the same mode apply (sandboxes/cpp/Dockerfile builds one per mode).
MODE_LINES = {CPP_ASSERTIONS_LINE: ("-D_GLIBCXX_ASSERTIONS",)}


# A sample longer than this is not assembled (its own compile_error): no model writes a megabyte
# for one HumanEval-X function, and every host-side step stays within a second per sample below it.
MAX_SAMPLE_CHARS = 1 << 20


@dataclass
class Job:
    sample: Sample
    language: str
    cleaned: str
    program: str
    form: str = "completion"  # how the sample came: completion, fenced, whole_function, fenced_whole_function
    outcome: Optional[dict] = None  # decided without running it (it could not be assembled)

    @property
    def program_hash(self) -> str:
        return hashlib.sha256(f"{self.language}\0{self.program}".encode()).hexdigest()


def make_job(sample: Sample, problem: Problem, clean: bool = True) -> Job:
    """The sample's test program; a sample that cannot be assembled gets its own verdict here (never an
    exception for the run): too large is its compile_error, a failure of assembly its harness_error."""
    lang = LANGUAGES[problem.language]
    if len(sample.generation) > MAX_SAMPLE_CHARS:
        return Job(sample, lang.name, "", "", outcome={
            "status": "compile_error", "stage": "assemble",
            "detail": f"the sample has {len(sample.generation):,} characters; over {MAX_SAMPLE_CHARS:,} it is not assembled"})
    # Generation and translation alike: the program is built from the problem's own prompt. A
    # translation continues the target's declaration, which the prompt ends with; the prompt also
    # holds helper functions that some declarations lack (CPP/38, Go/10, ...), so the program compiles.
    # A fenced or whole-function sample (other tools' format) is unwrapped / used as the program.
    form, cleaned = "completion", ""
    try:
        form, head, cleaned = prepare_sample(lang, problem, sample.generation, clean, getattr(sample, "whole", False))
        program = lang.assemble(problem, head, cleaned)
    except SampleRejected as e:
        return Job(sample, lang.name, cleaned, "", form, outcome={"status": "compile_error", "stage": "assemble",
                                                                "detail": str(e)[:300]})
    except Exception as e:  # noqa: BLE001 - a bug of assembly or of a record: this sample's harness_error
        return Job(sample, lang.name, "", "", outcome=harness_error(
            None, f"the sample could not be assembled ({type(e).__name__}: {e})"[:300], stage="assemble"))
    return Job(sample, lang.name, cleaned, program, form)


@dataclass(frozen=True)
class Timeouts:
    """Overrides of the per-language limits (None: the language's own)."""
    compile_timeout: Optional[float] = None
    run_cpu: Optional[float] = None
    run_timeout: Optional[float] = None


def make_request(lang: Language, job_id: str, program: str, timeouts: Timeouts = Timeouts(),
                 naive: bool = False) -> dict:
    """A runner request. ``naive``: one fresh process per program, as the original harness ran them."""
    compile_cmd = lang.compile if naive or not lang.fast_compile else lang.fast_compile
    for line, flags in MODE_LINES.items():
        if compile_cmd and program.startswith(line):
            compile_cmd = (compile_cmd[0], *flags, *compile_cmd[1:])
    request = {
        "id": job_id,
        "files": {lang.source_file: program},
        "compile": list(compile_cmd) if compile_cmd else None,
        "python": lang.fork_run and not naive,
        "compile_server": list(lang.compile_server) if lang.compile_server and not naive else None,
        "run": [lang.run[0], *(() if naive else lang.fast_run_flags), *lang.run[1:]],
        "compile_timeout": timeouts.compile_timeout or lang.compile_timeout,
        "run_cpu": timeouts.run_cpu or lang.run_cpu,
        "run_timeout": timeouts.run_timeout or lang.run_timeout,
        "failure_markers": list(lang.failure_markers),
        "crash_markers": list(lang.crash_markers),
        "output_cap": OUTPUT_CAP,
    }
    if lang.batch_kind and not naive:
        request["batch_info"] = lang.batch_info(program)
    return request


def batch_requests(lang: Language, requests: List[dict]) -> List[dict]:
    """Requests as the pool takes them: programs that can share a build go in batches of
    ``lang.batch_size`` (the runner still runs each in its own process), the rest alone."""
    if not lang.batch_kind:
        return requests
    alone = [r for r in requests if not r.get("batch_info")]
    shared = [r for r in requests if r.get("batch_info")]
    batches = [{"id": "batch:" + chunk[0]["id"], "batch": chunk, "batch_kind": lang.batch_kind,
                "compile_timeout": chunk[0]["compile_timeout"],
                "run_timeout": sum(r["run_timeout"] for r in chunk)}
               for chunk in (shared[i:i + lang.batch_size] for i in range(0, len(shared), lang.batch_size))]
    return [b if len(b["batch"]) > 1 else b["batch"][0] for b in batches] + alone


def result_record(job: Job, outcome: dict, duplicate: bool) -> dict:
    s = job.sample
    rec = {
        "task_id": s.task_id,
        "sample_index": s.sample_index,
        "language": job.language,
        "source_language": s.source_language,
        "status": outcome.get("status") or "harness_error",
        "passed": outcome.get("status") == "passed",
        "stage": outcome.get("stage"),
        "detail": outcome.get("detail") or compile_error_detail(job.language, outcome),
        "program_sha256": job.program_hash,
        "reused_result": duplicate,
        "sample_form": job.form,
        "generation": s.generation,
        "cleaned": job.cleaned,
    }
    if outcome.get("verdicts"):  # audited (--repeat) or a flip the cache has seen: every run's status
        rec.update(verdicts=outcome["verdicts"], repeats=outcome.get("repeats"), flipped=bool(outcome.get("flipped")))
    for field in ("answer", "reasoning"):  # a chat model's whole answer, beside the code taken from it
        if getattr(s, field, None) is not None:
            rec[field] = getattr(s, field)
    for stage in ("compile", "run"):
        info = outcome.get(stage)
        if info:
            rec[stage] = {k: info.get(k) for k in ("returncode", "timed_out", "wall_s", "cpu_s", "stdout", "stderr")}
            if info.get("batch"):  # compiled with this many others (wall_s: its share)
                rec[stage]["batch"] = info["batch"]
    return rec


def compile_error_detail(language: str, outcome: dict) -> str:
    """The compiler's first error line for a compile_error that came without a detail, else ""."""
    if outcome.get("status") != "compile_error":
        return ""
    log = ((outcome.get("compile") or {}).get("stderr") or "") + "\n" + ((outcome.get("compile") or {}).get("stdout") or "")
    lines = [line.strip() for line in log.splitlines() if line.strip() and not line.startswith("#")]
    pattern = re.compile(LANGUAGES[language].compile_error_line)
    errors = [line for line in lines if pattern.search(line)]
    # the first error in the program's own file: an unclosed brace in main.cpp can make g++ report a header
    # included after it (assert.h) first, which is never where the mistake is
    own = re.compile(r"(?<![\w.])" + re.escape(LANGUAGES[language].source_file) + r":\d+")
    return next((line for line in errors if own.search(line)), errors[0] if errors else
                lines[0] if lines else "compilation failed")[:300]


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class Executor:
    """Runs jobs through one sandbox pool per language.

    Each distinct program runs once (duplicates share its verdict); with a ``cache``, verdicts
    of programs already run on the same image are reused across runs. ``naive`` turns every
    speed-up off (one fresh process per program, every duplicate executed): the baseline of the
    throughput benchmark.
    """

    def __init__(self, sandbox_factory: Optional[Callable[[str], object]] = None, workers: Optional[int] = None,
                 timeouts: Timeouts = Timeouts(), cache=None, naive: bool = False, limits=None, repeat: int = 1):
        self.sandbox_factory = sandbox_factory or docker_factory()  # language name -> Sandbox
        self.repeat = max(1, int(repeat))  # runs of each distinct program (the flip audit: humaneval_x/flips.py)
        self.workers = workers or default_workers()
        self.timeouts = timeouts
        self.limits = limits  # a limits.LimitPolicy (per-problem limits, see prepare); None: ``timeouts``
        self.resolved_limits = None
        self.cache = None if naive else cache
        self.naive = naive
        self.identities: Dict[str, str] = {}
        self.replacements = 0
        self.executed = 0
        self.cache_hits = 0

    def run(self, jobs: Iterable[Job], on_result: Callable[[dict], None], progress=None) -> Dict[str, float]:
        """Execute ``jobs``; calls ``on_result(record)`` per job as results arrive. Returns seconds per language.
        Jobs decided before execution (see make_job) are delivered first, the rest go to ``_execute``."""
        rest = []
        for job in jobs:
            if job.outcome is None:
                rest.append(job)
                continue
            on_result(result_record(job, job.outcome, duplicate=False))
            if progress is not None:
                progress.update(1)
        return self._execute(rest, on_result, progress) if rest else {}

    def _execute(self, jobs: List[Job], on_result: Callable[[dict], None], progress=None) -> Dict[str, float]:
        by_lang: Dict[str, Dict[str, List[Job]]] = defaultdict(lambda: defaultdict(list))
        for n, job in enumerate(jobs):
            key = f"{job.program_hash}#{n}" if self.naive else job.program_hash  # naive: no deduplication
            by_lang[job.language][key].append(job)
        seconds = {}
        for lang_name in LANGUAGES:  # fixed order
            groups = by_lang.get(lang_name)
            if not groups:
                continue
            lang = LANGUAGES[lang_name]
            t0 = time.monotonic()
            requests = [make_request(lang, h, group[0].program, self.timeouts_for(group[0]), self.naive)
                        for h, group in groups.items()]

            def deliver(request, outcome, cached=False):
                for i, job in enumerate(groups[request["id"]]):
                    on_result(result_record(job, outcome, duplicate=cached or i > 0))
                    if progress is not None:
                        progress.update(1)

            image_id = self._image_id(lang_name)
            if self.cache is not None and image_id and self.repeat == 1:  # an audit runs, never reads
                todo = []
                for r in requests:
                    hit = self.cache.get(cache_key(r["id"], image_id, r))
                    if hit is None:
                        todo.append(r)
                    else:
                        self.cache_hits += 1
                        deliver(r, flips.from_cache(hit), cached=True)
                requests = todo
            if requests:
                by_id = {r["id"]: r for r in requests}
                runs: Dict[str, List[dict]] = defaultdict(list)
                # the repeats in rounds over all programs: each program's runs meet other workers and moments
                rounds = [r if k == 0 else dict(r, id=f"{r['id']}{REPEAT_MARK}{k}") for k in range(self.repeat)
                          for r in requests]
                pool = SandboxPool(lambda: self.sandbox_factory(lang_name), min(self.workers, len(rounds)))
                with pool:
                    self.identities[lang_name] = pool.identity
                    for request, outcome in unbatched(pool.map(batch_requests(lang, rounds))):
                        self.executed += 1
                        request = by_id[request["id"].split(REPEAT_MARK)[0]]
                        if self.cache is not None and image_id:
                            self.cache.put(cache_key(request["id"], image_id, request), outcome)
                        if self.repeat == 1:
                            deliver(request, outcome)
                            continue
                        runs[request["id"]].append(outcome)
                        if len(runs[request["id"]]) == self.repeat:
                            deliver(request, flips.combine(runs.pop(request["id"])))
                self.replacements += pool.replacements
                if self.cache is not None:
                    self.cache.flush()
            seconds[lang_name] = time.monotonic() - t0
        return seconds

    def digest(self, job: Job) -> str:
        """What produced a verdict: the sample's text, the assembled program and every setting of the
        request that can change the verdict (limits, markers, mode). A stored result whose digest
        differs from today's is stale: resume executes that sample again."""
        import json

        request = make_request(LANGUAGES[job.language], "", job.program, self.timeouts_for(job), self.naive)
        settings = {k: v for k, v in request.items() if k not in ("id", "files", "batch_info")}
        if self.repeat > 1:  # an audited result is not the same fact as a single run's
            settings["repeat"] = self.repeat
        blob = json.dumps([ISOLATION, job.sample.generation, job.cleaned, job.program_hash, settings], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def prepare(self, jobs: Iterable[Job], problems: Dict[str, Problem], log=None) -> None:
        """Resolve the per-problem limits of ``jobs`` under ``self.limits`` (measuring reference times
        the cache lacks: humaneval_x/limits.py); a no-op without a policy."""
        if self.limits is not None:
            from .limits import resolve
            resolved = resolve(self.limits, list(jobs), problems, self, log=log)
            if self.resolved_limits is not None:
                resolved.cpu = {**self.resolved_limits.cpu, **resolved.cpu}
                resolved.reference_cpu = {**self.resolved_limits.reference_cpu, **resolved.reference_cpu}
                resolved.sources = {**self.resolved_limits.sources, **resolved.sources}
            self.resolved_limits = resolved

    def timeouts_for(self, job: Job) -> Timeouts:
        """The limits of this job's run: its problem's under the policy, else the executor's ``timeouts``."""
        if self.limits is None:
            return self.timeouts
        if self.resolved_limits is None:
            raise RuntimeError("Executor.prepare(jobs, problems) must run before jobs under a limit policy")
        return self.resolved_limits.timeouts(job.sample.task_id, job.language)

    def limits_summary(self) -> dict:
        """The time-limit policy and each problem's CPU limit, for the run's summary."""
        if self.resolved_limits is not None:
            return self.resolved_limits.summary()
        t = self.timeouts
        return {"policy": {"kind": "flat", "cpu_s": t.run_cpu, "run_timeout_s": t.run_timeout or "language",
                           "compile_timeout_s": t.compile_timeout or "language"} if t.run_cpu else
                {"kind": "language", "run_timeout_s": t.run_timeout or "language",
                 "compile_timeout_s": t.compile_timeout or "language"}}

    def _image_id(self, lang_name: str) -> Optional[str]:
        if lang_name not in self.identities:
            try:
                self.identities[lang_name] = self.sandbox_factory(lang_name).identity
            except Exception:
                return None
        return self.identities[lang_name]


def unbatched(pairs):
    """(request, result) pairs with every batch opened into its members'."""
    for request, outcome in pairs:
        if "batch" not in request:
            yield request, outcome
            continue
        results = outcome.get("results") or []
        for i, member in enumerate(request["batch"]):
            res = results[i] if i < len(results) and isinstance(results[i], dict) else harness_error(
                member["id"], outcome.get("detail") or "the batch returned no result for this program")
            yield member, res


def docker_factory(limits: SandboxLimits = SandboxLimits(), client=None):
    """language -> DockerSandbox on that language's current image."""
    from .sandbox.docker_sandbox import DockerSandbox
    from .sandbox.images import image_tag

    tags = {name: image_tag(name) for name in LANGUAGES}
    return lambda lang: DockerSandbox(lang, tags[lang], limits, client=client)


def make_executor(sandbox_factory=None, workers: Optional[int] = None, timeouts: Timeouts = Timeouts(), cache=None,
                  ray: Optional[str] = None, log=print, **options):
    """The local ``Executor``, or with ``ray`` (auto or a cluster address) the ``RayExecutor`` (a
    subclass: the same jobs across the cluster's nodes behind the same ``run``); ``options`` go to both."""
    if ray:
        from .distributed.ray_executor import RayExecutor
        return RayExecutor(ray, workers, timeouts, cache=cache, sandbox_factory=sandbox_factory, log=log, **options)
    return Executor(sandbox_factory, workers, timeouts, cache=cache, **options)
