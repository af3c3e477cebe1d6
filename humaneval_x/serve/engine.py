"""The judge service's core, without any web framework: what a request becomes and what it is promised.

Programs from every request go into one bounded queue (per language, first come first served). ``slots``
threads (the CLI's ``--workers``: that many sandboxes busy at once) each take a chunk of one language's
oldest programs and run it through the harness's own execution API: ``Executor.run`` for samples (so
assembly, de-duplication, the results cache, the per-problem time limits and the digest are the CLI's),
``SandboxPool.map`` for arbitrary programs. The sandboxes come from a warm reserve per language (started
once, when the server starts, and handed back after each chunk), through ``Lease``: to the pool it is an
ordinary sandbox, so a worker that dies mid-chunk is replaced and its programs run again exactly as in
the CLI (humaneval_x/sandbox/pool.py); a lease whose sandbox died or was condemned is never put back.

A submission (a synchronous request or a job) is idempotent by its request id: the same id with the same
body while it runs or after it finished is the same submission (nothing runs twice); after a deadline or a
cancel it resumes, running only what it lacks; the same id with another body is refused.
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from .. import reference_times
from ..dataset import DEFAULT_VARIANT, VARIANTS, load_problems
from ..engines import make_executor
from ..errors import HarnessError
from ..execute import docker_factory, make_job, result_record, unbatched
from ..languages import LANGUAGES, language_of_task
from ..limits import LimitPolicy, ResolvedLimits
from ..protocol import harness_error
from ..samples import Sample, parse_sample
from ..sandbox.base import MODEL_STATUSES, STATUSES, Sandbox, SandboxDied
from ..sandbox.pool import SandboxPool


class RequestError(HarnessError):
    """The request is wrong (HTTP 400): one line saying what."""


class QueueFull(HarnessError):
    """The queue cannot take the request now (HTTP 429 with Retry-After) or ever (HTTP 413)."""

    def __init__(self, message: str, retry_after: Optional[float]):
        super().__init__(message)
        self.retry_after = retry_after  # None: too large for the queue at all


class Conflict(HarnessError):
    """A request id already used for another body (HTTP 409)."""


class Unavailable(HarnessError):
    """The server is draining (HTTP 503)."""


class NotBuilt(HarnessError):
    """A language whose sandbox image this machine has not built (HTTP 501: not retried, it will not
    change until someone builds it; Rust's image is opt-in)."""


# ------------------------------------------------------------------ warm sandboxes
class WarmReserve:
    """Started sandboxes of one language, kept between chunks. ``acquire`` hands out an idle one (or
    starts one), ``release`` takes it back if it is healthy, else stops it (a replacement)."""

    def __init__(self, language: str, make: Callable[[], Sandbox], size: int):
        self.language = language
        self.make = make
        self.size = max(1, size)
        self._idle: List[Sandbox] = []
        self._lock = threading.Lock()
        self.closed = False
        self.started = 0
        self.replaced = 0
        self.leased = 0
        self._identity: Optional[str] = None

    def warm(self) -> None:
        boxes = []
        errors = []

        def one():
            try:
                box = self.make()
                box.start()
                boxes.append(box)
            except Exception as exc:  # noqa: BLE001 - reported once, below
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(self.size - len(self._idle))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with self._lock:
            self.started += len(boxes)
            self._idle.extend(boxes)
        if errors:
            raise HarnessError(f"cannot start a {self.language} sandbox: {errors[0]}")

    def acquire(self) -> Sandbox:
        with self._lock:
            if self.closed:
                raise SandboxDied("the server is shutting down")
            self.leased += 1
            if self._idle:
                return self._idle.pop()
        try:
            box = self.make()
            box.start()
        except BaseException:
            with self._lock:
                self.leased -= 1
            raise
        with self._lock:
            self.started += 1
        return box

    def release(self, box: Sandbox, healthy: bool) -> None:
        with self._lock:
            self.leased -= 1
            if not healthy:
                self.replaced += 1
            elif not self.closed and len(self._idle) < self.size:
                self._idle.append(box)
                return
        box.stop()

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def identity(self) -> str:
        if self._identity is None:
            self._identity = self.make().identity
        return self._identity

    def close(self) -> None:
        with self._lock:
            self.closed = True
            boxes, self._idle = self._idle, []
        for box in boxes:
            box.stop()


class Lease(Sandbox):
    """A sandbox of the reserve as a pool sees one: ``start`` takes one, ``stop`` gives it back, unless
    it died or was condemned while leased (then it is stopped and the pool's replacement is another lease)."""

    def __init__(self, reserve: WarmReserve):
        self.reserve = reserve
        self.language = reserve.language
        self.box: Optional[Sandbox] = None
        self.spoiled = False

    def start(self) -> None:
        self.box = self.reserve.acquire()

    def _call(self, fn, *args):
        if self.box is None:
            raise SandboxDied("sandbox not started")
        try:
            return fn(*args)
        except BaseException:  # died, condemned, or interrupted mid-reply: its stream cannot be trusted
            self.spoiled = True
            raise

    def execute(self, request: dict, timeout: float) -> dict:
        return self._call(lambda: self.box.execute(request, timeout))

    def check(self, timeout: float = 60.0) -> None:
        return self._call(lambda: self.box.check(timeout))

    def stop(self) -> None:
        box, self.box = self.box, None
        if box is not None:
            self.reserve.release(box, not self.spoiled)

    @property
    def identity(self) -> str:
        return self.reserve.identity


# ------------------------------------------------------------------ settings
# A request without settings is judged as evaluate-samples judges without flags: the same DEFAULT_VARIANT
# (humaneval_x.dataset, the CLI's default too) and the same default LimitPolicy.
SETTING_KEYS = ("dataset_variant", "clean", "time_limit", "run_timeout", "compile_timeout", "time_limit_policy")


@dataclass(frozen=True)
class JudgeSettings:
    variant: str = DEFAULT_VARIANT
    clean: bool = True
    policy: LimitPolicy = LimitPolicy()

    def describe(self) -> dict:
        return {"dataset_variant": self.variant, "clean": self.clean, "time_limits": self.policy.describe()}


def _seconds(d: dict, key: str) -> Optional[float]:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        raise RequestError(f"settings.{key} must be a number of seconds > 0 (got {v!r})")
    return float(v)


def parse_settings(d) -> JudgeSettings:
    """The request's settings, named as evaluate-samples' flags: dataset_variant, clean, time_limit (a flat
    CPU-second limit; default: per problem from the canonical solutions), run_timeout, compile_timeout,
    and time_limit_policy (reference, flat or language)."""
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise RequestError("settings must be an object")
    unknown = sorted(set(d) - set(SETTING_KEYS))
    if unknown:
        raise RequestError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(SETTING_KEYS)}")
    variant = d.get("dataset_variant", DEFAULT_VARIANT)
    if variant not in VARIANTS:
        raise RequestError(f"settings.dataset_variant must be one of {', '.join(VARIANTS)} (got {variant!r})")
    clean = d.get("clean", True)
    if not isinstance(clean, bool):
        raise RequestError(f"settings.clean must be true or false (got {clean!r})")
    flat, run_timeout, compile_timeout = (_seconds(d, k) for k in ("time_limit", "run_timeout", "compile_timeout"))
    kind = d.get("time_limit_policy")
    try:
        if kind == "language":
            if flat is not None:
                raise RequestError("settings.time_limit is a flat limit; it takes no time_limit_policy 'language'")
            policy = LimitPolicy(kind="language", run_timeout=run_timeout, compile_timeout=compile_timeout)
        elif kind in (None, "reference", "flat"):
            if kind == "flat" and flat is None:
                raise RequestError("time_limit_policy 'flat' needs settings.time_limit (CPU seconds)")
            if kind == "reference" and flat is not None:
                raise RequestError("time_limit_policy 'reference' takes no settings.time_limit")
            policy = LimitPolicy.from_options(flat, None, run_timeout, compile_timeout)
        else:
            raise RequestError(f"settings.time_limit_policy must be reference, flat or language (got {kind!r})")
    except RequestError:
        raise
    except HarnessError as exc:
        raise RequestError(str(exc)) from None
    return JudgeSettings(variant, clean, policy)


