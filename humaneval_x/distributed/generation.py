"""Data-parallel generation on a Ray cluster: one replica per GPU, behind the ``Backend`` interface.

``RayGenerationBackend.generate(requests, params, on_completion)`` is what any backend's is, so
``generate.run_generation`` (resume, the one samples.jsonl, cleaning) is unchanged. Each replica
is a Ray actor (``num_gpus=1``; on a cluster without GPUs, ``num_cpus=1`` CPU replicas) holding a
backend from ``get_backend``; the model path must be readable on every node.

- Sharding: the requests (every prompt of the run, finished or not, as ``run_generation`` passes
  them) are sorted by prompt length and dealt round-robin, so shards are balanced in count and
  length, and a rerun deals the same shards: each replica plans the same batches as before.
- Seeds: a sample's random stream is ``sample_seed(seed, key, index)``, independent of which
  replica draws it, so sharding changes no seed. Bit-equal text additionally needs the same batch
  composition (on CPUs the last bits of the logits depend on batch shape).
- Completions stream back (a Ray streaming generator per replica) and are handed to
  ``on_completion`` on the calling thread, each (key, sample index) once.
- A replica that dies mid-run: its whole shard (the missing samples, the same planned set) goes to
  a live replica, up to ``MAX_ROUNDS`` times; samples already written stay.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import replace
from typing import Callable, Iterable, List, Optional

from ..errors import HarnessError
from ..generation.backend import Backend, Completion, GenerationRequest, SamplingParams

MAX_ROUNDS = 3
_END = object()


class GenerationReplica:
    """One data-parallel replica (a Ray actor): a backend, fed shards, streaming completions back."""

    def __init__(self, backend_name: str, options: dict):
        from ..generation.factory import get_backend
        self.backend = get_backend(backend_name, **options)

    def info(self) -> dict:
        import ray
        return {"node_id": ray.get_runtime_context().get_node_id(), "gpu_ids": [str(g) for g in ray.get_gpu_ids()],
                "chat_messages": bool(getattr(self.backend, "chat_messages", False))}

    def has_chat_template(self) -> bool:
        return bool(self.backend.has_chat_template())

    def chat_prompt(self, instruction: str, response_prefix: str) -> str:
        return self.backend.chat_prompt(instruction, response_prefix)

    def describe(self) -> dict:
        return self.backend.describe()

    def generate(self, requests: List[GenerationRequest], params: SamplingParams):
        """A generator: lists of completions as they finish (a Ray streaming generator)."""
        out: "queue.Queue" = queue.Queue()

        def work():
            try:
                self.backend.generate(requests, params, out.put)
            except BaseException as exc:  # noqa: BLE001 - handed to the driver
                out.put(exc)
            out.put(_END)

        threading.Thread(target=work, daemon=True).start()
        while True:
            items = [out.get()]
            while len(items) < 256:
                try:
                    items.append(out.get_nowait())
                except queue.Empty:
                    break
            done = [c for c in items if isinstance(c, Completion)]
            if done:
                yield done
            for x in items:
                if isinstance(x, BaseException):
                    raise x
                if x is _END:
                    return


def shard_requests(requests: List[GenerationRequest], n: int) -> List[List[GenerationRequest]]:
    """Balanced, deterministic shards: sorted by prompt length (then key), dealt round-robin."""
    order = sorted(requests, key=lambda r: (len(r.prompt), repr(r.key)))
    return [order[i::n] for i in range(n)]


class RayGenerationBackend(Backend):
    """``replicas`` copies of backend ``backend_name`` on the cluster (default: one per GPU, else one)."""

    def __init__(self, address: str, backend_name: str = "transformers", replicas: Optional[int] = None,
                 options: Optional[dict] = None, log=print):
        self.address = address
        self.backend_name = backend_name
        self.options = {k: v for k, v in (options or {}).items() if v is not None}
        self.requested = replicas
        self.log = log
        self.name = backend_name
        self.replicas: List = []
        self._infos: List[dict] = []
        self._gpu = False
        self._describe: Optional[dict] = None
        self.stats = {"replicas": 0, "replicas_lost": 0, "shards_rerun": 0}

    # ------------------------------------------------------------------ replicas
    def _ensure(self):
        if self.replicas:
            return
        from . import connect
        ray = connect(self.address, self.log)
        gpus = int(ray.cluster_resources().get("GPU", 0))
        n = self.requested or max(1, gpus)
        self._gpu = gpus > 0
        per = int(self.options.get("tensor_parallel_size") or 1)
        if self._gpu and n * per > gpus:
            raise HarnessError(f"--replicas {n} needs {n * per} GPUs; the Ray cluster has {gpus}")
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if not self._gpu and n > cpus:
            raise HarnessError(f"--replicas {n} CPU replicas need {n} CPUs; the Ray cluster has {cpus}")
        options = dict(self.options)
        if not self._gpu:
            options.setdefault("device", "cpu")
        cls = ray.remote(GenerationReplica)
        resources = {"num_gpus": per, "num_cpus": 1} if self._gpu else {"num_cpus": 1}
        self.replicas = [cls.options(**resources, scheduling_strategy="SPREAD", max_restarts=0)
                         .remote(self.backend_name, options) for _ in range(n)]
        try:
            self._infos = ray.get([r.info.remote() for r in self.replicas], timeout=600)
        except Exception as exc:
            self.release_replicas()
            raise HarnessError(f"the generation replicas did not start: {str(exc).strip().splitlines()[-1][:300]}") \
                from None
        self.stats["replicas"] = n
        self.log(f"ray: {n} generation replica(s) of {self.backend_name} "
                 f"({'one GPU each' if self._gpu else 'CPU'}) on {len({i['node_id'] for i in self._infos})} node(s)")

    def _call(self, method: str, *args):
        import ray
        self._ensure()
        return ray.get(getattr(self.replicas[0], method).remote(*args))

    @property
    def chat_messages(self) -> bool:  # noqa: D401 - the inner backend's
        self._ensure()
        return self._infos[0]["chat_messages"]

    @property
    def device(self) -> str:
        self._ensure()
        return f"{'cuda' if self._gpu else 'cpu'} x {len(self.replicas)} Ray replicas"

    def has_chat_template(self) -> bool:
        return bool(self._call("has_chat_template"))

    def chat_prompt(self, instruction: str, response_prefix: str) -> str:
        return self._call("chat_prompt", instruction, response_prefix)

    def describe(self) -> dict:
        if self._describe is None:
            self._describe = {**self._call("describe"), "ray": dict(self.stats)}
        self._describe["ray"] = dict(self.stats)
        return self._describe

    def release_replicas(self) -> None:
        """Stop the replicas (their GPUs/CPUs are then free, e.g. for execution)."""
        import ray
        if self.replicas and self._describe is None:
            try:
                self.describe()
            except Exception:
                pass
        for r in self.replicas:
            try:
                ray.kill(r)
            except Exception:
                pass
        self.replicas = []

    # ------------------------------------------------------------------ generation
    def generate(self, requests: Iterable[GenerationRequest], params: SamplingParams,
                 on_completion: Callable[[Completion], None]) -> None:
        import ray
        self._ensure()
        requests = list(requests)
        want = {(r.key, s) for r in requests for s in r.sample_indices}
        got: set = set()
        shards = dict(enumerate(shard_requests(requests, len(self.replicas))))
        owner = {i: i for i in shards}       # shard -> replica running it
        live = set(range(len(self.replicas)))
        for _ in range(MAX_ROUNDS):
            todo = {i: [replace(r, sample_indices=tuple(s for s in r.sample_indices if (r.key, s) not in got))
                        for r in shard] for i, shard in shards.items()}
            todo = {i: shard for i, shard in todo.items() if any(r.sample_indices for r in shard)}
            if not todo:
                return
            events: "queue.Queue" = queue.Queue()

            def read(i: int, stream):
                try:
                    for ref in stream:
                        events.put((i, ray.get(ref)))
                except BaseException as exc:  # noqa: BLE001
                    events.put((i, exc))
                events.put((i, _END))

            for i, shard in todo.items():
                replica = self.replicas[owner[i]]
                stream = replica.generate.options(num_returns="streaming").remote(shard, params)
                threading.Thread(target=read, args=(i, stream), daemon=True).start()
            open_streams, failed = set(todo), {}
            while open_streams:
                i, item = events.get()
                if item is _END:
                    open_streams.discard(i)
                elif isinstance(item, BaseException):
                    failed[i] = item
                else:
                    for c in item:
                        k = (c.key, c.sample_index)
                        if k in want and k not in got:
                            got.add(k)
                            on_completion(c)
            errors = {i: e for i, e in failed.items() if not isinstance(e, ray.exceptions.RayActorError)}
            if errors:
                exc = next(iter(errors.values()))
                raise HarnessError(f"generation failed on a replica: {str(exc).strip().splitlines()[-1][:300]}")
            for i in failed:
                if owner[i] in live:
                    live.discard(owner[i])
                    self.stats["replicas_lost"] += 1
                    self.log(f"ray: generation replica {owner[i]} lost; its shard runs again on another replica")
            if not failed:
                break
            if not live:
                raise HarnessError("every generation replica died; rerun the same command to continue "
                                   "(samples written so far are kept)")
            spare = sorted(live)
            for n, i in enumerate(sorted(failed)):
                owner[i] = spare[n % len(spare)]  # the whole shard: the same batches as it would have had
                self.stats["shards_rerun"] += 1
        missing = want - got
        if missing:
            raise HarnessError(f"{len(missing)} samples were not generated (e.g. {sorted(missing)[0]}); "
                               "rerun the same command to continue")
