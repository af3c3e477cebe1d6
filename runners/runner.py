#!/usr/bin/env python3
"""In-sandbox runner for HumanEval-X programs: the boundary around every program.

Runs as root inside a worker container (read-only root, tmpfs /tmp, no network, the
capabilities SETUID, SETGID, SYS_ADMIN, CHOWN, FOWNER, DAC_OVERRIDE, KILL only,
no-new-privileges). Protocol on stdin/stdout, one JSON object per line:

  runner -> host   {"ready": true}
  host -> runner   {"key": "<hex>"}          per-worker secret, chosen by the host
  host -> runner   request                    (see below), or {"id": ..., "check": true}
  runner -> host   {"body": "<json>", "mac": hmac_sha256(key, body)}

Every reply carries the request's id inside its MAC'd body, so a reply that a program
managed to write, or one shifted from another request, does not verify and condemns
the worker on the host side.

Request::

    {"id": "...", "files": {"main.py": "..."},
     "compile": ["g++", ...] | null, "compile_server": [...] | null, "run": ["./a.out"],
     "python": bool,  # run main.py in a fork of the preloaded interpreter (the zygote)
     "compile_timeout": 60, "run_timeout": 20, "run_cpu": 10,
     "failure_markers": [...], "crash_markers": [...], "output_cap": 4096}

How a program runs (see README, "The boundary around each program"):
- Compilers run as the build uid (10001) in a staging folder; they run no program code
  (Go without cgo, javac without annotation processing, g++).
- The program itself runs in fresh pid, mount and IPC namespaces, as a uid of its own
  (20000 + n) with no capabilities and a seccomp filter of its own (no new namespaces, hence no
  user namespace; no mount calls; see _SYSCALLS): /proc (Docker's masks applied again) shows
  only its own processes; /tmp, /dev/shm and
  /dev/mqueue are fresh size-limited tmpfs; its working folder /tmp/work holds copies of
  the staged files; HOME and TMPDIR point there. When it ends, the namespace's init
  exits and the kernel kills whatever it left running; its mounts vanish with it.
- The sentinel (the proof that the test suite ran to its end) is chosen here, at random,
  per execution, and handed to the program on a pipe as its stdin, which the harness's
  own code reads (and closes) before the program's code runs. It is in no file, argv or
  environment, and in no process the program can see.
- Programs are forked by a zygote: a process forked from this runner before it learnt
  the key, holding the preloaded Python modules (Python programs run in a fork of it,
  without an interpreter start-up) and nothing secret.
- Captured output goes to memfd files (no path: nothing to replace by a symlink).
Standard library only: it runs in every language image.
"""
import ctypes
import errno
import hashlib
import hmac
import json
import os
import queue
import re
import resource
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

READY_FILE = os.environ.get("HX_READY_FILE", "/tmp/.hx-ready")
STAGE_ROOT = "/tmp/hx-stage"
STAGE_TMP = ".hx-tmp"  # in each stage folder: the compilers' TMPDIR
RUN_FILE_LIMIT = 4 * 1024 * 1024  # bytes a program may write to one file (stdout included)
COMPILE_FILE_LIMIT = 256 * 1024 * 1024
BUILD_UID = 10001
PROGRAM_UID_BASE = 20000
PROGRAM_UIDS = 30000
PROGRAM_NPROC = 256  # processes and threads of one program (its own uid)
PROGRAM_TMPFS = "size=256m,nr_inodes=20000,mode=1777"
SHM_TMPFS = "size=32m,nr_inodes=1000,mode=1777"
SCRATCH_FILE_LIMIT = 64 * 1024 * 1024
STATUSES = ("passed", "failed", "compile_error", "runtime_error", "timeout", "harness_error")
ISOLATION = "ns-uid-v4"

# ---------------------------------------------------------------- Linux calls not in os
_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x20000000, 0x08000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG = 1


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _unshare(flags):
    _check(_libc.unshare(flags), "unshare")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), "mount " + target)


