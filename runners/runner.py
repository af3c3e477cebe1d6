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
import select
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


def _stage_result(returncode, timed_out, wall_s, cpu_s, out_path, err_path, cap, **extra):
    """What a stage reports: its outcome and captured output (capped text; whole bytes in the
    private _std*_bytes fields, which the runner pops before replying)."""
    stdout, out_bytes = _read_capped(out_path, cap)
    stderr, err_bytes = _read_capped(err_path, cap)
    return dict({"returncode": returncode, "timed_out": timed_out, "wall_s": round(wall_s, 4),
                 "cpu_s": round(cpu_s, 4), "stdout": stdout, "stderr": stderr, "_stdout_bytes": out_bytes,
                 "_stderr_bytes": err_bytes}, **extra)


def _preload():
    """Import the modules every program imports (HX_PRELOAD), once, before forking programs from here."""
    names = [m for m in os.environ.get("HX_PRELOAD", "").split(",") if m]
    for name in names:
        try:
            __import__(name)
        except Exception:
            pass


def _fork_exec_python(path, cwd):
    """In a forked child: run the Python file like `python3 path` would, then exit. Never returns."""
    import atexit
    import builtins
    import traceback
    code = 0
    try:
        os.chdir(cwd)
        sys.argv = [path]
        sys.path[0] = cwd
        if "random" in sys.modules:  # a fresh interpreter seeds from the OS; so does a forked program
            sys.modules["random"].seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        with open(path, encoding="utf-8") as f:
            source = f.read()
        glb = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
        exec(compile(source, path, "exec"), glb)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            sys.stderr.write(str(exc.code) + "\n")
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code & 0xFF)


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

    @staticmethod
    def _wait(pid, timeout):
        """Exit status as subprocess reports it (-signal when killed); None on timeout."""
        if timeout is not None:
            fd = os.pidfd_open(pid)
            try:
                ready, _, _ = select.select([fd], [], [], timeout)
            finally:
                os.close(fd)
            if not ready:
                return None
        _, status = os.waitpid(pid, 0)
        return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)

    @staticmethod
    def _fork_python(path, cwd, out, err, cpu, file_limit):
        """Fork this (preloaded) interpreter for one program: no interpreter start-up, no re-imports."""
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # child
            try:
                os.setsid()
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                _limits(cpu, file_limit)()
            except BaseException:
                os._exit(125)
            _fork_exec_python(path, cwd)
        return pid

    def run_stage(self, argv, cwd, wall, cpu, file_limit, cap, fork=False, env=None):
        out_path = os.path.join(self.io_dir, "stdout")
        err_path = os.path.join(self.io_dir, "stderr")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = None
            if fork:
                pid = self._fork_python(argv[-1], cwd, out, err, cpu, file_limit)
            else:
                try:
                    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            start_new_session=True, preexec_fn=_limits(cpu, file_limit),
                                            env=dict(os.environ, **env) if env else None)
                except OSError as exc:
                    return {"returncode": None, "error": "cannot start %r: %s" % (argv[0], exc)}
                pid = proc.pid
            returncode = self._wait(pid, wall)
            if returncode is None:
                timed_out = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                returncode = self._wait(pid, None)
            if proc is not None:
                # reaped here: tell subprocess, or it would later waitpid() this pid number again
                # (by then maybe another program's) from its clean-up of unwaited Popen objects
                proc.returncode = returncode
        wall_s = time.monotonic() - start
        try:  # background children of the program die with it
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        # SIGXCPU comes only from RLIMIT_CPU; SIGKILL is the hard CPU limit (or the OOM killer)
        if cpu and (returncode == -signal.SIGXCPU or (returncode == -signal.SIGKILL and cpu_s >= cpu - 0.5)):
            timed_out = True
        return _stage_result(returncode, timed_out, wall_s, cpu_s, out_path, err_path, cap)

    # -- a long-lived compiler (Java): one warm process instead of a compiler start per program
    def _start_server(self, argv):
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=open(os.path.join(self.io_dir, "server.log"), "ab"),
                                start_new_session=True)
        self.keep_pids.add(proc.pid)
        self.server = proc

    def _end_helper(self, proc):
        """Kill a long-lived helper process (compile server, vm worker) and forget it."""
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            self.keep_pids.discard(proc.pid)

    def _stop_server(self):
        proc, self.server = getattr(self, "server", None), None
        self._end_helper(proc)

    def compile_with_server(self, argv, work, wall, cap):
        start = time.monotonic()
        for attempt in range(2):
            proc = getattr(self, "server", None)
            if proc is None or proc.poll() is not None:
                self._stop_server()
                self._start_server(argv)
                proc = self.server
            try:
                proc.stdin.write((work + "\n").encode())
                proc.stdin.flush()
            except OSError:  # the server died (e.g. killed by a program): restart once
                self._stop_server()
                continue
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, wall - (time.monotonic() - start)))
            if not ready:
                self._stop_server()
                return {"returncode": None, "timed_out": True, "wall_s": round(time.monotonic() - start, 4),
                        "cpu_s": None, "stdout": "", "stderr": ""}
            line = proc.stdout.readline()
            if not line:
                self._stop_server()
                continue
            log, _ = _read_capped(os.path.join(work, ".hx-javac.log"), cap)
            code = int(line.strip() or 2)
            if code == 2:
                return {"returncode": None, "error": "compile server failed: " + log[-500:]}
            return {"returncode": code, "timed_out": False, "wall_s": round(time.monotonic() - start, 4),
                    "cpu_s": None, "stdout": "", "stderr": log}
        return {"returncode": None, "error": "the compile server keeps dying"}

    # -- a long-lived interpreter running each program in a fresh context (runners/js_vm.js, Java's HxRun)
    VM_RECYCLE = 500  # programs per interpreter before a fresh one

    def _stop_vm(self):
        proc, self.vm = getattr(self, "vm", None), None
        self._end_helper(proc)

    def _vm_process(self, argv):
        proc = getattr(self, "vm", None)
        if proc is not None and proc.poll() is None and self.vm_argv == argv and self.vm_served < self.VM_RECYCLE:
            return proc
        self._stop_vm()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=open(os.path.join(self.io_dir, "vm.log"), "ab"), start_new_session=True,
                                preexec_fn=_limits(None, RUN_FILE_LIMIT))
        self.keep_pids.add(proc.pid)
        self.vm, self.vm_argv, self.vm_served = proc, argv, 0
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        if not ready or not proc.stdout.readline():
            self._stop_vm()
            return None
        return proc

    @staticmethod
    def _cpu_seconds(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        except (OSError, IndexError, ValueError):
            return 0.0

    def run_in_vm(self, req, path):
        """run_stage's result for the program run in the vm worker, under the same wall and CPU
        limits; None when it must run alone (the worker could not start, or ended abnormally)."""
        proc = self._vm_process(list(req["vm"]))
        if proc is None:
            return None
        out_path = os.path.join(self.io_dir, "stdout")
        err_path = os.path.join(self.io_dir, "stderr")
        wall, cpu = req.get("run_timeout", 20), req.get("run_cpu", 10)
        for stale in (out_path, err_path):
            open(stale, "wb").close()
        start, cpu0 = time.monotonic(), self._cpu_seconds(proc.pid)
        try:
            proc.stdin.write((json.dumps({"file": path, "out": out_path, "err": err_path}) + "\n").encode())
            proc.stdin.flush()
        except OSError:
            self._stop_vm()
            return None
        self.vm_served += 1
        timed_out, line = False, b""
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], 0.05)
            if ready:
                line = proc.stdout.readline()
                break
            used = self._cpu_seconds(proc.pid) - cpu0
            if time.monotonic() - start > wall or (cpu and used > cpu):
                timed_out = True
                break
        wall_s, cpu_s = time.monotonic() - start, self._cpu_seconds(proc.pid) - cpu0
        if timed_out:
            self._stop_vm()
            returncode = -signal.SIGKILL
        else:
            try:
                returncode = int(json.loads(line)["code"])
            except (ValueError, KeyError, TypeError):  # it died: no verdict from here
                self._stop_vm()
                return None
        return _stage_result(returncode, timed_out, wall_s, cpu_s, out_path, err_path,
                             int(req.get("output_cap", 4096)), vm=True)

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
            if req.get("compile_server"):
                comp = self.compile_with_server(req["compile_server"], work, req.get("compile_timeout", 60), cap)
            elif req.get("compile"):
                comp = self.run_stage(req["compile"], work, req.get("compile_timeout", 60), None,
                                      COMPILE_FILE_LIMIT, cap)
            else:
                comp = None
            if comp is not None:
                comp.pop("_stdout_bytes", None)
                comp.pop("_stderr_bytes", None)
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
            return self.run_and_judge(req, req["run"], work, result, fork=bool(req.get("fork")))
        finally:
            self.kill_strays()
            shutil.rmtree(work, ignore_errors=True)

    def run_and_judge(self, req, argv, work, result, fork=False, env=None):
        run = None
        if req.get("vm"):  # in the long-lived interpreter; None: it must run alone after all
            run = self.run_in_vm(req, os.path.join(work, next(iter(req["files"]))))
        if run is None:
            run = self.run_stage(argv, work, req.get("run_timeout", 20), req.get("run_cpu", 10), RUN_FILE_LIMIT,
                                 int(req.get("output_cap", 4096)), fork=fork, env=env)
        out_bytes = run.pop("_stdout_bytes", b"")
        run.pop("_stderr_bytes", None)
        result["run"] = run
        result["stage"] = "run"
        if run.get("error"):
            result.update(status="harness_error", detail=run["error"])
            return result
        result.update(self.verdict(req, run, out_bytes))
        return result

    # -- batches: programs compiled together (one link), each still run in its own fresh process
    def execute_batch(self, req):
        members = req["batch"]
        builder = BATCH_BUILDERS.get(req.get("batch_kind"))
        results = builder(self, req) if builder else {}
        # whatever the batch could not settle runs alone, exactly as an unbatched request would
        return {"id": req.get("id"), "results": [results.get(i) or self.execute(r) for i, r in enumerate(members)]}

    def go_batch(self, req):
        """Go: each program becomes package hxpK of one GOPATH tree; `go vet` (the checks `go test`
        runs) over all of them, one test binary linking every clean package, one fresh process per
        program selected by HX_PROG. Returns {member index: result} for the programs it settled."""
        members = req["batch"]
        root = tempfile.mkdtemp(prefix="b-", dir=WORK_ROOT)
        try:
            return self._go_batch(req, members, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _go_batch(self, req, members, root):
        src = os.path.join(root, "src", "hxb")
        env = {"GOPATH": root + ":" + os.environ.get("GOPATH", "")}
        tests = {}
        for k, r in enumerate(members):
            (name, text), = r["files"].items()
            test = (r.get("batch_info") or {}).get("test")
            if not text.startswith("package main\n") or not test:
                continue
            os.makedirs(os.path.join(src, "hxp%d" % k))
            with open(os.path.join(src, "hxp%d" % k, "p.go"), "w", encoding="utf-8") as f:
                f.write("package hxp%d\n" % k + text[len("package main\n"):])
            tests[k] = test
        results = {}
        timeout = float(req.get("compile_timeout", 60))
        start = time.monotonic()

        def fail(k, log):
            log = log.replace("hxp%d/p.go" % k, next(iter(members[k]["files"])))  # the name it has alone
            results[k] = {"id": members[k].get("id"), "status": "compile_error", "stage": "compile", "detail": "",
                          "compile": {"returncode": 2, "timed_out": False, "stdout": "", "stderr": log[-4000:],
                                      "wall_s": None, "cpu_s": None, "batch": len(members)}}

        if not tests:
            return results
        vet = self.run_stage(["go", "vet"] + GO_VET_FLAGS + ["hxb/hxp%d" % k for k in tests], src, timeout, None,
                             COMPILE_FILE_LIMIT, 4096, env=env)
        if vet.get("error") or vet["timed_out"]:
            return {}
        sections = _go_sections(vet["_stderr_bytes"].decode("utf-8", "replace"))
        if vet["returncode"] != 0 and not sections:
            return {}
        for k, log in sections.items():
            if k in tests:
                fail(k, log)
                del tests[k]
        binary = os.path.join(root, "batch.test")
        for _ in range(3):
            if not tests:
                return results
            driver = os.path.join(src, "driver")
            os.makedirs(driver, exist_ok=True)
            with open(os.path.join(driver, "d_test.go"), "w") as f:
                f.write(_go_driver(tests))
            build = self.run_stage(["go", "test", "-c", "-vet=off", "-ldflags=-s -w", "-o", binary, "."], driver,
                                   max(1.0, timeout - (time.monotonic() - start)), None, COMPILE_FILE_LIMIT, 4096,
                                   env=env)
            if build.get("error") or build["timed_out"]:
                return results
            if build["returncode"] == 0:
                break
            sections = {k: v for k, v in _go_sections(build["_stderr_bytes"].decode("utf-8", "replace")).items()
                        if k in tests}
            if not sections:
                return results
            for k, log in sections.items():
                fail(k, log)
                del tests[k]
        else:
            return results
        compile_info = {"returncode": 0, "timed_out": False, "stdout": "", "stderr": "", "batch": len(members),
                        "wall_s": round((time.monotonic() - start) / len(members), 4), "cpu_s": None}
        for k in tests:
            r = members[k]
            work = tempfile.mkdtemp(prefix="p-", dir=WORK_ROOT)
            result = {"id": r.get("id"), "status": None, "stage": None, "detail": "", "compile": dict(compile_info)}
            try:
                results[k] = self.run_and_judge(r, [binary, "-test.count=1", "-test.run=^TestHx%d$" % k], work,
                                                result, env={"HX_PROG": str(k)})
            finally:
                self.kill_strays()
                shutil.rmtree(work, ignore_errors=True)
        return results

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


GO_VET_FLAGS = ["-atomic", "-bool", "-buildtags", "-errorsas", "-ifaceassert", "-nilfunc", "-printf",
                "-stringintconv"]  # exactly the checks `go test` runs before testing


def _go_sections(text):
    """{package index K: its messages} from go's `# hxb/hxpK` headed output."""
    sections, current = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("# "):
            name = line[2:].strip()
            current = int(name[len("hxb/hxp"):]) if name.startswith("hxb/hxp") and name[7:].isdigit() else None
            continue
        if current is not None:
            sections[current] = sections.get(current, "") + line
    return sections


def _go_driver(tests):
    """The test main of a Go batch: HX_PROG=K runs program K's own TestMain and only its test."""
    imports = "".join('    "hxb/hxp%d"\n' % k for k in tests)
    cases = "".join('    case "%d":\n        hxp%d.TestMain(m)\n' % (k, k) for k in tests)
    wrappers = "".join("func TestHx%d(t *testing.T) { hxp%d.%s(t) }\n" % (k, k, name) for k, name in tests.items())
    return ("package main\n\nimport (\n    \"os\"\n    \"testing\"\n" + imports + ")\n\n"
            "func TestMain(m *testing.M) {\n    switch os.Getenv(\"HX_PROG\") {\n" + cases + "    }\n"
            "    os.Stderr.WriteString(\"hx: no such program in this batch\\n\")\n    os.Exit(125)\n}\n\n" + wrappers)


BATCH_BUILDERS = {"go": Runner.go_batch}


def wait_ready(timeout=120):
    deadline = time.monotonic() + timeout
    while not os.path.exists(READY_FILE):
        if time.monotonic() > deadline:
            raise SystemExit("sandbox never became ready (%s missing)" % READY_FILE)
        time.sleep(0.05)


def main():
    wait_ready()
    _preload()
    runner = Runner()
    out = sys.stdout
    out.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            res = runner.execute_batch(req) if "batch" in req else runner.execute(req)
            text = json.dumps(res)
        except Exception as exc:  # a runner bug is a harness error, never a model failure
            res = {"id": None, "status": "harness_error", "stage": None, "detail": "runner: %r" % (exc,)}
            try:
                res["id"] = json.loads(line).get("id")
            except Exception:
                pass
            text = json.dumps(res)
        out.write(text + "\n")
        out.flush()


if __name__ == "__main__":
    main()
