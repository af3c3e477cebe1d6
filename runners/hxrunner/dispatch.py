"""A request, from files to verdict: stage, compile, run, judge. Batches go to their language's module."""
import os
import secrets
import shutil
import signal

from . import stages, zygote
from .langs import BATCH_BUILDERS
from .langs.java import CompileServer
from .protocol import Batch, Outcome, Request, Stage
from .policy import PROGRAM_UID_BASE, PROGRAM_UIDS, STAGE_ROOT
from .scratch import ensure_scratch_space, leftover_processes, remove_all_but
from .verdict import verdict


class Runner:
    def __init__(self):
        os.makedirs(STAGE_ROOT, mode=0o711, exist_ok=True)
        self.program_counter = secrets.randbelow(PROGRAM_UIDS)
        self.compile_server = CompileServer()
        self.zygote_pid, self.zygote = zygote.start()

    def _next_uid(self):
        self.program_counter = (self.program_counter + 1) % PROGRAM_UIDS
        return PROGRAM_UID_BASE + self.program_counter

    def answer(self, wire):
        """A request or a batch as received (wire form) -> its answer (wire form)."""
        if "batch" in wire:
            batch = Batch.from_wire(wire)
            return batch.reply(self.execute_batch(batch))
        return self.execute(Request.from_wire(wire)).to_wire()

    def execute(self, req):
        """One program (a ``Request``) -> its ``Outcome``."""
        if req.compile or req.compile_server:  # only compilers keep state between programs
            ensure_scratch_space()
        stage = stages.stage(req.files)
        try:
            comp = None
            if req.compile_server:
                comp = self.compile_server.compile(req.compile_server, stage, req.compile_timeout, req.output_cap)
                if comp.get("error") and req.compile:
                    # the warm compiler failed on this source (which may be the source's doing): the
                    # plain compiler's verdict counts, as in a naive run; the server starts afresh
                    self.compile_server.stop()
                    remove_all_but(stage, req.files)
                    comp = None
            if comp is None and req.compile:  # its messages: capped text only (keep=0)
                comp = stages.build_stage(req.compile, stage, req.compile_timeout, req.output_cap, keep=0)
            compiled = None
            if comp is not None:
                compiled = Stage.from_wire(comp)
                if comp.get("error"):
                    return Outcome.harness_error(req.id, comp["error"], "compile", compile=compiled)
                if comp["timed_out"]:
                    return Outcome(req.id, "timeout", "compile", "compilation exceeded its time limit", compiled)
                if comp["returncode"] != 0:
                    return Outcome(req.id, "compile_error", "compile", "", compiled)
            python = next(iter(req.files)) if req.python else None  # the program's file
            return self.run_and_judge(req, stage, None, req.run, compiled, python=python)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def run_and_judge(self, req, stage, copy, argv, compiled, python=False, env=None):
        """Run the staged program (``copy``: the files it gets, None for all) and judge it: its ``Outcome``
        (``compiled``: the compile stage's ``Stage``, or None)."""
        run = stages.run_program(self.zygote, self._next_uid(), stage, copy, argv, req.run_timeout, req.run_cpu,
                                 req.output_cap, python=python, env=env)
        ran = Stage.from_wire(run)
        if run.get("program_error"):
            return Outcome(req.id, "runtime_error", "run", run["program_error"], compiled, ran)
        if run.get("error"):
            return Outcome.harness_error(req.id, run["error"], "run", compiled, ran)
        status, detail = verdict(req, run, run.get("_stdout_bytes", b""), run.get("_sentinel"))
        return Outcome(req.id, status, "run", detail, compiled, ran)

    def execute_batch(self, batch):
        """Programs compiled together by their language's module, each still run alone: the members'
        outcomes, in their order."""
        builder = BATCH_BUILDERS.get(batch.kind)
        try:
            results = builder(self, batch) if builder else {}
        except Exception:  # a batch that cannot be built (whatever its members wrote) is no one's verdict
            results = {}
        # whatever the batch could not settle runs alone, exactly as an unbatched request would
        return [results.get(i) or self.execute(r) for i, r in enumerate(batch.members)]

    def health(self):
        """A checkpoint's self-check: the zygote is alive, and no program process exists outside its namespace."""
        problems = []
        try:
            os.kill(self.zygote_pid, 0)
        except OSError:
            problems.append("zygote gone")
        left = leftover_processes()
        problems += ["program process %s (uid %d) outlived its program" % pu for pu in left[:5]]
        if len(left) > 5:
            problems.append("and %d more" % (len(left) - 5))
        return problems

    def close(self):
        self.compile_server.stop()
        try:
            self.zygote.close()
            os.kill(self.zygote_pid, signal.SIGKILL)
        except OSError:
            pass