def _killpg(pid, sig):
    """Signal a process group that may already be gone."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ---------------------------------------------------------------- a program's own seccomp filter
# The container keeps SYS_ADMIN for the runner, and Docker's seccomp profile then allows namespace
# and mount calls to EVERY process in it. A program gets a filter of its own on top (it cannot be
# removed): no new namespaces (no user namespace, hence no capabilities anywhere), no mount calls,
# no bpf/perf/keyrings/userfaultfd/io_uring, no 32-bit or x32 system calls.
_SYSCALLS = {  # machine: (audit arch, {name: number}); clone is filtered on its flags
    "x86_64": (0xC000003E, dict(
        clone=56, clone3=435, unshare=272, setns=308, mount=165, umount2=166, pivot_root=155, chroot=161,
        bpf=321, perf_event_open=298, fsopen=430, fsconfig=431, fsmount=432, fspick=433, open_tree=428,
        move_mount=429, mount_setattr=442, keyctl=250, add_key=248, request_key=249, userfaultfd=323,
        name_to_handle_at=303, open_by_handle_at=304, io_uring_setup=425, io_uring_enter=426,
        io_uring_register=427, sethostname=170, setdomainname=171, syslog=103, quotactl=179, acct=163)),
    "aarch64": (0xC00000B7, dict(
        clone=220, clone3=435, unshare=97, setns=268, mount=40, umount2=39, pivot_root=41, chroot=51,
        bpf=280, perf_event_open=241, fsopen=430, fsconfig=431, fsmount=432, fspick=433, open_tree=428,
        move_mount=429, mount_setattr=442, keyctl=219, add_key=217, request_key=218, userfaultfd=282,
        name_to_handle_at=264, open_by_handle_at=265, io_uring_setup=425, io_uring_enter=426,
        io_uring_register=427, sethostname=161, setdomainname=162, syslog=116, quotactl=60, acct=89)),
}
CLONE_NEW_ANY = 0x7E020080  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME


def _seccomp_program():
    """The BPF filter (bytes) for this machine, or None where it is not known (then: Docker's alone)."""
    import platform
    import struct
    machine = platform.machine()
    if machine not in _SYSCALLS:
        return None
    arch, calls = _SYSCALLS[machine]
    ld, jeq, jset, jge, ret = 0x20, 0x15, 0x45, 0x35, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    blocked = [n for name, n in sorted(calls.items()) if name not in ("clone", "clone3")]
    ins = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, eperm), (ld, 0, 0, 0)]
    if machine == "x86_64":
        ins += [(jge, 0, 1, 0x40000000), (ret, 0, 0, eperm)]  # the x32 ABI
    ins += [(jeq, 0, 1, calls["clone3"]), (ret, 0, 0, enosys)]  # libc falls back to clone
    ins += [(jeq, 0, 3, calls["clone"]), (ld, 0, 0, 16), (jset, 0, 1, CLONE_NEW_ANY), (ret, 0, 0, eperm),
            (ld, 0, 0, 0)]
    for i, n in enumerate(blocked):
        ins.append((jeq, len(blocked) - i, 0, n))
    ins += [(ret, 0, 0, allow), (ret, 0, 0, eperm)]
    return b"".join(struct.pack("HBBI", *i) for i in ins), len(ins)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_SECCOMP = _seccomp_program()
if _SECCOMP is not None:  # built once here; every program's process inherits it by fork
    _SECCOMP_BUF = ctypes.create_string_buffer(_SECCOMP[0], len(_SECCOMP[0]))
    _SECCOMP_PROG = _SockFprog(_SECCOMP[1], ctypes.addressof(_SECCOMP_BUF))


def _install_seccomp():
    """In the program's process, after its uid is dropped (no_new_privs is set): the filter above."""
    if _SECCOMP is None:
        return
    zero = ctypes.c_ulong(0)
    _check(_libc.prctl(38, ctypes.c_ulong(1), zero, zero, zero), "no_new_privs")  # PR_SET_NO_NEW_PRIVS
    _check(_libc.prctl(22, ctypes.c_ulong(2), ctypes.byref(_SECCOMP_PROG), zero, zero), "seccomp")  # FILTER mode


# ---------------------------------------------------------------- what a program's process gets
def _cpu_limit(cpu_seconds):
    """The whole CPU seconds RLIMIT_CPU gets for a run limit of ``cpu_seconds``."""
    return max(1, int(cpu_seconds))


def _program_limits(cpu_seconds):
    if cpu_seconds:
        # soft == hard: SIGKILL at the limit, so a program that ignores SIGXCPU (Go's runtime does,
        # and any program may install a handler) gets no more CPU than one that dies of it
        limit = _cpu_limit(cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (RUN_FILE_LIMIT, RUN_FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (PROGRAM_NPROC, PROGRAM_NPROC))
    try:  # the program, not the runner, is the first victim of the OOM killer
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def _program_env(uid):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HX_") and k != "GOCACHE"}
    env.update(HOME="/tmp/work", TMPDIR="/tmp", USER="p%d" % uid, LOGNAME="p%d" % uid, PWD="/tmp/work")
    return env


def _copy_staged(stage_fd, names, uid):
    """Copy the staged files (opened through the folder's fd: its path is hidden by now) into /tmp/work:
    ``names``, or (None) every regular file at its top but the runner's own (.hx-*)."""
    import stat
    os.mkdir("/tmp/work", 0o700)
    if names is None:  # listed here, not sent: a compiler may make more names than a message holds
        names = sorted(n for n in os.listdir(stage_fd) if not n.startswith(".hx-")
                       and stat.S_ISREG(os.stat(n, dir_fd=stage_fd, follow_symlinks=False).st_mode))
    for name in names:
        src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=stage_fd)
        try:
            mode = os.fstat(src).st_mode & 0o755
            dst = os.open(os.path.join("/tmp/work", os.path.basename(name)), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                          mode | 0o600)
            try:
                while True:
                    chunk = os.read(src, 1 << 20)
                    if not chunk:
                        break
                    os.write(dst, chunk)
                os.fchown(dst, uid, uid)
            finally:
                os.close(dst)
        finally:
            os.close(src)
    os.chown("/tmp/work", uid, uid)


