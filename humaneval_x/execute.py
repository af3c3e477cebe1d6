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
from .limits import ResolvedLimits, Timeouts
from .protocol import ISOLATION, OUTPUT_CAP, Batch, Outcome, Request, Stage, harness_error
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
    request: Optional[Request] = None  # how its program runs, under its language's own limits (make_job)

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
    job = Job(sample, lang.name, cleaned, program, form)
    job.request = make_request(lang, job.program_hash, program)
    return job


def make_request(lang: Language, job_id: str, program: str, timeouts: Timeouts = Timeouts(),
                 naive: bool = False) -> Request:
    """A runner request. ``naive``: one fresh process per program, as the original harness ran them."""
    compile_cmd = lang.compile if naive or not lang.fast_compile else lang.fast_compile
    for line, flags in MODE_LINES.items():
        if compile_cmd and program.startswith(line):
            compile_cmd = (compile_cmd[0], *flags, *compile_cmd[1:])
    request = Request(
        job_id, {lang.source_file: program}, [lang.run[0], *(() if naive else lang.fast_run_flags), *lang.run[1:]],
        compile=compile_cmd, python=lang.fork_run and not naive,
        compile_server=lang.compile_server if not naive else None,
        compile_timeout=lang.compile_timeout, run_cpu=lang.run_cpu, run_timeout=lang.run_timeout,
        failure_markers=lang.failure_markers, crash_markers=lang.crash_markers, output_cap=OUTPUT_CAP,
        batch_info=lang.batch_info(program) if lang.batch_kind and not naive else None)
    return under(request, timeouts)


def under(request: Request, timeouts: Timeouts) -> Request:
    """``request`` under ``timeouts`` (a limit they leave unset stays the request's)."""
    changes = {k: getattr(timeouts, k) for k in ("compile_timeout", "run_cpu", "run_timeout") if getattr(timeouts, k)}
    return request.replace(**changes) if changes else request


def batch_requests(lang: Language, requests: List[Request]) -> List[dict]:
    """Requests as the pool takes them (wire form): programs that can share a build go in batches of
    ``lang.batch_size`` (the runner still runs each in its own process), the rest alone."""
    alone = [r for r in requests if not (lang.batch_kind and r.batch_info)]
    shared = [r for r in requests if lang.batch_kind and r.batch_info]
    batches = [Batch("batch:" + chunk[0].id, chunk, lang.batch_kind)
               for chunk in (shared[i:i + lang.batch_size] for i in range(0, len(shared), lang.batch_size))]
    return [b.to_wire() if len(b.members) > 1 else b.members[0].to_wire() for b in batches] + [
        r.to_wire() for r in alone]


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
            rec[stage] = Stage.from_wire(info).to_wire()  # the stage's fields, its optional ones when known
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
    throughput benchmark. Each job runs under its problem's ``limits`` (resolved before: reference_times.py),
    or without them under ``timeouts`` (every job alike).
    """

    def __init__(self, sandbox_factory: Optional[Callable[[str], object]] = None, workers: Optional[int] = None,
                 timeouts: Timeouts = Timeouts(), cache=None, naive: bool = False,
                 limits: Optional[ResolvedLimits] = None, repeat: int = 1):
        self.sandbox_factory = sandbox_factory or docker_factory()  # language name -> Sandbox
        self.repeat = max(1, int(repeat))  # runs of each distinct program (the flip audit: humaneval_x/flips.py)
        self.workers = workers or default_workers()
        self.timeouts = timeouts
        self.limits = limits
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
        """The local way to workers: one sandbox pool per language, one language after the other."""
        book = RunBook(self, jobs, on_result, progress)
        seconds = {}
        for lang_name in book.languages:  # fixed order
            lang = LANGUAGES[lang_name]
            t0 = time.monotonic()
            image_id = self.image_id(lang_name)
            requests = book.uncached(lang_name, image_id)
            if requests:
                # the repeats in rounds over all programs: each program's runs meet other workers and moments
                rounds = [r if k == 0 else r.replace(id=f"{r.id}{REPEAT_MARK}{k}") for k in range(self.repeat)
                          for r in requests]
                pool = SandboxPool(lambda: self.sandbox_factory(lang_name), min(self.workers, len(rounds)))
                with pool:
                    self.identities[lang_name] = pool.identity
                    for request, outcome in unbatched(pool.map(batch_requests(lang, rounds))):
                        book.ran(request["id"].split(REPEAT_MARK)[0], outcome, image_id, self.cache)
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

        request = self.request_for(job, "").to_wire()
        settings = {k: v for k, v in request.items() if k not in ("id", "files", "batch_info")}
        if self.repeat > 1:  # an audited result is not the same fact as a single run's
            settings["repeat"] = self.repeat
        blob = json.dumps([ISOLATION, job.sample.generation, job.cleaned, job.program_hash, settings], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def request_for(self, job: Job, rid: str) -> Request:
        """The request that runs ``job``'s program as ``rid`` in this run: the job's own (make_job) under its
        time limits; ``naive``: the language's plain compile and run, as the original harness ran them."""
        if self.naive or job.request is None:
            return make_request(LANGUAGES[job.language], rid, job.program, self.timeouts_for(job), self.naive)
        return under(job.request.replace(id=rid), self.timeouts_for(job))

    def timeouts_for(self, job: Job) -> Timeouts:
        """The limits of this job's run: its problem's under ``limits``, else the executor's ``timeouts``."""
        if self.limits is None:
            return self.timeouts
        return self.limits.timeouts(job.sample.task_id, job.language)

    def limits_summary(self) -> dict:
        """The time-limit policy and each problem's CPU limit, for the run's summary."""
        if self.limits is not None:
            return self.limits.summary()
        t = self.timeouts
        return {"policy": {"kind": "flat", "cpu_s": t.run_cpu, "run_timeout_s": t.run_timeout or "language",
                           "compile_timeout_s": t.compile_timeout or "language"} if t.run_cpu else
                {"kind": "language", "run_timeout_s": t.run_timeout or "language",
                 "compile_timeout_s": t.compile_timeout or "language"}}

    def image_id(self, lang_name: str) -> Optional[str]:
        """The image id of ``lang_name``'s sandboxes (results cache keys and reference times name it), or None."""
        if lang_name not in self.identities:
            try:
                self.identities[lang_name] = self.sandbox_factory(lang_name).identity
            except Exception:
                return None
        return self.identities[lang_name]


