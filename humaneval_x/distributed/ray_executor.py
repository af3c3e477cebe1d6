"""The execution stage on a Ray cluster, behind the interface of ``execute.Executor``.

``RayExecutor.run(jobs, on_result, progress)`` is what ``Executor.run`` is: jobs in, one
``on_result(record)`` per job as verdicts arrive, seconds per language out; evaluate.py and
selfcheck.py use either. What differs is where programs run:

- One ``NodeExecutor`` actor per node, pinned there (``NodeAffinitySchedulingStrategy``, hard),
  owns that node's Docker sandboxes: one long-lived single-sandbox ``SandboxPool`` per slot and
  language, ``--workers`` slots (default: the node's CPUs in Ray's view, which the actor
  reserves so Ray schedules nothing else onto those cores). Each program's boundary is the
  sandbox's, exactly as on one machine (Ray's resources only decide placement and counts).
- Images: every node runs the driver's images, checked by image id (see ``images.py``).
- The driver dedupes programs across the whole run (by program hash, as ``Executor``), answers
  what the results cache holds, and cuts the rest into chunks of one language: about
  ``CHUNKS_PER_SLOT`` chunks per slot of the cluster, at most ``MAX_CHUNK`` programs (Go: up to its
  link batch, so batching still pays), and keeps ``1 + QUEUED_PER_SLOT`` chunks per slot in flight
  so no sandbox waits for the driver between chunks. A chunk's verdicts come back as one reply and
  are recorded at once (results.jsonl stays the one file, resumable as before).
- Faults: a chunk whose executor dies (actor killed, node gone, reply lost) runs again elsewhere
  (a new executor is started on the node if the node is still alive); a chunk that errs or
  overruns its deadline likewise. Verdicts are final the first time they arrive: each program is
  recorded once (later copies are dropped). ``harness_error`` outcomes (infrastructure) are
  retried on another executor, up to ``MAX_ATTEMPTS`` in all; then recorded as harness errors,
  which a rerun retries, as on one machine.
"""
from __future__ import annotations

import collections
import math
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional

from ..errors import HarnessError
from ..execute import Executor, Job, RunBook, batch_requests, unbatched
from ..languages import LANGUAGES
from ..limits import Timeouts
from ..protocol import Outcome, Request, host_timeout
from ..sandbox.base import SandboxLimits
from ..sandbox.pool import SandboxPool

MAX_ATTEMPTS = 3        # runs of one program (infrastructure failures only) before it is a harness_error
MAX_CHUNK = 16          # programs per chunk at most
CHUNKS_PER_SLOT = 4     # a language's programs are cut into about this many chunks per slot (short tail)
QUEUED_PER_SLOT = 1     # chunks waiting on a node per slot, besides the one running
NODE_RESTARTS = 2       # new executors started on a node whose executor died, while the node lives
START_TIMEOUT = 600.0   # seconds for an executor to start and hold the images (a docker load included)