# what Docker masks in the container's /proc, masked again in each program's fresh /proc mount
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
PROC_MASKED = ("kcore", "keys", "timer_list", "sched_debug", "kallsyms", "kmsg")
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
HIDDEN_FROM_PROGRAMS = ("/opt/hx/javac",)  # the Java compile server (an empty folder in each program's view)


def _mask_proc():
    for name in PROC_READ_ONLY:
        path = "/proc/" + name
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _mount("none", path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_MASKED:
        path = "/proc/" + name
        if os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)


def _namespace_init(spec, fds):
    """pid 1 of the program's fresh namespaces (root): private mounts, then the program as pid 2."""
    stdin_r, out, err, status_w, stage_fd = fds
    uid = int(spec["uid"])
    try:
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _mask_proc()
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, PROGRAM_TMPFS)
        for path in HIDDEN_FROM_PROGRAMS:  # the harness's own tools: nothing of them in a program's view
            if os.path.isdir(path):
                _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=755")
        for path in ("/dev/shm", "/dev/mqueue"):
            if os.path.isdir(path):
                _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, SHM_TMPFS)
    except BaseException as exc:
        os.write(status_w, json.dumps({"error": "cannot prepare the program's sandbox: %r" % (exc,)}).encode())
        os._exit(0)
    try:
        _copy_staged(stage_fd, spec.get("copy"), uid)
        os.close(stage_fd)
    except OSError as exc:  # what the compiler made of the program does not fit its scratch space
        key = "program_error" if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) else "error"
        os.write(status_w, json.dumps({key: "its files do not fit its sandbox's /tmp (%s)" % (exc,)}).encode())
        os._exit(0)
    except BaseException as exc:
        os.write(status_w, json.dumps({"error": "cannot prepare the program's sandbox: %r" % (exc,)}).encode())
        os._exit(0)
    pid = os.fork()
    if pid == 0:  # the program
        try:
            for target, fd in ((0, stdin_r), (1, out), (2, err)):
                os.dup2(fd, target)
            os.closerange(3, 1 << 16)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _program_limits(spec.get("cpu"))
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.chdir("/tmp/work")
            env = _program_env(uid)
            _install_seccomp()
        except BaseException:
            os._exit(125)
        if spec.get("python"):
            os.environ.clear()
            os.environ.update(env)
            _exec_python_here("/tmp/work/" + spec["main"], "/tmp/work")
        try:
            os.execvpe(spec["argv"][0], spec["argv"], env)
        except OSError as exc:
            os.write(2, ("cannot run %s: %s\n" % (spec["argv"][0], exc)).encode())
        os._exit(127)
    for fd in (stdin_r, out, err):
        os.close(fd)
    while True:  # reap orphans until the program itself ends
        try:
            got, status, usage = os.wait4(-1, 0)
        except ChildProcessError:
            status, usage = None, None
            break
        if got == pid:
            break
    report = {"wait": status, "cpu_s": (usage.ru_utime + usage.ru_stime) if usage else None}
    os.write(status_w, json.dumps(report).encode())
    os._exit(0)  # the namespace ends with its init: every process the program left is killed


def _launch(spec, fds):
    """In the zygote: fork the process that becomes the program's namespaces. Returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    try:  # C1: a new session and namespaces; its child is their pid 1
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote's "reap automatically" is not for here
        os.setsid()
        _die_with_parent()
        _unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC)
        child = os.fork()
        if child == 0:
            _namespace_init(spec, fds)
        for fd in fds:
            os.close(fd)
        os.waitpid(child, 0)
    except BaseException as exc:
        try:
            os.write(fds[3], json.dumps({"error": "cannot start the program: %r" % (exc,)}).encode())
        except OSError:
            pass
    os._exit(0)


def _exec_python_here(path, cwd):
    """In a forked child: run the Python file like `python3 main.py` would, then exit. Never returns.
    What a fresh interpreter would differ in is set as it sets it: a ``__main__`` module of its own,
    ``sys.argv``, the signals Python's start-up changes, stdio's error handlers, the recursion depth
    left to the program, non-daemon threads joined before atexit."""
    import atexit
    import builtins
    import importlib.machinery
    import traceback
    import types
    code = 0
    try:
        os.chdir(cwd)
        sys.argv = [os.path.basename(path)]
        sys.path[0] = cwd
        # what Python's own start-up does to signals (a plain `python3` after the namespace's exec)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.stdin = open(0, "r", encoding="utf-8", errors="surrogateescape", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
        if "random" in sys.modules:  # a fresh interpreter seeds from the OS; so does a forked program
            sys.modules["random"].seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        with open(path, encoding="utf-8") as f:
            source = f.read()
        main = types.ModuleType("__main__")
        main.__dict__.update(__file__=path, __builtins__=builtins, __spec__=None, __package__=None,
                             __loader__=importlib.machinery.SourceFileLoader("__main__", path))
        sys.modules["__main__"] = main
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        sys.setrecursionlimit(sys.getrecursionlimit() + depth)  # the runner's frames are not the program's
        exec(compile(source, path, "exec"), main.__dict__)
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
        if "threading" in sys.modules:  # as the interpreter's finalisation: non-daemon threads first
            sys.modules["threading"]._shutdown()
    except BaseException:
        traceback.print_exc()
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code & 0xFF)


def zygote_main(sock):
    """Forked from the runner before it read the key: launches programs on request, nothing else."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # launched processes are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _die_with_parent()
    null = os.open(os.devnull, os.O_RDWR)  # not even the runner's own streams stay within reach
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 8)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        try:
            pid = _launch(json.loads(msg), fds)
        except BaseException:
            pid = 0
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            sock.send(str(pid).encode())
        except OSError:
            os._exit(0)


