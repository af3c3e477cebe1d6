"""A request, from files to verdict: stage, compile, run, judge. Batches go to their language's module."""
import os
import secrets
import shutil
import signal

from . import stages, zygote
from .langs import BATCH_BUILDERS
from .langs.java import CompileServer
from .protocol import (DEFAULT_COMPILE_TIMEOUT, DEFAULT_RUN_CPU, DEFAULT_RUN_TIMEOUT, OUTPUT_CAP,
                       harness_error)
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

    def execute(self, req):
        if req.get("compile") or req.get("compile_server"):  # only compilers keep state between programs
            ensure_scratch_space()
        stage = stages.stage(req["files"])
        result = {"id": req.get("id"), "status": None, "stage": None, "detail": ""}
        cap = int(req.get("output_cap", OUTPUT_CAP))
        compile_timeout = req.get("compile_timeout", DEFAULT_COMPILE_TIMEOUT)
        try:
            comp = None
            if req.get("compile_server"):
                comp = self.compile_server.compile(req["compile_server"], stage, compile_timeout, cap)
                if comp.get("error") and req.get("compile"):
                    # the warm compiler failed on this source (which may be the source's doing): the
                    # plain compiler's verdict counts, as in a naive run; the server starts afresh
                    self.compile_server.stop()
                    remove_all_but(stage, req["files"])
                    comp = None
            if comp is None and req.get("compile"):  # its messages: capped text only (keep=0)
                comp = stages.build_stage(req["compile"], stage, compile_timeout, cap, keep=0)
            if comp is not None:
                for key in [key for key in comp if key.startswith("_")]:
                    comp.pop(key)
                result["compile"] = comp
                if comp.get("error"):
                    result.update(harness_error(result["id"], comp["error"], stage="compile"))
                    return result
                if comp["timed_out"]:
                    result.update(status="timeout", stage="compile", detail="compilation exceeded its time limit")
                    return result
                if comp["returncode"] != 0:
                    result.update(status="compile_error", stage="compile")
                    return result
            python = next(iter(req["files"])) if req.get("python") else None  # the program's file
            return self.run_and_judge(req, stage, None, req["run"], result, python=python)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def run_and_judge(self, req, stage, copy, argv, result, python=False, env=None):
        """Run the staged program (``copy``: the files it gets, None for all) and judge it into ``result``."""
        run = stages.run_program(self.zygote, self._next_uid(), stage, copy, argv,
                                 req.get("run_timeout", DEFAULT_RUN_TIMEOUT), req.get("run_cpu", DEFAULT_RUN_CPU),
                                 int(req.get("output_cap", OUTPUT_CAP)), python=python, env=env)
        out_bytes = run.pop("_stdout_bytes", b"")
        run.pop("_stderr_bytes", None)
        sentinel = run.pop("_sentinel", None)
        result["run"] = run
        result["stage"] = "run"
        if run.get("program_error"):
            result.update(status="runtime_error", detail=run["program_error"])
            return result
        if run.get("error"):
            result.update(harness_error(result["id"], run["error"], stage="run"))
            return result
        result.update(verdict(req, run, out_bytes, sentinel))
        return result

    def execute_batch(self, req):
        """Programs compiled together by their language's module, each still run alone."""
        members = req["batch"]
        builder = BATCH_BUILDERS.get(req.get("batch_kind"))
        try:
            results = builder(self, req) if builder else {}
        except Exception:  # a batch that cannot be built (whatever its members wrote) is no one's verdict
            results = {}
        # whatever the batch could not settle runs alone, exactly as an unbatched request would
        return {"id": req.get("id"), "results": [results.get(i) or self.execute(r) for i, r in enumerate(members)]}

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