class RunBook:
    """One run's bookkeeping, whatever carries its programs to workers (a local pool, Ray's node
    executors): jobs grouped per language and distinct program (every job its own under ``naive``), one
    request per program under the run's time limits, answers from the results cache, and each verdict
    delivered once to every job of its program (a later copy of a verdict is dropped) and stored in the
    cache. With ``executor.repeat`` > 1 (the flip audit) the cache is never read, and a program's verdict
    is delivered once all its runs are in (``flips.combine``)."""

    def __init__(self, executor: "Executor", jobs: Iterable[Job], on_result: Callable[[dict], None], progress=None,
                 on_delivered: Optional[Callable[[str], None]] = None, repeat: Optional[int] = None):
        self.executor = executor
        self.repeat = executor.repeat if repeat is None else repeat  # runs of each program before delivery
        self.on_result = on_result
        self.progress = progress
        self.on_delivered = on_delivered  # called with the language after each program's delivery
        self.groups: Dict[str, Dict[str, List[Job]]] = defaultdict(dict)
        for n, job in enumerate(jobs):
            key = f"{job.program_hash}#{n}" if executor.naive else job.program_hash  # naive: no deduplication
            self.groups[job.language].setdefault(key, []).append(job)
        self.languages = [lang for lang in LANGUAGES if lang in self.groups]
        self.lang_of: Dict[str, str] = {}
        self.request_of: Dict[str, Request] = {}
        self.delivered: set = set()
        self.dropped = 0
        self._runs: Dict[str, List[dict]] = defaultdict(list)

    def requests(self, lang: str) -> List[Request]:
        """One request per distinct program of ``lang``, under each program's time limits."""
        out = []
        for rid, group in self.groups[lang].items():
            r = self.executor.request_for(group[0], rid)
            self.lang_of[rid], self.request_of[rid] = lang, r
            out.append(r)
        return out

    def uncached(self, lang: str, image_id: Optional[str]) -> List[Request]:
        """The requests of ``lang`` the results cache cannot answer (those it answers are delivered here)."""
        ex, todo = self.executor, []
        for r in self.requests(lang):
            hit = None
            if ex.cache is not None and image_id and self.repeat == 1:  # an audit runs, never reads
                hit = ex.cache.get(cache_key(r.id, image_id, r.to_wire()))
            if hit is None:
                todo.append(r)
            else:
                ex.cache_hits += 1
                self.deliver(r.id, flips.from_cache(hit), cached=True)
        return todo

    def ran(self, rid: str, outcome: Outcome, image_id: Optional[str], cache=None) -> None:
        """One run's outcome of program ``rid``: counted, stored in ``cache`` (anything with ``put``),
        delivered (once all of an audit's runs are in); stored and delivered in its wire form."""
        self.executor.executed += 1
        outcome = outcome.to_wire()
        if cache is not None and image_id:
            cache.put(cache_key(rid, image_id, self.request_of[rid].to_wire()), outcome)
        if self.repeat == 1:
            self.deliver(rid, outcome)
            return
        self._runs[rid].append(outcome)
        if len(self._runs[rid]) == self.repeat:
            self.deliver(rid, flips.combine(self._runs.pop(rid)))

    def deliver(self, rid: str, outcome: dict, cached: bool = False) -> bool:
        """``outcome`` to every job of program ``rid``; False (and nothing delivered) if it was delivered before."""
        if rid in self.delivered:
            self.dropped += 1
            return False
        self.delivered.add(rid)
        lang = self.lang_of[rid]
        for i, job in enumerate(self.groups[lang][rid]):
            self.on_result(result_record(job, outcome, duplicate=cached or i > 0))
            if self.progress is not None:
                self.progress.update(1)
        if self.on_delivered is not None:
            self.on_delivered(lang)
        return True


def unbatched(pairs):
    """(request, reply) pairs as a pool answers them (wire form) -> (request, ``Outcome``) pairs, every batch
    opened into its members': where the host decodes what the runners answer."""
    for request, reply in pairs:
        if "batch" in request:
            yield from zip(request["batch"], Batch.outcomes(request, reply))
        else:
            yield request, Outcome.from_wire(reply)


def docker_factory(limits: SandboxLimits = SandboxLimits(), client=None):
    """language -> DockerSandbox on that language's current image."""
    from .sandbox.docker_sandbox import DockerSandbox
    from .sandbox.images import image_tag

    tags = {name: image_tag(name) for name in LANGUAGES}
    return lambda lang: DockerSandbox(lang, tags[lang], limits, client=client)