# ---------------------------------------------------------------- the runner
def _read_capped(fd, cap, keep=None):
    """(head+tail text limited to about `cap` characters, whole bytes) of a capture file. With `keep`,
    the bytes are only the first `keep` of them (a compiler's flood is never read whole): the file's
    size tells whether that was all."""
    size = os.fstat(fd).st_size

    def pread(offset, n):
        chunks = []
        while n > 0:
            chunk = os.pread(fd, min(n, 1 << 20), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset, n = offset + len(chunk), n - len(chunk)
        return b"".join(chunks)

    half = cap // 2
    if size <= cap:
        data = pread(0, size)
        return data.decode("utf-8", "replace"), data if keep is None else data[:keep]
    head, tail = pread(0, half), pread(size - half, half)
    text = (head.decode("utf-8", "replace") + "\n...[%d bytes cut]...\n" % (size - 2 * half)
            + tail.decode("utf-8", "replace"))
    return text, pread(0, size if keep is None else min(size, keep))


def _capture_files():
    return os.memfd_create("hx-stdout"), os.memfd_create("hx-stderr")


def _stage_result(returncode, timed_out, wall_s, cpu_s, out_fd, err_fd, cap, keep=None, **extra):
    """What a stage reports: its outcome and captured output (capped text; whole bytes, or with `keep`
    their first `keep` and the sizes in _std*_size, in the private _std* fields, which only a batch's
    build asks for; the runner pops the bytes before replying)."""
    stdout, out_bytes = _read_capped(out_fd, cap, keep)
    stderr, err_bytes = _read_capped(err_fd, cap, keep)
    if keep is not None:
        extra.update(_stdout_size=os.fstat(out_fd).st_size, _stderr_size=os.fstat(err_fd).st_size)
    os.close(out_fd)
    os.close(err_fd)
    return dict({"returncode": returncode, "timed_out": timed_out, "wall_s": round(wall_s, 4),
                 "cpu_s": None if cpu_s is None else round(cpu_s, 4), "stdout": stdout, "stderr": stderr,
                 "_stdout_bytes": out_bytes, "_stderr_bytes": err_bytes}, **extra)


def _remove_all_but(folder, names):
    for name in os.listdir(folder):
        if name not in names:
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def _build_preexec(file_limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


LEFTOVER_GRACE_S = 5.0
WARM_GO_CACHE = "/opt/hx/gocache"  # the image's warm build cache (sandboxes/go/Dockerfile)
SCRATCH_FREE_MIN = 0.5  # of the worker's /tmp, free before every compile


def _ensure_scratch_space(scratch="/tmp"):
    """Every compile starts with at least half the worker's /tmp free, and with nothing there that an
    earlier compile left (the build uid's files: compilers write temporary files in their stage, but a
    compiler killed at its limit cannot clean up). The one state kept on purpose between programs is Go's
    build cache (each compile adds its packages, and a program can make those huge): when space runs
    short it is the image's warm one again, so no program's compile can starve a later one's."""
    cache = os.environ.get("GOCACHE")
    for name in os.listdir(scratch):  # what a compiler left outside its stage (none should: TMPDIR is there)
        path = os.path.join(scratch, name)
        try:
            owner = os.lstat(path).st_uid
        except OSError:
            continue
        if owner == BUILD_UID and path != cache and not name.startswith("hsperfdata_"):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
    st = os.statvfs(scratch)
    short = st.f_bavail < SCRATCH_FREE_MIN * st.f_blocks or (st.f_files and st.f_favail < SCRATCH_FREE_MIN * st.f_files)
    if short and cache and os.path.isdir(WARM_GO_CACHE) and os.path.realpath(cache).startswith(scratch + "/"):
        shutil.rmtree(cache, ignore_errors=True)
        shutil.copytree(WARM_GO_CACHE, cache, symlinks=True)
        for dirpath, dirnames, filenames in os.walk(cache):
            for n in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
                os.lchown(n, BUILD_UID, BUILD_UID)


def _program_processes():
    """(pid, uid) of every process running as a program uid."""
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                uid = os.stat("/proc/" + p).st_uid
            except OSError:
                continue
            if uid >= PROGRAM_UID_BASE:
                out.append((p, uid))
    return out


class Runner:
    def __init__(self):
        os.makedirs(STAGE_ROOT, mode=0o711, exist_ok=True)
        self.program_counter = secrets.randbelow(PROGRAM_UIDS)
        self.server = None
        self.zygote_pid, self.zygote = self._start_zygote()

    @staticmethod
    def _start_zygote():
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            parent.close()
            try:
                os.closerange(3, child.fileno())
                os.closerange(child.fileno() + 1, 1 << 16)
                zygote_main(child)
            finally:
                os._exit(0)
        child.close()
        return pid, parent

    def _next_uid(self):
        self.program_counter = (self.program_counter + 1) % PROGRAM_UIDS
        return PROGRAM_UID_BASE + self.program_counter

    # -- staging: files written by the runner, owned by the build uid while compilers run
    @staticmethod
    def stage(files):
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

    @staticmethod
    def _wait_pid(pid, timeout):
        fd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        return bool(ready)

    def build_stage(self, argv, cwd, wall, cap, env=None, keep=None):
        """A compiler run as the build uid (it runs no program code); killed with its group on timeout.
        ``keep``: read only the first so many bytes of its output (see _stage_result)."""
        out, err = _capture_files()
        start = time.monotonic()
        # temporary files of the compilers (g++'s objects, go's work folder) in the stage, never in the
        # worker's /tmp: a compile killed at its limit leaves nothing behind for the next program
        tmp = os.path.join(STAGE_ROOT, os.path.relpath(cwd, STAGE_ROOT).split(os.sep)[0], STAGE_TMP)
        env = dict(env or {}, **({"TMPDIR": tmp} if os.path.isdir(tmp) else {}))
        try:
            proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True, preexec_fn=_build_preexec(COMPILE_FILE_LIMIT),
                                    user=BUILD_UID, group=BUILD_UID, extra_groups=[],
                                    env=dict(os.environ, **env) if env else None)
        except OSError as exc:
            os.close(out)
            os.close(err)
            return {"returncode": None, "error": "cannot start %r: %s" % (argv[0], exc)}
        timed_out = not self._wait_pid(proc.pid, wall)
        _killpg(proc.pid, signal.SIGKILL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: subprocess must not reap it again
        return _stage_result(proc.returncode, timed_out, time.monotonic() - start, usage.ru_utime + usage.ru_stime,
                             out, err, cap, keep)

    def run_program(self, stage_dir, copy, argv, wall, cpu, cap, python=False, env=None):
        """Run one program inside its own namespaces and uid (see the module docstring)."""
        sentinel = "HX_SUITE_DONE_" + secrets.token_hex(16)
        stdin_r, stdin_w = os.pipe()
        os.write(stdin_w, (sentinel + "\n").encode())
        os.close(stdin_w)
        out, err = _capture_files()
        status_r, status_w = os.pipe()
        stage_fd = os.open(stage_dir, os.O_RDONLY | os.O_DIRECTORY)
        spec = {"uid": self._next_uid(), "copy": copy, "argv": argv, "cpu": cpu, "python": bool(python),
                "main": python or None}
        if env:
            spec["argv"] = ["env"] + ["%s=%s" % kv for kv in env.items()] + list(argv)
        start = time.monotonic()
        try:
            socket.send_fds(self.zygote, [json.dumps(spec).encode()], [stdin_r, out, err, status_w, stage_fd])
            reply = self.zygote.recv(64)
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
        ready, _, _ = select.select([status_r], [], [], wall)
        timed_out = not ready
        # the namespace's init with its session: the kernel then kills all the program left
        _killpg(pid, signal.SIGKILL)
        report = b""
        while True:
            chunk = os.read(status_r, 4096)
            if not chunk:
                break
            report += chunk
        os.close(status_r)
        wall_s = time.monotonic() - start
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
        cpu_s = report.get("cpu_s")
        # SIGKILL with the limit's CPU spent is RLIMIT_CPU (its hard limit); SIGKILL before it is the
        # OOM killer. SIGXCPU comes only from RLIMIT_CPU (none is sent while soft == hard; kept for safety)
        if cpu and (returncode == -signal.SIGXCPU or
                    (returncode == -signal.SIGKILL and cpu_s is not None and cpu_s >= _cpu_limit(cpu) - 0.5)):
            timed_out = True
        result = _stage_result(returncode, timed_out, wall_s, cpu_s, out, err, cap)
        result["_sentinel"] = sentinel
        return result

    # -- a long-lived compiler (Java): one warm process instead of a compiler start per program
    def _start_server(self, argv):
        log = os.open("/tmp/hx-server.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.server = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                       start_new_session=True, user=BUILD_UID, group=BUILD_UID, extra_groups=[],
                                       preexec_fn=_build_preexec(COMPILE_FILE_LIMIT))
        os.close(log)

    def _stop_server(self):
        proc, self.server = self.server, None
        if proc is not None:
            _killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def compile_with_server(self, argv, work, wall, cap):
        start = time.monotonic()
        for attempt in range(2):
            if self.server is None or self.server.poll() is not None:
                self._stop_server()
                self._start_server(argv)
            proc = self.server
            _killpg(proc.pid, signal.SIGCONT)
            try:
                proc.stdin.write((work + "\n").encode())
                proc.stdin.flush()
            except OSError:
                self._stop_server()
                continue
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, wall - (time.monotonic() - start)))
            if not ready:
                self._stop_server()
                return {"returncode": None, "timed_out": True, "wall_s": round(time.monotonic() - start, 4),
                        "cpu_s": None, "stdout": "", "stderr": ""}
            line = proc.stdout.readline()
            # Frozen until the next compile: a warm JVM goes on JIT-compiling and collecting after it
            # answers, and in a container with a CPU quota that work took about 80 ms of CPU from the
            # program that runs next (measured: a Java run 0.17 s beside a live server, 0.09 s without).
            _killpg(proc.pid, signal.SIGSTOP)
            if not line:
                self._stop_server()
                continue
            try:
                fd = os.open(os.path.join(work, ".hx-javac.log"), os.O_RDONLY | os.O_NOFOLLOW)
                log, _ = _read_capped(fd, cap, keep=0)
                os.close(fd)
            except OSError:
                log = ""
            code = int(line.strip() or 2)
            if code == 2:
                return {"returncode": None, "error": "compile server failed: " + log[-500:]}
            return {"returncode": code, "timed_out": False, "wall_s": round(time.monotonic() - start, 4),
                    "cpu_s": None, "stdout": "", "stderr": log}
        return {"returncode": None, "error": "the compile server keeps dying"}

    def execute(self, req):
        if req.get("compile") or req.get("compile_server"):  # only compilers keep state between programs
            _ensure_scratch_space()
        stage = self.stage(req["files"])
        result = {"id": req.get("id"), "status": None, "stage": None, "detail": ""}
        cap = int(req.get("output_cap", 4096))
        try:
            comp = None
            if req.get("compile_server"):
                comp = self.compile_with_server(req["compile_server"], stage, req.get("compile_timeout", 60), cap)
                if comp.get("error") and req.get("compile"):
                    # the warm compiler failed on this source (which may be the source's doing): the
                    # plain compiler's verdict counts, as in a naive run; the server starts afresh
                    self._stop_server()
                    _remove_all_but(stage, req["files"])
                    comp = None
            if comp is None and req.get("compile"):  # its messages: capped text only (keep=0)
                comp = self.build_stage(req["compile"], stage, req.get("compile_timeout", 60), cap, keep=0)
            if comp is not None:
                for key in [key for key in comp if key.startswith("_")]:
                    comp.pop(key)
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
            python = next(iter(req["files"])) if req.get("python") else None  # the program's file
            return self.run_and_judge(req, stage, None, req["run"], result, python=python)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def run_and_judge(self, req, stage, copy, argv, result, python=False, env=None):
        run = self.run_program(stage, copy, argv, req.get("run_timeout", 20), req.get("run_cpu", 10),
                               int(req.get("output_cap", 4096)), python=python, env=env)
        out_bytes = run.pop("_stdout_bytes", b"")
        run.pop("_stderr_bytes", None)
        sentinel = run.pop("_sentinel", None)
        result["run"] = run
        result["stage"] = "run"
        if run.get("program_error"):
            result.update(status="runtime_error", detail=run["program_error"])
            return result
        if run.get("error"):
            result.update(status="harness_error", detail=run["error"])
            return result
        result.update(self.verdict(req, run, out_bytes, sentinel))
        return result

    # -- batches: programs compiled together (one link), each still run alone in its own namespaces
    def execute_batch(self, req):
        members = req["batch"]
        builder = BATCH_BUILDERS.get(req.get("batch_kind"))
        try:
            results = builder(self, req) if builder else {}
        except Exception:  # a batch that cannot be built (whatever its members wrote) is no one's verdict
            results = {}
        # whatever the batch could not settle runs alone, exactly as an unbatched request would
        return {"id": req.get("id"), "results": [results.get(i) or self.execute(r) for i, r in enumerate(members)]}

    def go_batch(self, req):
        """Go: each program becomes package NS/hxpK of one GOPATH tree; `go vet` (the checks `go test`
        runs) over all of them, one test binary linking every clean package, one fresh program
        sandbox per program selected by HX_PROG, with a copy of the binary only (no sources).
        NS is drawn at random per batch: no member can name (import) a neighbour's package."""
        members = req["batch"]
        ns = "hxb" + secrets.token_hex(8)
        files = {}
        tests = {}
        for k, r in enumerate(members):
            (name, text), = r["files"].items()
            test = (r.get("batch_info") or {}).get("test")
            if not text.startswith("package main\n") or not test:
                continue
            files["src/%s/hxp%d/p.go" % (ns, k)] = "package hxp%d\n" % k + text[len("package main\n"):]
            tests[k] = test
        if not tests:
            return {}
        _ensure_scratch_space()
        root = self.stage(files)
        try:
            return self._go_batch(req, members, root, tests, ns)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _go_batch(self, req, members, root, tests, ns):
        src = os.path.join(root, "src", ns)
        env = {"GOPATH": root + ":" + os.environ.get("GOPATH", "")}
        results = {}
        start = time.monotonic()
        # The batch's shared build (vet, link, symbol check, reading their messages) has one program's
        # compile limit in all, whatever its members make the tools print: past it, every member not
        # yet settled compiles alone (execute_batch), within its own limits.
        deadline = start + float(req.get("compile_timeout", 60))

        def left():
            return deadline - time.monotonic()

        def named(stage):
            """Members the stage's messages name (read in linear time, at most GO_OUTPUT_KEEP bytes of
            them), and whether that was all they said. Those messages quote program text (a raw string
            can hold go's own "# NS/hxpK" headers, had it the random NS), so they are never a neighbour's
            verdict: a member they name leaves the batch, and only its own compile alone gives its
            compile_error; one whose messages flood (go vet quotes arguments verbatim) leaves with them."""
            text = stage["_stderr_bytes"].decode("utf-8", "replace")
            return set(_go_sections(text, ns)) & set(tests), stage["_stderr_size"] <= len(stage["_stderr_bytes"])

        while True:  # vet until its messages were read whole: each round, what they named leaves
            if left() <= 0:
                return {}
            vet = self.build_stage(["go", "vet"] + GO_VET_FLAGS + ["%s/hxp%d" % (ns, k) for k in tests], src, left(),
                                   4096, env=env, keep=GO_OUTPUT_KEEP)
            if vet.get("error") or vet["timed_out"]:
                return {}
            gone, whole = named(vet)
            if (vet["returncode"] != 0 or not whole) and not gone:
                return {}
            for k in gone:
                del tests[k]
            if whole or not tests:
                break
        driver = os.path.join(src, "driver")
        os.makedirs(driver, exist_ok=True)
        os.chown(driver, BUILD_UID, BUILD_UID)
        for _ in range(3):
            if not tests or left() <= 0:
                return results
            with open(os.path.join(driver, "d_test.go"), "w") as f:
                f.write(_go_driver(tests, ns))
            # -w: no DWARF (a faster link); the symbol table stays for the init check below
            build = self.build_stage(["go", "test", "-c", "-vet=off", "-ldflags=-w", "-o", "../../../batch.test",
                                      "."], driver, left(), 4096, env=env, keep=GO_OUTPUT_KEEP)
            if build.get("error") or build["timed_out"]:
                return results
            if build["returncode"] == 0:
                # In a shared binary every member's package initialises in every member's run: a member
                # with init code (whatever the host's text check made of it) leaves the batch.
                with_init = self._go_members_with_init(root, driver, left(), env, ns)
                if with_init is None:
                    return results
                with_init &= set(tests)
                if not with_init:
                    break
                for k in with_init:
                    del tests[k]
                continue
            gone, _ = named(build)
            if not gone:
                return results
            for k in gone:
                del tests[k]
        else:
            return results
        if left() <= 0:
            return results
        compile_info = {"returncode": 0, "timed_out": False, "stdout": "", "stderr": "", "batch": len(members),
                        "wall_s": round((time.monotonic() - start) / len(members), 4), "cpu_s": None}
        for k in tests:
            r = members[k]
            result = {"id": r.get("id"), "status": None, "stage": None, "detail": "", "compile": dict(compile_info)}
            results[k] = self.run_and_judge(r, root, ["batch.test"],
                                            ["./batch.test", "-test.count=1", "-test.run=^TestHx%d$" % k], result,
                                            env={"HX_PROG": str(k)})
        return results

    def _go_members_with_init(self, root, driver, timeout, env, ns):
        """{K: member NS/hxpK has package initialisation code} from the linked binary's symbols, or None."""
        if timeout <= 0:
            return None
        nm = self.build_stage(["go", "tool", "nm", os.path.join(root, "batch.test")], driver, timeout,
                              1 << 16, env=env)
        if nm.get("error") or nm["timed_out"] or nm["returncode"] != 0:
            return None
        init = re.compile(r"^\s*[0-9a-f]+ T %s/hxp([0-9]+)\.init(?:\.[0-9]+)?$" % re.escape(ns), re.M)
        return {int(k) for k in init.findall(nm["_stdout_bytes"].decode("ascii", "replace"))}

    @staticmethod
    def verdict(req, run, out_bytes, sentinel):
        if run["timed_out"]:
            return {"status": "timeout", "detail": "run exceeded its time limit"}
        text = run["stdout"] + "\n" + run["stderr"]
        rc = run["returncode"]
        sentinel_seen = bool(sentinel) and ("\n%s\n" % sentinel).encode() in out_bytes
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

    def health(self):
        """A checkpoint's self-check: the zygote is alive, and no program process exists outside its namespace."""
        problems = []
        try:
            os.kill(self.zygote_pid, 0)
        except OSError:
            problems.append("zygote gone")
        # The kernel tears a program's pid namespace down after its init has closed the status pipe:
        # under load its last processes can still be exiting when a checkpoint looks. Only those
        # still there after a grace period outlived their program.
        deadline = time.monotonic() + LEFTOVER_GRACE_S
        while True:
            left = _program_processes()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        problems += ["program process %s (uid %d) outlived its program" % pu for pu in left[:5]]
        if len(left) > 5:
            problems.append("and %d more" % (len(left) - 5))
        return problems

    def close(self):
        self._stop_server()
        try:
            self.zygote.close()
            os.kill(self.zygote_pid, signal.SIGKILL)
        except OSError:
            pass