class NodeExecutor:
    """One node's sandboxes (a Ray actor pinned to the node; threaded: one thread per chunk)."""

    def __init__(self, workers: int, limits: SandboxLimits = SandboxLimits(), sandbox_factory=None):
        self.workers = max(1, int(workers))
        self.limits = limits
        self.sandbox_factory = sandbox_factory  # tests/benchmarks: language -> Sandbox
        self.tags: Dict[str, str] = {}
        self._idle: Dict[str, List[SandboxPool]] = collections.defaultdict(list)
        self._count: collections.Counter = collections.Counter()
        self._cv = threading.Condition()
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import docker
            self._client = docker.from_env(timeout=300)
        return self._client

    def describe(self) -> dict:
        import ray
        return {"node_id": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(),
                "workers": self.workers}

    # ------------------------------------------------------------------ images
    def images(self, wanted: Dict[str, dict]) -> Dict[str, Optional[str]]:
        """Use these tags; {lang: the image id this node holds under the tag, or None}."""
        self.tags.update({lang: w["tag"] for lang, w in wanted.items()})
        if self.sandbox_factory is not None:
            return {lang: w.get("id") for lang, w in wanted.items()}
        held = {}
        for lang, w in wanted.items():
            try:
                held[lang] = self.client.images.get(w["tag"]).id
            except Exception:
                held[lang] = None
        return held

    def load(self, lang: str, parts: list) -> Optional[str]:
        """``docker load`` the archive of ``lang``'s image; the id now held under its tag."""
        from .images import load_archive
        load_archive(self.client, parts)
        return self.images({lang: {"tag": self.tags[lang]}})[lang]

    def archive(self, lang: str) -> list:
        """This node's image of ``lang`` as object refs (when the driver holds no images itself)."""
        from .images import put_archive
        return put_archive(self.client, self.tags[lang])

    # ------------------------------------------------------------------ work
    def _factory(self, lang: str):
        if self.sandbox_factory is not None:
            return lambda: self.sandbox_factory(lang)
        from ..sandbox.docker_sandbox import DockerSandbox
        tag = self.tags[lang]
        return lambda: DockerSandbox(lang, tag, self.limits, client=self.client)

    def _acquire(self, lang: str) -> SandboxPool:
        with self._cv:
            while True:
                if self._idle[lang]:
                    return self._idle[lang].pop()
                if self._count[lang] < self.workers:
                    self._count[lang] += 1
                    # at most ``workers`` sandboxes per node: idle ones of other languages make room
                    surplus = sum(self._count.values()) - self.workers
                    victims = []
                    for other, pools in self._idle.items():
                        while other != lang and pools and surplus > 0:
                            victims.append(pools.pop())
                            self._count[other] -= 1
                            surplus -= 1
                    break
                self._cv.wait()
        for pool in victims:
            pool.stop()
        pool = SandboxPool(self._factory(lang), 1)
        try:
            pool.start()
        except BaseException:
            with self._cv:
                self._count[lang] -= 1
                self._cv.notify_all()
            raise
        return pool

    def _release(self, lang: str, pool: SandboxPool, keep: bool) -> None:
        if not keep:
            pool.stop()
        with self._cv:
            if keep:
                self._idle[lang].append(pool)
            else:
                self._count[lang] -= 1
            self._cv.notify_all()

    def run_chunk(self, lang: str, requests: List[Request]) -> dict:
        """Run one chunk of ``lang`` requests in one slot; every request's ``Outcome``, as one reply."""
        t0 = time.monotonic()
        pool = self._acquire(lang)
        keep = False
        try:
            results = [(r["id"], o) for r, o in unbatched(pool.map(batch_requests(LANGUAGES[lang], requests)))]
            keep = not any(o.status == "harness_error" for _, o in results)
            replaced, pool.replacements = pool.replacements, 0
        finally:
            self._release(lang, pool, keep)
        return {"results": results, "replacements": replaced, "seconds": time.monotonic() - t0}

    def release(self, lang: str) -> None:
        """The driver has no more work of ``lang``: stop its idle sandboxes."""
        with self._cv:
            pools, self._idle[lang] = self._idle[lang], []
            self._count[lang] -= len(pools)
            self._cv.notify_all()
        for p in pools:
            p.stop()

    def shutdown(self) -> None:
        for lang in list(self._idle):
            self.release(lang)


@dataclass
class _Chunk:
    lang: str
    requests: List[Request]
    attempts: int = 0
    avoid: set = field(default_factory=set)   # executors (by number) that failed it
    detail: str = ""                          # the last failure, for the record if it gives up

    @property
    def deadline_s(self) -> float:  # generous: it may wait for one chunk ahead of it in its slot
        return 2 * sum(host_timeout(r.to_wire()) for r in self.requests) + 300.0


@dataclass
class _Node:
    number: int
    node_id: str
    handle: object
    slots: int
    inflight: int = 0
    alive: bool = True
    chunks_done: int = 0


