"""A pool of sandboxes of one language, fed requests by one thread per sandbox.

A sandbox that dies is replaced and its in-flight request retried once; if it
dies again the request gets ``harness_error`` (never a model verdict).
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, List, Tuple

from .base import Sandbox, SandboxDied

_DONE = object()


def _harness_error(request: dict, detail: str) -> dict:
    return {"id": request.get("id"), "status": "harness_error", "stage": None, "detail": detail}


def request_timeout(request: dict) -> float:
    """Host-side deadline for one request: the runner's own limits plus a wide margin."""
    if "batch" in request:  # the batch build, then (at worst) every member alone
        return float(request.get("compile_timeout", 60)) + sum(request_timeout(m) for m in request["batch"])
    return float(request.get("compile_timeout", 60)) + float(request.get("run_timeout", 30)) + 60.0


class SandboxPool:
    def __init__(self, factory: Callable[[], Sandbox], size: int):
        self.factory = factory
        self.size = max(1, int(size))
        self.sandboxes: List[Sandbox] = []
        self.replacements = 0

    def start(self) -> None:
        with ThreadPoolExecutor(self.size) as ex:
            boxes = [self.factory() for _ in range(self.size)]
            list(ex.map(lambda s: s.start(), boxes))
        self.sandboxes = boxes

    def stop(self) -> None:
        for s in self.sandboxes:
            s.stop()
        self.sandboxes = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def identity(self) -> str:
        return self.sandboxes[0].identity if self.sandboxes else ""

    def _replace(self, i: int) -> Sandbox:
        self.sandboxes[i].stop()
        self.replacements += 1
        fresh = self.factory()
        fresh.start()
        self.sandboxes[i] = fresh
        return fresh

    def _execute(self, i: int, request: dict) -> dict:
        if "batch" in request:
            return self._execute_batch(i, request)
        note = ""
        for attempt in range(2):
            try:
                return self.sandboxes[i].execute(request, request_timeout(request))
            except SandboxDied as exc:
                note = str(exc)
                try:
                    self._replace(i)
                except Exception as start_exc:  # cannot even get a fresh sandbox
                    return _harness_error(request, f"sandbox died ({note}) and could not be replaced: {start_exc}")
        return _harness_error(request, f"sandbox died twice while running this program: {note}")

    def _execute_batch(self, i: int, request: dict) -> dict:
        """A batch whose sandbox dies is not retried as a whole: its members run one by one, so a
        program that kills its sandbox costs only its own verdict (harness_error after two deaths)."""
        try:
            return self.sandboxes[i].execute(request, request_timeout(request))
        except SandboxDied as exc:
            try:
                self._replace(i)
            except Exception as start_exc:  # no sandbox to run the members on: each one says so
                detail = f"sandbox died ({exc}) and could not be replaced: {start_exc}"
                return {"id": request.get("id"), "results": [_harness_error(m, detail) for m in request["batch"]]}
        return {"id": request.get("id"), "results": [self._execute(i, m) for m in request["batch"]]}

    def map(self, requests: Iterable[dict]) -> Iterator[Tuple[dict, dict]]:
        """(request, result) pairs in completion order."""
        todo: "queue.Queue" = queue.Queue()
        done: "queue.Queue" = queue.Queue()
        n = 0
        for r in requests:
            todo.put(r)
            n += 1
        for _ in self.sandboxes:
            todo.put(_DONE)

        def work(i: int):
            while True:
                r = todo.get()
                if r is _DONE:
                    return
                try:
                    done.put((r, self._execute(i, r)))
                except Exception as exc:  # a harness bug must not hang the run or become a verdict
                    done.put((r, _harness_error(r, f"harness: {exc!r}")))

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(self.sandboxes))]
        for t in threads:
            t.start()
        for _ in range(n):
            yield done.get()
        for t in threads:
            t.join()