GO_VET_FLAGS = ["-atomic", "-bool", "-buildtags", "-errorsas", "-ifaceassert", "-nilfunc", "-printf",
                "-stringintconv"]  # exactly the checks `go test` runs before testing


GO_OUTPUT_KEEP = 1 << 20  # bytes of a batch's compiler or vet messages read (the rest: see _go_batch)
GO_SECTION_KEEP = 4096  # characters of one package's messages kept


def _go_sections(text, ns, keep=GO_SECTION_KEEP):
    """{package index K: its messages, at most ``keep`` characters} from go's `# NS/hxpK` headed output.
    Linear in the text's length, whatever it holds (go vet quotes arguments verbatim: a raw string of
    many lines is as many lines of messages)."""
    section = re.compile(re.escape(ns) + r"/hxp([0-9]{1,6})")  # ASCII digits only ("²".isdigit() is true)
    parts, current = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("# "):
            m = section.fullmatch(line[2:].strip())
            current = int(m.group(1)) if m else None
            if current is not None:
                parts.setdefault(current, [[], 0])
            continue
        if current is not None:
            part = parts[current]
            if part[1] < keep:
                part[0].append(line[:keep - part[1]])
                part[1] += len(part[0][-1])
    return {k: "".join(lines) for k, (lines, _) in parts.items()}