class RayExecutor(Executor):
    """``Executor`` on a Ray cluster: same ``run`` contract, counters, result digests and limit policy
    (inherited: a verdict's digest is the same as a local run's, so either resumes the other)."""

    def __init__(self, address: str = "auto", workers: Optional[int] = None, timeouts: Timeouts = Timeouts(),
                 cache=None, naive: bool = False, sandbox_factory: Optional[Callable] = None,
                 sandbox_limits: SandboxLimits = SandboxLimits(), executor_cls=None, log=print, **executor_options):
        super().__init__(sandbox_factory, workers, timeouts, cache=cache, naive=naive, **executor_options)
        self.address = address
        self.node_workers = workers       # slots per node; None: the node's CPUs
        self.user_factory = sandbox_factory
        self.sandbox_limits = sandbox_limits
        self.executor_cls = executor_cls or NodeExecutor
        self.log = log
        self.stats = collections.Counter()
        self.nodes: List[_Node] = []
        self.expected: Optional[Dict[str, dict]] = None
        self._source: Optional[_Node] = None
        self._client = None
        self._archives: Dict[str, list] = {}
        self._restarts: collections.Counter = collections.Counter()

    # ------------------------------------------------------------------ executors
    def _node_list(self, ray) -> List[dict]:
        return [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) >= 1]

    def _spawn(self, ray, node: dict, number: int):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        cpus = int(node["Resources"]["CPU"])
        slots = self.node_workers or cpus
        cls = ray.remote(self.executor_cls)
        handle = cls.options(num_cpus=min(slots, cpus), max_concurrency=2 * (1 + QUEUED_PER_SLOT) * slots + 4,
                             scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
                             max_restarts=0).remote(slots, self.sandbox_limits, self.user_factory)
        return _Node(number, node["NodeID"], handle, slots)

    def _expected_images(self, langs: List[str]) -> Optional[Dict[str, dict]]:
        """The driver's own images, when it holds them all (else None: a node's become the reference)."""
        if self.user_factory is not None:
            return {lang: {"tag": f"factory:{lang}", "id": f"factory:{lang}"} for lang in langs}
        try:
            import docker

            from .images import image_ids
            client = docker.from_env(timeout=300)
            ids = image_ids(langs, client)
        except Exception:
            return None
        if any(v["id"] is None for v in ids.values()):
            return None
        self._client = client
        return ids

    def _archive_refs(self, ray, lang: str, source) -> list:
        if lang not in self._archives:
            self.log(f"ray: shipping the {lang} sandbox image to the nodes that lack it")
            if source is None:
                from .images import put_archive
                self._archives[lang] = put_archive(self._client, self.expected[lang]["tag"])
            else:
                self._archives[lang] = ray.get(source.handle.archive.remote(lang))
        return self._archives[lang]

    def _admit(self, ray, node: _Node, held: Dict[str, Optional[str]], source) -> None:
        """Make ``node`` hold exactly the reference images (loading archives where it does not)."""
        missing = [lang for lang, want in self.expected.items() if held.get(lang) != want["id"]]
        loads = {lang: node.handle.load.remote(lang, self._archive_refs(ray, lang, source)) for lang in missing}
        for lang, ref in loads.items():
            got = ray.get(ref, timeout=START_TIMEOUT)
            if got != self.expected[lang]["id"]:
                raise HarnessError(f"node {node.node_id[:8]} holds {got} for {lang} after loading "
                                   f"{self.expected[lang]}")
            self.stats["images_shipped"] += 1

    def _start(self, ray, langs: List[str]) -> None:
        nodes = self._node_list(ray)
        if not nodes:
            raise HarnessError("the Ray cluster has no live node with a CPU")
        self.nodes = [self._spawn(ray, n, i) for i, n in enumerate(nodes)]
        self.expected = self._expected_images(langs)
        wanted = self.expected or {lang: {"tag": _recipe_tag(lang)} for lang in langs}
        replies = {n.number: n.handle.images.remote(wanted) for n in self.nodes}
        held = {}
        for n in self.nodes:
            try:
                held[n.number] = ray.get(replies[n.number], timeout=START_TIMEOUT)
            except Exception as exc:
                n.alive = False
                self.log(f"ray: node {n.node_id[:8]} left out: its executor did not start ({_first_line(exc)})")
        live = [n for n in self.nodes if n.alive]
        if not live:
            raise HarnessError("no Ray node could start an executor (is Docker running on the nodes?)")
        source = None
        if self.expected is None:  # the driver holds no images: the first node holding them all is the reference
            source = next((n for n in live if all(held[n.number].get(lang) for lang in langs)), None)
            if source is None:
                raise HarnessError("neither the driver nor any Ray node holds the sandbox images: "
                                   "run `humaneval-x sandbox build` on the driver")
            self.expected = {lang: {"tag": wanted[lang]["tag"], "id": held[source.number][lang]} for lang in langs}
        self._source = source
        for n in live:
            try:
                self._admit(ray, n, held[n.number], source)
            except Exception as exc:
                n.alive = False
                ray.kill(n.handle)
                self.log(f"ray: node {n.node_id[:8]} left out: it cannot get the images ({_first_line(exc)})")
        if not any(n.alive for n in self.nodes):
            raise HarnessError("no Ray node could get the sandbox images")
        self.identities = {lang: v["id"] for lang, v in self.expected.items()}
        self.stats["nodes"] = sum(n.alive for n in self.nodes)
        self.stats["slots"] = sum(n.slots for n in self.nodes if n.alive)

    def _restart(self, ray, dead: _Node) -> Optional[_Node]:
        """A new executor on ``dead``'s node, if the node lives (returns it once it holds the images)."""
        if self._restarts[dead.node_id] >= NODE_RESTARTS:
            return None
        node = next((n for n in self._node_list(ray) if n["NodeID"] == dead.node_id), None)
        if node is None:
            return None
        self._restarts[dead.node_id] += 1
        fresh = self._spawn(ray, node, len(self.nodes))
        try:
            held = ray.get(fresh.handle.images.remote(self.expected), timeout=START_TIMEOUT)
            self._admit(ray, fresh, held, self._source if self._source is not None and self._source.alive else None)
        except Exception as exc:
            ray.kill(fresh.handle)
            self.log(f"ray: could not restart the executor on node {dead.node_id[:8]} ({_first_line(exc)})")
            return None
        self.nodes.append(fresh)
        self.stats["executors_restarted"] += 1
        return fresh

    def close(self) -> None:
        import ray
        for n in self.nodes:
            if n.alive:
                try:
                    ray.get(n.handle.shutdown.remote(), timeout=60)
                except Exception:
                    pass
                ray.kill(n.handle)
                n.alive = False
        self._archives.clear()

    # ------------------------------------------------------------------ the run
    def chunk_size(self, lang: str, n: int) -> int:
        slots = max(1, self.stats["slots"])
        size = max(1, min(MAX_CHUNK, math.ceil(n / (slots * CHUNKS_PER_SLOT))))
        spec = LANGUAGES[lang]
        if spec.batch_kind and not self.naive:  # linked together in the node: keep batches whole where there is work
            size = max(size, min(spec.batch_size, math.ceil(n / slots)))
        return size

    def image_id(self, lang_name: str) -> Optional[str]:
        """The reference image id of ``lang_name`` (every node runs it; set when the executors start)."""
        return self.identities.get(lang_name)

    def _execute(self, jobs: Iterable[Job], on_result: Callable[[dict], None], progress=None) -> Dict[str, float]:
        """The Ray way to workers: chunks of one language to the node executors; the bookkeeping is
        ``RunBook``'s, as for a local run."""
        from . import connect
        ray = connect(self.address, self.log)

        first: Dict[str, float] = {}
        last: Dict[str, float] = {}

        def delivered(lang: str) -> None:
            last[lang] = time.monotonic()
            todo[lang] -= 1
            if todo[lang] == 0:
                for n in self.nodes:
                    if n.alive:
                        n.handle.release.remote(lang)

        # each program runs once on the cluster (the flip audit's repeats are not carried to the nodes yet)
        book = RunBook(self, jobs, on_result, progress, on_delivered=delivered, repeat=1)
        langs = book.languages
        if not langs:
            return {}
        todo: Dict[str, int] = {lang: len(book.groups[lang]) for lang in langs}
        writes = _CacheWriter(self.cache) if self.cache is not None else None

        def deliver(rid: str, outcome: Outcome) -> None:
            if rid in book.delivered:  # verdicts are final the first time they arrive
                self.stats["duplicates_dropped"] += 1
                return
            # cache writes off the driver's loop: one sqlite commit per verdict
            book.ran(rid, outcome, self.image_id(book.lang_of[rid]), writes)

        t_start = time.monotonic()
        self._start(ray, langs)
        pending: collections.deque = collections.deque()
        try:
            for lang in langs:
                first[lang] = time.monotonic()
                requests = book.uncached(lang, self.image_id(lang))
                size = self.chunk_size(lang, len(requests))
                pending.extend(_Chunk(lang, requests[i:i + size]) for i in range(0, len(requests), size))
            self.stats["chunks"] += len(pending)
            self._loop(ray, pending, deliver)
        finally:
            self.close()
            if writes is not None:
                writes.close()
        self.stats["seconds"] = round(time.monotonic() - t_start, 2)
        return {lang: last.get(lang, first[lang]) - first[lang] for lang in langs}

    def _loop(self, ray, pending: collections.deque, deliver) -> None:
        inflight: Dict[object, tuple] = {}   # ref -> (chunk, node, submitted at)

        def give_up(chunk: _Chunk, detail: str) -> None:
            for r in chunk.requests:
                deliver(r.id, Outcome.harness_error(r.id, detail))

        def again(chunk: _Chunk, node: Optional[_Node], detail: str) -> None:
            chunk.attempts += 1
            chunk.detail = detail
            if node is not None:
                chunk.avoid.add(node.number)
            if chunk.attempts >= MAX_ATTEMPTS:
                give_up(chunk, f"gave up after {chunk.attempts} attempts on the Ray cluster: {detail}")
            else:
                self.stats["chunks_rerun"] += 1
                pending.appendleft(chunk)

        def lost(node: _Node, why: str) -> None:
            if not node.alive:
                return
            node.alive = False
            self.stats["executors_lost"] += 1
            self.log(f"ray: executor on node {node.node_id[:8]} lost ({why}); its unfinished chunks run elsewhere")
            for ref in [r for r, (_, n, _) in inflight.items() if n is node]:
                chunk, _, _ = inflight.pop(ref)
                node.inflight -= 1
                again(chunk, node, f"executor lost: {why}")
            try:
                ray.kill(node.handle)
            except Exception:
                pass
            self._restart(ray, node)

        while pending or inflight:
            live = [n for n in self.nodes if n.alive]
            if not live and not inflight:
                while pending:
                    give_up(pending.popleft(), "no Ray executor is left")
                break
            # keep every slot busy: (1 + QUEUED_PER_SLOT) chunks per slot in flight, the emptiest node first
            skip = set()
            while pending:
                free = [n for n in live if n.inflight < (1 + QUEUED_PER_SLOT) * n.slots and n.number not in skip]
                if not free:
                    break
                node = max(free, key=lambda n: ((1 + QUEUED_PER_SLOT) * n.slots - n.inflight) / n.slots)
                pick = next((i for i, c in enumerate(pending) if node.number not in c.avoid), None)
                if pick is None:
                    if any(n.number not in pending[0].avoid for n in live):
                        skip.add(node.number)  # another live node has not failed them yet: it takes them
                        continue
                    pick = 0  # every live node failed it before: try anyway (attempts are bounded)
                chunk = pending[pick]
                del pending[pick]
                ref = node.handle.run_chunk.remote(chunk.lang, chunk.requests)
                inflight[ref] = (chunk, node, time.monotonic())
                node.inflight += 1
            if not inflight:
                continue
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)
            if ready:
                ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=0)
            for ref in ready:
                if ref not in inflight:  # its executor was declared lost meanwhile
                    continue
                chunk, node, _ = inflight.pop(ref)
                node.inflight -= 1
                try:
                    reply = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    inflight[ref] = (chunk, node, 0.0)  # so that lost() reruns it with the rest
                    node.inflight += 1
                    lost(node, _first_line(exc))
                    continue
                except Exception as exc:  # the chunk failed on a live executor (or its reply was lost)
                    again(chunk, node, _first_line(exc))
                    continue
                node.chunks_done += 1
                self.replacements += reply.get("replacements", 0)
                retry = []
                for rid, outcome in reply["results"]:
                    if outcome.status == "harness_error" and chunk.attempts + 1 < MAX_ATTEMPTS:
                        retry.append(request_of_chunk(chunk, rid))
                    else:
                        deliver(rid, outcome)
                if retry:
                    self.stats["programs_retried"] += len(retry)
                    again(_Chunk(chunk.lang, retry, chunk.attempts, set(chunk.avoid)), node, "harness_error")
            now = time.monotonic()
            for ref, (chunk, node, t0) in list(inflight.items()):
                if t0 and now - t0 > chunk.deadline_s and node.alive:
                    lost(node, f"a chunk ran past its deadline of {chunk.deadline_s:.0f} s")

    def ray_stats(self) -> dict:
        return {"nodes": self.stats["nodes"], "slots": self.stats["slots"], **{
            k: v for k, v in self.stats.items() if k not in ("nodes", "slots")}}


class _CacheWriter:
    """Results-cache writes on a thread of their own, in arrival order (``close`` waits for all)."""

    def __init__(self, cache):
        import queue
        self.cache = cache
        self.queue: "queue.Queue" = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            try:
                self.cache.put(*item)
            except Exception:  # a cache is an optimisation: a failed write loses nothing of the run
                pass

    def put(self, key: str, outcome: dict) -> None:
        self.queue.put((key, outcome))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        flush = getattr(self.cache, "flush", None)
        if flush is not None:
            flush()


def request_of_chunk(chunk: _Chunk, rid: str) -> Request:
    return next(r for r in chunk.requests if r.id == rid)


def _recipe_tag(lang: str) -> str:
    from ..sandbox.images import image_tag
    return image_tag(lang)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__
