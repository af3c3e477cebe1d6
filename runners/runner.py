#!/usr/bin/env python3
"""In-sandbox runner for HumanEval-X programs.

Runs inside a worker container (read-only root, tmpfs /tmp, no network, non-root,
no capabilities). Reads one JSON request per line on stdin, writes one JSON result
per line on stdout, and keeps going until stdin closes.

Request::

    {"id": "...", "files": {"main.py": "..."},
     "compile": ["g++", ...] | null, "run": ["./a.out"],
     "compile_timeout": 60, "run_timeout": 20, "run_cpu": 10,
     "sentinel": "...", "failure_markers": [...], "crash_markers": [...],
     "output_cap": 4096}

Result: one status from a fixed vocabulary (passed, failed, compile_error,
runtime_error, timeout, harness_error), the stage it ended in, the tails of
stdout/stderr, exit codes and durations.

A program passes only when it exits with status 0 AND printed the sentinel,
which the harness places after the last test: an early exit(0) cannot pass.
Every child runs in its own session; on timeout the whole process group is
killed, and after every program every process that was not there when the
runner started is killed, so fork bombs and daemons do not leak.
Standard library only: it runs in every language image.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

WORK_ROOT = os.environ.get("HX_WORK_ROOT", "/tmp/hx-work")
READY_FILE = os.environ.get("HX_READY_FILE", "/tmp/.hx-ready")
RUN_FILE_LIMIT = 4 * 1024 * 1024  # bytes a program may write to one file (stdout included)
COMPILE_FILE_LIMIT = 256 * 1024 * 1024
STATUSES = ("passed", "failed", "compile_error", "runtime_error", "timeout", "harness_error")


def _limits(cpu_seconds, file_limit):
    def apply():
        if cpu_seconds:
            resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:  # make the program, not the runner, the first victim of the OOM killer
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
    return apply


def _read_capped(path, cap):
    """(head+tail text limited to about `cap` characters, whole bytes)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "", b""
    if len(data) <= cap:
        text = data.decode("utf-8", "replace")
    else:
        half = cap // 2
        text = (data[:half].decode("utf-8", "replace") + "\n...[%d bytes cut]...\n" % (len(data) - 2 * half)
                + data[-half:].decode("utf-8", "replace"))
    return text, data


class Runner:
    def __init__(self):
        self.keep_pids = set(self._pids())  # init, the idle main process, this runner
        self.keep_pids.add(os.getpid())
        os.makedirs(WORK_ROOT, exist_ok=True)
        self.io_dir = tempfile.mkdtemp(prefix="hx-io-", dir="/tmp")

    @staticmethod
    def _pids():
        return [int(p) for p in os.listdir("/proc") if p.isdigit()]

    def kill_strays(self):
        """SIGKILL every process that was not there when the runner started."""
        for _ in range(50):
            strays = [p for p in self._pids() if p not in self.keep_pids]
            if not strays:
                return
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self._reap()
            time.sleep(0.01)

    @staticmethod
    def _reap():
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def run_stage(self, argv, cwd, wall, cpu, file_limit, cap):
        out_path = os.path.join(self.io_dir, "stdout")
        err_path = os.path.join(self.io_dir, "stderr")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                        start_new_session=True, preexec_fn=_limits(cpu, file_limit))
            except OSError as exc:
                return {"returncode": None, "error": "cannot start %r: %s" % (argv[0], exc)}
            try:
                returncode = proc.wait(timeout=wall)
            except subprocess.TimeoutExpired:
                timed_out = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                returncode = proc.wait()
        wall_s = time.monotonic() - start
        try:  # background children of the program die with it
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        # SIGXCPU comes only from RLIMIT_CPU; SIGKILL is the hard CPU limit (or the OOM killer)
        if cpu and (returncode == -signal.SIGXCPU or (returncode == -signal.SIGKILL and cpu_s >= cpu - 0.5)):
            timed_out = True
        stdout, out_bytes = _read_capped(out_path, cap)
        stderr, _ = _read_capped(err_path, cap)
        return {"returncode": returncode, "timed_out": timed_out, "wall_s": round(wall_s, 4),
                "cpu_s": round(cpu_s, 4), "stdout": stdout, "stderr": stderr, "_stdout_bytes": out_bytes}

    def execute(self, req):
        work = tempfile.mkdtemp(prefix="p-", dir=WORK_ROOT)
        result = {"id": req.get("id"), "status": None, "stage": None, "detail": ""}
        cap = int(req.get("output_cap", 4096))
        try:
            for name, content in req["files"].items():
                path = os.path.join(work, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(content)
            if req.get("compile"):
                comp = self.run_stage(req["compile"], work, req.get("compile_timeout", 60), None,
                                      COMPILE_FILE_LIMIT, cap)
                comp.pop("_stdout_bytes", None)
                result["compile"] = comp
                if comp.get("error"):
                    result.update(status="harness_error", stage="compile", detail=comp["error"])
                    return result
                if comp["timed_out"]:
                    result.update(status="timeout", stage="compile", detail="compilation exceeded its time limit")
                    return result
                if comp["returncode"] != 0:
                    result.update(status="compile_error", stage="compile")
                    return result
            run = self.run_stage(req["run"], work, req.get("run_timeout", 20), req.get("run_cpu", 10),
                                 RUN_FILE_LIMIT, cap)
            out_bytes = run.pop("_stdout_bytes", b"")
            result["run"] = run
            result["stage"] = "run"
            if run.get("error"):
                result.update(status="harness_error", detail=run["error"])
                return result
            result.update(self.verdict(req, run, out_bytes))
            return result
        finally:
            self.kill_strays()
            shutil.rmtree(work, ignore_errors=True)

    @staticmethod
    def verdict(req, run, out_bytes):
        if run["timed_out"]:
            return {"status": "timeout", "detail": "run exceeded its time limit"}
        text = run["stdout"] + "\n" + run["stderr"]
        rc = run["returncode"]
        sentinel_seen = req["sentinel"].encode() in out_bytes
        if rc == 0 and sentinel_seen:
            return {"status": "passed", "detail": ""}
        if rc == 0:
            return {"status": "failed", "detail": "exited with status 0 before the test suite finished"}
        if rc == -signal.SIGXFSZ or len(out_bytes) >= RUN_FILE_LIMIT:
            return {"status": "runtime_error", "detail": "output exceeded %d bytes" % RUN_FILE_LIMIT}
        if any(m in text for m in req.get("crash_markers", ())):
            return {"status": "runtime_error", "detail": "crashed (exit status %s)" % rc}
        if any(m in text for m in req.get("failure_markers", ())):
            return {"status": "failed", "detail": "a test assertion failed"}
        if rc is not None and rc < 0:
            return {"status": "runtime_error", "detail": "killed by signal %d" % -rc}
        return {"status": "runtime_error", "detail": "exited with status %s" % rc}


def wait_ready(timeout=120):
    deadline = time.monotonic() + timeout
    while not os.path.exists(READY_FILE):
        if time.monotonic() > deadline:
            raise SystemExit("sandbox never became ready (%s missing)" % READY_FILE)
        time.sleep(0.05)


def main():
    wait_ready()
    runner = Runner()
    out = sys.stdout
    out.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            res = runner.execute(req)
        except Exception as exc:  # a runner bug is a harness error, never a model failure
            res = {"id": None, "status": "harness_error", "stage": None, "detail": "runner: %r" % (exc,)}
            try:
                res["id"] = json.loads(line).get("id")
            except Exception:
                pass
        out.write(json.dumps(res) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