def _go_driver(tests, ns):
    """The test main of a Go batch: HX_PROG=K runs program K's own TestMain and only its test."""
    imports = "".join('    "%s/hxp%d"\n' % (ns, k) for k in tests)
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


def _preload():
    """Import the modules every program imports (HX_PRELOAD), once, before forking the zygote."""
    for name in [m for m in os.environ.get("HX_PRELOAD", "").split(",") if m]:
        try:
            __import__(name)
        except Exception:
            pass


def _end_container():
    """The harness's connection is gone: end the container (its init forwards SIGTERM to its command)."""
    try:
        os.kill(1, signal.SIGTERM)
    except OSError:
        pass


def _signed(key, res):
    body = json.dumps(res)
    return json.dumps({"body": body, "mac": hmac.new(key, body.encode(), hashlib.sha256).hexdigest()})


def _lines(inp, on_lost):
    """The host's lines, read by a watchdog thread: when the connection closes (the harness exited or
    was killed) while a request is in flight, ``on_lost`` ends the container at once, whatever the
    runner is doing (a compiler's flood, a program at its limits); between requests serve() ends it.
    Yields each line until the connection closes."""
    lines = queue.Queue()
    state = {"busy": False, "closed": False}
    lock = threading.Lock()

    def read():
        try:
            for line in inp:
                lines.put(line)
        except (OSError, ValueError):
            pass
        with lock:
            state["closed"] = True
            busy = state["busy"]
        lines.put(None)
        if busy:
            on_lost()

    threading.Thread(target=read, name="hx-watchdog", daemon=True).start()
    while True:
        line = lines.get()
        if line is None:
            return
        with lock:  # a request whose harness is gone already is not worth running
            state["busy"] = not state["closed"]
        if state["busy"]:
            yield line
        with lock:
            state["busy"] = False


