"""Stages: a staging folder for a request's files, a compiler run as the build uid in it, and a
program run in its own namespaces (through the zygote)."""
import json
import os
import resource
import secrets
import select
import signal
import socket
import subprocess
import tempfile
import time

from . import linux, waits
from .capture import capture_files, stage_result
from .policy import BUILD_UID, COMPILE_FILE_LIMIT, STAGE_ROOT, STAGE_TMP
from .protocol import Stage


def stage(files):
    """A fresh staging folder holding ``files`` ({relative name: text}), owned by the build uid."""
    root = tempfile.mkdtemp(prefix="s-", dir=STAGE_ROOT)
    os.mkdir(os.path.join(root, STAGE_TMP), 0o700)  # the compilers' TMPDIR: goes with the stage
    for name, content in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chown(dirpath, BUILD_UID, BUILD_UID)
        for n in filenames:
            os.chown(os.path.join(dirpath, n), BUILD_UID, BUILD_UID)
    return root


def build_preexec(file_limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def wait_pid(pid, timeout):
    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    return bool(ready)


def build_stage(argv, cwd, wall, cap, env=None, keep=None):
    """A compiler run as the build uid (it runs no program code); killed with its group on timeout.
    ``keep``: read only the first so many bytes of its output (see capture.stage_result)."""
    out, err = capture_files()
    start = time.monotonic()
    # temporary files of the compilers (g++'s objects, go's work folder) in the stage, never in the
    # worker's /tmp: a compile killed at its limit leaves nothing behind for the next program
    tmp = os.path.join(STAGE_ROOT, os.path.relpath(cwd, STAGE_ROOT).split(os.sep)[0], STAGE_TMP)
    env = dict(env or {}, **({"TMPDIR": tmp} if os.path.isdir(tmp) else {}))
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True, preexec_fn=build_preexec(COMPILE_FILE_LIMIT),
                                user=BUILD_UID, group=BUILD_UID, extra_groups=[],
                                env=dict(os.environ, **env) if env else None)
    except OSError as exc:
        os.close(out)
        os.close(err)
        return {"returncode": None, "error": "cannot start %r: %s" % (argv[0], exc)}
    timed_out = not wait_pid(proc.pid, wall)
    linux.killpg(proc.pid, signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: subprocess must not reap it again
    return stage_result(proc.returncode, timed_out, time.monotonic() - start, usage.ru_utime + usage.ru_stime,
                        out, err, cap, keep)


def batch_compile(start, size):
    """Each member's compile stage of a batch of ``size`` programs built together since ``start`` (its
    wall_s: its share of the build)."""
    return Stage(0, False, round((time.monotonic() - start) / size, 4), None, "", "", batch=size)


def run_program(zygote, uid, stage_dir, copy, argv, wall, cpu, cap, python=False, env=None):
    """Run one program inside its own namespaces and uid (see jail), launched by the zygote
    (``zygote``: the runner's end of its socket)."""
    sentinel = "HX_SUITE_DONE_" + secrets.token_hex(16)
    stdin_r, stdin_w = os.pipe()
    os.write(stdin_w, (sentinel + "\n").encode())
    os.close(stdin_w)
    out, err = capture_files()
    status_r, status_w = os.pipe()
    stage_fd = os.open(stage_dir, os.O_RDONLY | os.O_DIRECTORY)
    spec = {"uid": uid, "copy": copy, "argv": argv, "cpu": cpu, "python": bool(python), "main": python or None}
    if env:
        spec["argv"] = ["env"] + ["%s=%s" % kv for kv in env.items()] + list(argv)
    oom_before = waits.oom_kills()
    start = time.monotonic()
    try:
        socket.send_fds(zygote, [json.dumps(spec).encode()], [stdin_r, out, err, status_w, stage_fd])
        reply = zygote.recv(64)
    except OSError as exc:
        reply, note = b"", repr(exc)
    else:
        note = "no answer"
    finally:
        for fd in (stdin_r, status_w, stage_fd):
            os.close(fd)
    pid = int(reply or 0)
    if pid <= 0:
        os.close(status_r)
        os.close(out)
        os.close(err)
        return {"returncode": None, "error": "the zygote could not launch the program (%s)" % note}
    # the CPU limit is user time of all the program's processes together; the wall limit counts idle time only
    ended = waits.wait_for_program(status_r, pid, wall, cpu_budget=cpu or None)
    timed_out = ended in ("idle", "cpu")
    # stopped by the poll: the namespace's init dies with the program and reports nothing, so its times now
    at_kill = waits.session_cpu_times(pid) if ended == "cpu" else None
    # the namespace's init with its session: the kernel then kills all the program left
    linux.killpg(pid, signal.SIGKILL)
    report = b""
    while True:
        chunk = os.read(status_r, 4096)
        if not chunk:
            break
        report += chunk
    os.close(status_r)
    wall_s = time.monotonic() - start
    waits.wait_gone()  # the next program starts in a worker this one has left (its memory freed)
    try:
        report = json.loads(report) if report else {}
    except ValueError:
        report = {}
    if report.get("error") or report.get("program_error"):
        os.close(out)
        os.close(err)
        return {"returncode": None, "timed_out": False, "error": report.get("error"),
                "program_error": report.get("program_error")}
    status = report.get("wait")
    if status is None:
        returncode = -signal.SIGKILL
    else:
        returncode = os.waitstatus_to_exitcode(status)
    cpu_s, user_s = report.get("cpu_s"), report.get("user_s")
    if at_kill:
        user_s, cpu_s = at_kill[0], sum(at_kill)
    if ended == "starved":
        os.close(out)
        os.close(err)
        return {"returncode": None, "timed_out": False,
                "error": "the machine was too busy to run the program to its end within %.0f s (its wall limit + %.0f s): "
                         "not judged, run it again" % (wall + waits.STARVED_EXTRA_S, waits.STARVED_EXTRA_S)}
    oom_after = waits.oom_kills()
    oom = oom_before is not None and oom_after is not None and oom_after > oom_before
    # One rule (waits): a SIGKILL from the OOM killer is out of memory; any other SIGKILL after at least half
    # the backstop is RLIMIT_CPU (the kernel counts tick-sampled time, which under load runs ahead of the
    # precise time reported here); SIGXCPU comes only from RLIMIT_CPU (none while soft == hard; kept for safety)
    if cpu and not oom and (returncode == -signal.SIGXCPU or (
            returncode == -signal.SIGKILL and cpu_s is not None and cpu_s >= waits.CPU_KILL_FRACTION * waits.backstop(cpu))):
        timed_out = True
    result = stage_result(returncode, timed_out, wall_s, cpu_s, out, err, cap,
                          user_s=None if user_s is None else round(user_s, 4))
    if oom and not timed_out:
        result["oom_killed"] = True
    result["_sentinel"] = sentinel
    return result