def fingerprint(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# ------------------------------------------------------------------ submissions
ACTIVE, DONE, CANCELLED, EXPIRED = "running", "done", "cancelled", "expired"


@dataclass
class Item:
    """One program of a submission, as the queue holds it."""
    sub: "Submission"
    index: int
    language: str
    key: object                 # what it runs under: ("judge", JudgeSettings) or ("run",)
    uid: int                    # unique among every item of the server (the internal sample index)
    job: object = None          # execute.Job (judge)
    request: Optional[dict] = None  # runner request (run)
    digest: str = ""
    seq: int = 0                # queue order


@dataclass
class Submission:
    id: str
    request_id: Optional[str]
    fingerprint: str
    kind: str                   # judge | run
    total: int
    deadline_s: Optional[float]
    shape: Callable = None      # (item, outcome-record) -> the record returned
    meta: dict = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    results: list = None
    order: list = field(default_factory=list)  # indices in completion order (streams)
    state: str = ACTIVE
    reason: str = ""
    items: list = field(default_factory=list)
    deadline: Optional[float] = None
    finished_at: Optional[float] = None
    attempts: int = 1

    def __post_init__(self):
        self.results = [None] * self.total
        self._waiters: list = []
        self._lock = threading.Lock()
        self._done_event = threading.Event()

    @property
    def done(self) -> int:
        return len(self.order)

    @property
    def terminal(self) -> bool:
        return self.state != ACTIVE

    def add_waiter(self, loop, event) -> None:
        with self._lock:
            self._waiters.append((loop, event))

    def remove_waiter(self, loop, event) -> None:
        with self._lock:
            try:
                self._waiters.remove((loop, event))
            except ValueError:
                pass

    def notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop is closed
                pass
        if self.terminal:
            self._done_event.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocking wait for the end (threads; the app waits with ``add_waiter``)."""
        return self._done_event.wait(timeout)

    def counts(self) -> dict:
        c = collections.Counter(r.get("status") for r in self.results if r is not None)
        return {s: c[s] for s in STATUSES if c[s]}

    def status(self) -> dict:
        return {"job_id": self.id, "request_id": self.request_id, "kind": self.kind, "state": self.state,
                "reason": self.reason or None, "total": self.total, "done": self.done, "counts": self.counts(),
                "created": self.created, "finished": self.finished_at, "attempts": self.attempts, **self.meta}


# ------------------------------------------------------------------ the engine
class Engine:
    def __init__(self, workers: int = 2, max_queue: int = 2048, chunk: int = 16, data_dir=None,
                 cache: bool = True, ray: Optional[str] = None, languages=None, sandbox_factory=None,
                 default_deadline_s: float = 600.0, max_deadline_s: float = 3600.0, keep_finished: int = 10000,
                 log=print, image_check: Optional[Callable[[str], Optional[str]]] = None):
        self.workers = max(1, int(workers))
        self.max_queue = max(1, int(max_queue))
        self.chunk = max(1, int(chunk))
        self.data_dir = data_dir
        self.ray = ray
        self.languages = tuple(languages or LANGUAGES)
        self.default_deadline_s = default_deadline_s
        self.max_deadline_s = max_deadline_s
        self.keep_finished = keep_finished
        self.log = log
        self._factory = sandbox_factory or docker_factory()  # language -> a fresh (unstarted) sandbox
        # language -> None when its programs can run here, else why not (a one-line fix); the local Docker
        # sandboxes' images by default (a Ray cluster's nodes check their own)
        if image_check is None and sandbox_factory is None and not ray:
            from ..sandbox.images import image_missing
            image_check = image_missing
        self._image_check = image_check
        self._images_found: set = set()
        self.reserves: Dict[str, WarmReserve] = {}
        self._problems: Dict[str, dict] = {}
        self._executors: Dict[object, object] = {}
        self._measurers: Dict[object, object] = {}  # per policy: the executor that measures reference times
        self._prepare_locks: Dict[object, threading.Lock] = collections.defaultdict(threading.Lock)
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._pending: Dict[str, collections.deque] = {name: collections.deque() for name in LANGUAGES}
        self._seq = itertools.count()
        self._uid = itertools.count(1)
        self.in_flight = 0
        self._subs: "collections.OrderedDict[str, Submission]" = collections.OrderedDict()
        self._by_request: Dict[str, Submission] = {}
        self.accepting = False
        self._stopping = False
        self._threads: List[threading.Thread] = []
        self._cache_enabled = cache
        self.cache = None
        # metrics
        self.started_at = time.time()
        self.ready = False
        self.statuses = collections.Counter()     # verdicts of samples
        self.runs = collections.Counter()         # arbitrary programs: finished, compile_error, harness_error
        self.programs_done = 0
        self.programs_enqueued = 0
        self.harness_errors = 0
        self.engine_errors = 0
        self.submissions = collections.Counter()  # by kind and outcome
        self.rejected = collections.Counter()     # queue_full, too_large, draining, conflict, bad_request
        self._recent = collections.deque()        # (time, programs) of the last minute
        self._latencies = collections.deque(maxlen=2048)  # seconds from submission to its end (done only)

    # -------------------------------------------------------------- life cycle
    def start(self, warm: bool = True) -> None:
        if self._cache_enabled:
            from ..evaluate import open_cache
            self.cache = open_cache(True)
        if warm and not self.ray:
            t0 = time.monotonic()
            for name in self.languages:
                self._reserve(name).warm()
            self.log(f"serve: {self.workers} sandbox(es) per language warm ({', '.join(self.languages)}) "
                     f"in {time.monotonic() - t0:.1f} s")
        self.load_problems(DEFAULT_VARIANT)
        slots = 1 if self.ray else self.workers
        for i in range(slots):
            t = threading.Thread(target=self._slot, name=f"hx-serve-slot-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        reaper = threading.Thread(target=self._reaper, name="hx-serve-reaper", daemon=True)
        reaper.start()
        self._threads.append(reaper)
        self.accepting = True
        self.ready = True

    def drain(self, timeout: float = 60.0) -> dict:
        """Take no new work, finish what is queued and in flight (up to ``timeout`` seconds), then cancel
        the rest (its waiters are answered: 503 with what is done), stop the slots and every sandbox."""
        with self._lock:
            self.accepting = False
        t0 = time.monotonic()
        with self._cond:
            while (self.queue_depth or self.in_flight) and time.monotonic() - t0 < timeout:
                self._cond.wait(0.5)
            left = self.queue_depth + self.in_flight
        for sub in list(self._subs.values()):
            if not sub.terminal:
                self.cancel(sub, "the server shut down before it finished")
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=5)
        for reserve in self.reserves.values():
            reserve.close()
        for ex in self._executors.values():
            if hasattr(ex, "close"):
                try:
                    ex.close()
                except Exception:  # noqa: BLE001
                    pass
        if self.cache is not None:
            self.cache.close()
        return {"drained_in_s": round(time.monotonic() - t0, 2), "left_unfinished": left}

    # -------------------------------------------------------------- pieces
    def _reserve(self, language: str) -> WarmReserve:
        with self._lock:
            if language not in self.reserves:
                self.reserves[language] = WarmReserve(language, lambda: self._factory(language), self.workers)
            return self.reserves[language]

    def _lease_factory(self, language: str) -> Sandbox:
        return Lease(self._reserve(language))

    def load_problems(self, variant: str, languages=None) -> dict:
        """task_id -> Problem of ``languages`` (default: those started at once) in ``variant``; each
        language's data is read on its first use, so every language is judged, the paper's or not."""
        names = tuple(languages or self.languages)
        with self._lock:
            loaded = self._problems.setdefault(variant, {})
            for name in names:
                if name not in loaded:
                    loaded[name] = load_problems([name], data_dir=self.data_dir, variant=variant)
            return {tid: p for name in names for tid, p in loaded[name].items()}

    def check_built(self, languages) -> None:
        """NotBuilt unless every one of ``languages`` can run here (its sandbox image is built)."""
        for name in sorted(set(languages) - self._images_found):
            why = self._image_check(name) if self._image_check else None
            if why:
                self.rejected["not_built"] += 1
                raise NotBuilt(why)
            self._images_found.add(name)

    def executor(self, settings: JudgeSettings):
        """The executor of ``settings``' policy; its limits grow with each submission's problems (``add_limits``)."""
        key = settings.policy
        with self._lock:
            if key not in self._executors:
                factory, workers = (None, None) if self.ray else (self._lease_factory, 1)
                self._executors[key] = make_executor(factory, workers, cache=self.cache, ray=self.ray, log=self.log,
                                                     limits=ResolvedLimits(key))
                self._measurers[key] = reference_times.measurer(factory, workers)
            return self._executors[key]

    def add_limits(self, executor, policy: LimitPolicy, jobs: list, problems: dict) -> None:
        """The per-problem limits of ``jobs`` under ``policy`` (reference times measured once per image) added
        to ``executor``'s, before their digests are taken; the caller holds the policy's lock."""
        resolved = reference_times.resolve(policy, {j.sample.task_id for j in jobs}, problems,
                                           self._measurers[policy], log=self.log)
        executor.limits = executor.limits.merged(resolved)

    @property
    def queue_depth(self) -> int:
        return sum(len(q) for q in self._pending.values())

    # -------------------------------------------------------------- submitting
    def _deadline(self, deadline_s) -> Optional[float]:
        if deadline_s is None:
            deadline_s = self.default_deadline_s
        if isinstance(deadline_s, bool) or not isinstance(deadline_s, (int, float)) or deadline_s <= 0:
            raise RequestError(f"deadline_s must be a number of seconds > 0 (got {deadline_s!r})")
        return min(float(deadline_s), self.max_deadline_s)

    def existing(self, request_id: Optional[str], fp: str) -> Optional[Submission]:
        """The submission of this request id (None: a new one); Conflict for another body."""
        if not request_id:
            return None
        with self._lock:
            sub = self._by_request.get(request_id)
        if sub is not None and sub.fingerprint != fp:
            self.rejected["conflict"] += 1
            raise Conflict(f"request id {request_id!r} was used for another request; use a new id")
        return sub

    def submit_judge(self, samples, settings: dict = None, request_id: Optional[str] = None,
                     deadline_s=None, fp: str = "", compact: bool = False) -> Submission:
        """A submission for HumanEval-X samples (as evaluate-samples reads them); admitted whole or not."""
        sub = self.existing(request_id, fp)
        if sub is not None:
            return self._resume(sub, deadline_s)
        self._check_accepting()
        if not isinstance(samples, list) or not samples:
            raise RequestError("samples must be a non-empty list of objects")
        if len(samples) > self.max_queue:
            self.rejected["too_large"] += 1
            raise QueueFull(f"{len(samples)} samples are more than the queue holds ({self.max_queue}); "
                            "send them in smaller batches", None)
        js = parse_settings(settings)
        deadline = self._deadline(deadline_s)
        counters: Dict[tuple, int] = {}
        parsed, seen = [], set()
        for i, rec in enumerate(samples):
            if not isinstance(rec, dict):
                raise RequestError(f"samples[{i}]: not an object")
            try:
                s = parse_sample(rec, f"samples[{i}]", counters)
            except HarnessError as exc:
                raise RequestError(str(exc)) from None
            if s.key in seen:
                raise RequestError(f"samples[{i}]: duplicate sample {s.task_id} #{s.sample_index}")
            seen.add(s.key)
            parsed.append(s)
        languages = {language_of_task(s.task_id).name for s in parsed}
        self.check_built(languages)
        self._admit(len(parsed))
        problems = self.load_problems(js.variant, languages)
        executor = self.executor(js)
        key = ("judge", js)
        sub = Submission(uuid.uuid4().hex, request_id, fp, "judge", len(parsed), deadline,
                         meta={"settings": js.describe()})
        items = []
        for i, s in enumerate(parsed):
            if s.task_id not in problems:
                raise RequestError(f"samples[{i}]: no problem {s.task_id} in the {js.variant} data")
            uid = next(self._uid)
            inner = Sample(s.task_id, uid, s.generation, s.source_language, s.whole, s.answer, s.reasoning)
            job = make_job(inner, problems[s.task_id], clean=js.clean)
            items.append(Item(sub, i, job.language, key, uid, job=job))
        with self._prepare_locks[js.policy]:  # per-problem limits (may measure reference times: once per image)
            self.add_limits(executor, js.policy, [it.job for it in items], problems)
            for it in items:
                it.digest = executor.digest(it.job)
        original = {i: s.sample_index for i, s in enumerate(parsed)}

        def shape(item: Item, rec: dict) -> dict:
            rec["sample_index"] = original[item.index]
            rec["digest"] = item.digest
            if compact:
                for k in ("generation", "cleaned", "answer", "reasoning"):
                    rec.pop(k, None)
            return rec

        sub.shape = shape
        sub.items = items
        return self._enqueue(sub, items)

    def submit_run(self, language: str, request: dict, shape: Callable, request_id: Optional[str] = None,
                   deadline_s=None, fp: str = "") -> Submission:
        """A submission of one arbitrary program (a runner request, see runcode.py)."""
        sub = self.existing(request_id, fp)
        if sub is not None:
            return self._resume(sub, deadline_s)
        self._check_accepting()
        deadline = self._deadline(deadline_s)
        self.check_built([language])
        self._admit(1)
        sub = Submission(uuid.uuid4().hex, request_id, fp, "run", 1, deadline)
        uid = next(self._uid)
        item = Item(sub, 0, language, ("run",), uid, request=dict(request, id=f"run:{uid}"))
        sub.shape = lambda item, rec: shape(rec)
        sub.items = [item]
        return self._enqueue(sub, [item])

    def _check_accepting(self) -> None:
        if not self.accepting:
            self.rejected["draining"] += 1
            raise Unavailable("the server is shutting down" if self.ready else "the server is starting")

    def _admit(self, n: int) -> None:
        depth = self.queue_depth
        if depth + n > self.max_queue:
            self.rejected["queue_full"] += 1
            rate = self.programs_per_second() or 1.0
            raise QueueFull(f"the queue holds {depth} of {self.max_queue} programs; {n} more do not fit now",
                            max(1.0, min(60.0, math.ceil((depth + n - self.max_queue) / rate))))

    def _enqueue(self, sub: Submission, items: List[Item]) -> Submission:
        with self._cond:
            self._check_accepting()
            depth = self.queue_depth
            if depth + len(items) > self.max_queue:  # raced with another submission
                self._admit(len(items))
            if sub.request_id:
                old = self._by_request.get(sub.request_id)
                if old is not None:  # a concurrent retry won: that one is the submission
                    if old.fingerprint != sub.fingerprint:
                        raise Conflict(f"request id {sub.request_id!r} was used for another request")
                    return old
                self._by_request[sub.request_id] = sub
            sub.deadline = time.monotonic() + sub.deadline_s if sub.deadline_s else None
            self._subs[sub.id] = sub
            for it in items:
                it.seq = next(self._seq)
                self._pending[it.language].append(it)
            self.programs_enqueued += len(items)
            self.submissions[f"{sub.kind}_submitted"] += 1
            self._forget_old()
            self._cond.notify_all()
        return sub

    def _resume(self, sub: Submission, deadline_s) -> Submission:
        """A retry: the same submission; one that ended by deadline or cancel runs what it lacks."""
        if sub.state in (EXPIRED, CANCELLED):
            self._check_accepting()
            missing = [it for it in sub.items if sub.results[it.index] is None]
            self._admit(len(missing))
            with self._cond:
                if sub.state in (EXPIRED, CANCELLED):
                    sub.state, sub.reason, sub.finished_at = ACTIVE, "", None
                    sub._done_event.clear()
                    sub.attempts += 1
                    sub.deadline_s = self._deadline(deadline_s)
                    sub.deadline = time.monotonic() + sub.deadline_s
                    for it in missing:
                        it.seq = next(self._seq)
                        self._pending[it.language].append(it)
                    self.programs_enqueued += len(missing)
                    self._cond.notify_all()
        self.submissions["retries_answered"] += 1
        return sub

    def _forget_old(self) -> None:
        """Finished submissions beyond ``keep_finished`` are forgotten, oldest first (under the lock)."""
        excess = len(self._subs) - self.keep_finished
        if excess <= 0:
            return
        for sid in list(self._subs)[:excess * 2]:
            sub = self._subs[sid]
            if sub.terminal and excess > 0:
                del self._subs[sid]
                if sub.request_id and self._by_request.get(sub.request_id) is sub:
                    del self._by_request[sub.request_id]
                excess -= 1

    def get(self, job_id: str) -> Optional[Submission]:
        return self._subs.get(job_id)

    def cancel(self, sub: Submission, reason: str = "cancelled", state: str = CANCELLED) -> None:
        with self._cond:
            if sub.terminal:
                return
            sub.state, sub.reason, sub.finished_at = state, reason, time.time()
            for name, q in self._pending.items():
                if any(it.sub is sub for it in q):
                    self._pending[name] = collections.deque(it for it in q if it.sub is not sub)
            self.submissions[f"{sub.kind}_{state}"] += 1
            self._cond.notify_all()
        sub.notify()

    def _reaper(self) -> None:
        while not self._stopping:
            now = time.monotonic()
            for sub in list(self._subs.values()):
                if not sub.terminal and sub.deadline is not None and now > sub.deadline:
                    self.cancel(sub, f"deadline of {sub.deadline_s:g} s passed with {sub.done} of {sub.total} "
                                     "done; retry with the same request id to run only the rest", EXPIRED)
            time.sleep(0.25)

    # -------------------------------------------------------------- slots
    def _take(self):
        """The oldest program's language and kind, and a chunk of that kind's programs (under the lock)."""
        heads = [(q[0].seq, name) for name, q in self._pending.items() if q]
        if not heads:
            return None, []
        _, name = min(heads)
        q = self._pending[name]
        key = q[0].key
        limit = LANGUAGES[name].batch_size if LANGUAGES[name].batch_kind else self.chunk
        limit = min(limit, max(1, math.ceil(len(q) / (1 if self.ray else self.workers))))
        if self.ray:
            limit = max(limit, 256)
        taken, kept = [], collections.deque()
        while q:
            it = q.popleft()
            if len(taken) < limit and it.key == key:
                taken.append(it)
            else:
                kept.append(it)
                if len(taken) >= limit:
                    kept.extend(q)
                    q.clear()
        self._pending[name] = kept
        return name, taken

    def _slot(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self.queue_depth:
                    self._cond.wait()
                if self._stopping:
                    return
                name, items = self._take()
                self.in_flight += len(items)
            try:
                if items:
                    self._run(name, items)
            finally:
                with self._cond:
                    self.in_flight -= len(items)
                    self._cond.notify_all()

    def _run(self, name: str, items: List[Item]) -> None:
        live = {it.uid: it for it in items}
        try:
            if items[0].key[0] == "judge":
                executor = self.executor(items[0].key[1])
                executor.run([it.job for it in items], lambda rec: self._finish(live.pop(rec["sample_index"]), rec))
            else:
                reqs = {it.request["id"]: it for it in items}
                pool = SandboxPool(lambda: self._lease_factory(name), 1)
                with pool:
                    for request, outcome in unbatched(pool.map([it.request for it in items])):
                        it = reqs[request["id"]]
                        live.pop(it.uid, None)
                        self._finish(it, outcome.to_wire())
        except Exception as exc:  # noqa: BLE001 - the harness failed: these programs' harness_error, never a verdict
            self.engine_errors += 1
            detail = f"harness: {type(exc).__name__}: {exc}"[:300]
            self.log(f"serve: a chunk of {len(items)} {name} program(s) failed in the harness: {detail}")
            for it in list(live.values()):
                outcome = harness_error(None, detail)
                self._finish(it, result_record(it.job, outcome, False) if it.job is not None else outcome)

    def _finish(self, item: Item, rec: dict) -> None:
        sub = item.sub
        out = sub.shape(item, dict(rec))
        status = rec.get("status") or "harness_error"
        now = time.monotonic()
        with self._lock:
            self.programs_done += 1
            if item.key[0] == "judge":
                self.statuses[status] += 1
            else:
                self.runs[status if status in ("harness_error", "compile_error") else "finished"] += 1
            if status == "harness_error":
                self.harness_errors += 1
            self._recent.append((now, 1))
            while self._recent and now - self._recent[0][0] > 60:
                self._recent.popleft()
            if sub.terminal or sub.results[item.index] is not None:
                return  # cancelled meanwhile (kept nonetheless for a retry), or already answered
            sub.results[item.index] = out
            sub.order.append(item.index)
            if sub.done == sub.total:
                sub.state, sub.finished_at = DONE, time.time()
                self.submissions[f"{sub.kind}_done"] += 1
                self._latencies.append(sub.finished_at - sub.created)
        sub.notify()

    # -------------------------------------------------------------- reading
    def programs_per_second(self, window: float = 60.0) -> float:
        now = time.monotonic()
        with self._lock:
            recent = [t for t, _ in self._recent if now - t <= window]
        if not recent:
            return 0.0
        span = max(1.0, min(window, now - recent[0], time.time() - self.started_at))
        return len(recent) / span

    def health(self) -> dict:
        return {"status": "ok" if self.accepting else ("draining" if self.ready else "starting"),
                "queue_depth": self.queue_depth, "in_flight": self.in_flight, "max_queue": self.max_queue,
                "workers": {name: {"idle": r.idle, "leased": r.leased} for name, r in self.reserves.items()},
                "ray": self.ray or None}

    def metrics(self) -> dict:
        lat = sorted(self._latencies)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None
        model = {s: self.statuses[s] for s in MODEL_STATUSES}
        return {
            "uptime_s": round(time.time() - self.started_at, 1),
            "queue_depth": self.queue_depth, "in_flight": self.in_flight, "max_queue": self.max_queue,
            "programs_enqueued": self.programs_enqueued, "programs_done": self.programs_done,
            "programs_per_second_1m": round(self.programs_per_second(), 3),
            "statuses": {**model, "harness_error": self.statuses["harness_error"]},
            "runs": dict(self.runs), "harness_errors": self.harness_errors, "engine_errors": self.engine_errors,
            "worker_replacements": sum(r.replaced for r in self.reserves.values()),
            "workers_started": sum(r.started for r in self.reserves.values()),
            "submissions": dict(self.submissions), "rejected": dict(self.rejected),
            "submission_latency_s": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "n": len(lat)},
            "executed": sum(getattr(e, "executed", 0) for e in self._executors.values()),
            "cache_hits": sum(getattr(e, "cache_hits", 0) for e in self._executors.values()),
        }


def task_language(task_id: str) -> str:
    return language_of_task(task_id).name
