"""A pool of sandboxes of one language, fed requests by one thread per sandbox.

Trust is earned per stretch of work: a worker's results are held until a checkpoint
(``Sandbox.check``: a verified health report) passes, every ``check_every`` programs (a batch's
members each count) and at the end. A worker that dies or is condemned (a reply that does not verify, a failed check)
is replaced, and every program whose verdict it gave since its last checkpoint runs again
in the fresh one. The program that was in flight runs again first, alone in a fresh
sandbox; if it kills or corrupts that one too, that is the program's own failure
(``runtime_error``, counted in pass@k). ``harness_error`` is only for failures of the
engine or harness (e.g. no sandbox can be started).
"""
from __future__ import annotations

import collections
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, List, Tuple

from ..protocol import harness_error_for, host_timeout
from .base import Sandbox, SandboxCondemned, SandboxDied

_DONE = object()
CHECK_EVERY = 32




def _culprit(request: dict, why: str) -> dict:
    return {"id": request.get("id"), "status": "runtime_error", "stage": "run",
            "detail": f"the program killed or corrupted its sandbox twice, the second time alone in a fresh one ({why})"}


def _programs(request: dict) -> int:
    """Programs a request runs: a batch's members count one by one (a checkpoint is every
    ``check_every`` programs, not batches: a worker's untrusted stretch stays as short)."""
    return len(request["batch"]) if "batch" in request else 1




class _Unreplaceable(Exception):
    pass


class SandboxPool:
    def __init__(self, factory: Callable[[], Sandbox], size: int, check_every: int = CHECK_EVERY):
        self.factory = factory
        self.size = max(1, int(size))
        self.check_every = max(1, int(check_every))
        self.sandboxes: List[Sandbox] = []
        self.replacements = 0
        self.condemned = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start every sandbox; on any failure or interrupt, those already started are stopped."""
        boxes: List[Sandbox] = []
        try:
            with ThreadPoolExecutor(self.size) as ex:
                futures = []
                for _ in range(self.size):
                    boxes.append(self.factory())
                    futures.append(ex.submit(boxes[-1].start))
                for f in futures:
                    f.result()
        except BaseException:
            for box in boxes:
                box.stop()
            raise
        self.sandboxes = boxes

    def stop(self) -> None:
        boxes, self.sandboxes = self.sandboxes, []
        for s in boxes:
            s.stop()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def identity(self) -> str:
        return self.sandboxes[0].identity if self.sandboxes else ""

    def _replace(self, i: int, why: Exception) -> None:
        self.sandboxes[i].stop()
        with self._lock:
            self.replacements += 1
            self.condemned += isinstance(why, SandboxCondemned)
        try:
            fresh = self.factory()
            fresh.start()
        except Exception as exc:
            raise _Unreplaceable(f"sandbox died ({why}) and could not be replaced: {exc}") from exc
        self.sandboxes[i] = fresh

    def _work(self, i: int, todo: "queue.Queue", done: "queue.Queue") -> None:
        # local: (request, strikes, isolate) to run here before taking more work; pending: results
        # this sandbox gave since its last checkpoint, not yet trusted
        local: "collections.deque" = collections.deque()
        pending: List[Tuple[dict, dict, int]] = []

        def checkpoint():
            nonlocal pending
            try:
                self.sandboxes[i].check(60.0)
            except SandboxDied as exc:
                rerun = []
                for request, _, strikes in pending:
                    if len(pending) == 1 and strikes and "batch" in request:
                        # a batch spoiled its sandbox twice: which member did it is unknown, and its
                        # neighbours' verdicts are theirs: each member again, alone, checkpointed
                        done.put((request, {"id": request.get("id"), "results": None, "split": True}))
                        rerun += [(m, 0, True) for m in request["batch"]]
                    elif len(pending) == 1 and strikes:
                        done.put((request, _culprit(request, str(exc))))
                    else:  # each again with a checkpoint of its own: the one that spoils it is found
                        rerun.append((request, strikes + (len(pending) == 1), True))
                local.extendleft(reversed(rerun))
                pending = []
                self._replace(i, exc if isinstance(exc, SandboxCondemned) else SandboxCondemned(str(exc)))
            else:
                for request, result, _ in pending:
                    done.put((request, result))
            pending = []

        try:
            while True:
                if local:
                    request, strikes, isolate = local.popleft()
                else:
                    if pending and todo.empty():  # nothing more to do now: make what is held trusted
                        checkpoint()
                        if local:
                            continue
                    request = todo.get()
                    if request is _DONE:
                        if pending:  # what this sandbox holds must be made trusted before it leaves
                            checkpoint()
                            if local:  # reruns to do first; the marker goes back for whoever ends next
                                todo.put(_DONE)
                                continue
                        return
                    strikes, isolate = 0, False
                try:
                    result = self.sandboxes[i].execute(request, host_timeout(request))
                except SandboxDied as exc:
                    suspects = [(r, s, False) for r, _, s in pending]
                    pending = []
                    if "batch" in request:  # which member did it is unknown: each runs on its own
                        first = [(m, 0, False) for m in request["batch"]]
                        done.put((request, {"id": request.get("id"), "results": None, "split": True}))
                    elif strikes:
                        done.put((request, _culprit(request, str(exc))))
                        first = []
                    else:
                        first = [(request, 1, True)]
                    local.extendleft(reversed(first + suspects))
                    self._replace(i, exc)
                    continue
                pending.append((request, result, strikes))
                if isolate or sum(_programs(r) for r, _, _ in pending) >= self.check_every:
                    checkpoint()
        except _Unreplaceable as exc:
            for request, _, _ in pending:
                done.put((request, harness_error_for(request, str(exc))))
            for request, _, _ in local:
                done.put((request, harness_error_for(request, str(exc))))
            raise

    def map(self, requests: Iterable[dict]) -> Iterator[Tuple[dict, dict]]:
        """(request, result) pairs in completion order, each result from a checkpointed sandbox.

        A batch whose sandbox died yields a marker result ``{"split": True}`` first, then its
        members' results one by one (see ``execute.unbatched``)."""
        todo: "queue.Queue" = queue.Queue()
        done: "queue.Queue" = queue.Queue()
        n = 0
        for r in requests:
            todo.put(r)
            n += len(r["batch"]) if "batch" in r else 1
        live = [len(self.sandboxes)]

        def work(i: int):
            try:
                self._work(i, todo, done)
            except BaseException as exc:  # this worker is gone: the last one answers for what is left
                detail = str(exc) if isinstance(exc, _Unreplaceable) else f"harness: {exc!r}"
                with self._lock:
                    live[0] -= 1
                    last = live[0] == 0
                if last:
                    while True:
                        try:
                            r = todo.get_nowait()
                        except queue.Empty:
                            break
                        if r is not _DONE:
                            done.put((r, harness_error_for(r, detail)))
                return
            with self._lock:
                live[0] -= 1

        for _ in self.sandboxes:
            todo.put(_DONE)
        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(self.sandboxes))]
        for t in threads:
            t.start()
        got = 0
        while got < n:
            request, result = done.get()
            if result.get("split"):
                continue
            got += len(request["batch"]) if "batch" in request else 1
            yield request, result
        for t in threads:
            t.join()