def serve(runner, inp, out, on_lost=None):
    key = None
    for line in _lines(inp, on_lost or _end_container):
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError:
            req = {}
        if key is None:  # the first line is the host's per-worker secret
            try:
                key = bytes.fromhex(req["key"])
            except (KeyError, TypeError, ValueError):
                return
            out.write(_signed(key, {"id": "key", "isolation": ISOLATION}) + "\n")
            out.flush()
            continue
        try:
            if req.get("check"):
                problems = runner.health()
                res = {"id": req.get("id"), "healthy": not problems, "detail": "; ".join(problems)}
            elif "batch" in req:
                res = runner.execute_batch(req)
            else:
                res = runner.execute(req)
            text = _signed(key, res)
        except Exception as exc:  # a runner bug is a harness error, never a model failure
            text = _signed(key, {"id": req.get("id"), "status": "harness_error", "stage": None,
                                 "detail": "runner: %r" % (exc,)})
        out.write(text + "\n")
        out.flush()


def main():
    wait_ready()
    _preload()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    runner = Runner()  # forks the zygote: before any key or request is read
    out = sys.stdout
    out.write(json.dumps({"ready": True, "isolation": ISOLATION}) + "\n")
    out.flush()
    try:
        serve(runner, sys.stdin, out)
    finally:
        runner.close()
        _end_container()


if __name__ == "__main__":
    main()
