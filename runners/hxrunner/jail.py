"""The mechanism around a program: its namespaces, mounts, uid, rlimits, seccomp filter and files.

The numbers and lists it applies are ``policy``'s. Runs in the zygote's children: ``launch`` forks
the process that unshares the namespaces; its child, ``namespace_init``, is their pid 1 and forks
the program as pid 2.
"""
import errno
import json
import os
import resource
import signal

from . import linux, pyfork, seccomp, waits
from .linux import MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT
from .policy import (HIDDEN_FROM_PROGRAMS, HIDDEN_TMPFS, PROC_MASKED, PROC_READ_ONLY, PROGRAM_NPROC, PROGRAM_TMPFS,
                     RUN_FILE_LIMIT, SHM_PATHS, SHM_TMPFS)

WORK = "/tmp/work"  # a program's working folder, HOME and TMPDIR's parent


def program_limits(cpu_seconds):
    if cpu_seconds:
        # the backstop of the limit the runner's poll holds on user time (waits); soft == hard: SIGKILL,
        # so a program that ignores SIGXCPU (Go's runtime does, any program may) gets no more than one that dies of it
        limit = waits.backstop(cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (RUN_FILE_LIMIT, RUN_FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (PROGRAM_NPROC, PROGRAM_NPROC))
    try:  # the program, not the runner, is the first victim of the OOM killer
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def program_env(uid):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HX_") and k != "GOCACHE"}
    env.update(HOME=WORK, TMPDIR="/tmp", USER="p%d" % uid, LOGNAME="p%d" % uid, PWD=WORK)
    return env


def copy_staged(stage_fd, names, uid):
    """Copy the staged files (opened through the folder's fd: its path is hidden by now) into /tmp/work:
    ``names``, or (None) every regular file at its top but the runner's own (.hx-*)."""
    import stat
    os.mkdir(WORK, 0o700)
    if names is None:  # listed here, not sent: a compiler may make more names than a message holds
        names = sorted(n for n in os.listdir(stage_fd) if not n.startswith(".hx-")
                       and stat.S_ISREG(os.stat(n, dir_fd=stage_fd, follow_symlinks=False).st_mode))
    for name in names:
        src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=stage_fd)
        try:
            mode = os.fstat(src).st_mode & 0o755
            dst = os.open(os.path.join(WORK, os.path.basename(name)), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
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
    os.chown(WORK, uid, uid)


def mask_proc():
    for name in PROC_READ_ONLY:
        path = "/proc/" + name
        if os.path.exists(path):
            linux.mount(path, path, None, MS_BIND | MS_REC)
            linux.mount("none", path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_MASKED:
        path = "/proc/" + name
        if os.path.exists(path):
            linux.mount("/dev/null", path, None, MS_BIND)


def private_mounts():
    """In the fresh mount namespace: nothing propagates out; its own /proc (masked), /tmp, /dev/shm,
    /dev/mqueue; the harness's own tools hidden."""
    linux.mount("none", "/", None, MS_REC | MS_PRIVATE)
    linux.mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mask_proc()
    linux.mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, PROGRAM_TMPFS)
    for path in HIDDEN_FROM_PROGRAMS:  # the harness's own tools: nothing of them in a program's view
        if os.path.isdir(path):
            linux.mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, HIDDEN_TMPFS)
    for path in SHM_PATHS:
        if os.path.isdir(path):
            linux.mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, SHM_TMPFS)


def become_program(spec, stdin_r, out, err):
    """In the program's process (pid 2): its stdio, limits, uid, folder and seccomp filter. Returns its env."""
    uid = int(spec["uid"])
    for target, fd in ((0, stdin_r), (1, out), (2, err)):
        os.dup2(fd, target)
    os.closerange(3, 1 << 16)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    program_limits(spec.get("cpu"))
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    os.chdir(WORK)
    env = program_env(uid)
    seccomp.install()
    return env


def namespace_init(spec, fds):
    """pid 1 of the program's fresh namespaces (root): private mounts, then the program as pid 2."""
    stdin_r, out, err, status_w, stage_fd = fds
    uid = int(spec["uid"])
    try:
        private_mounts()
    except BaseException as exc:
        os.write(status_w, json.dumps({"error": "cannot prepare the program's sandbox: %r" % (exc,)}).encode())
        os._exit(0)
    try:
        copy_staged(stage_fd, spec.get("copy"), uid)
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
            env = become_program(spec, stdin_r, out, err)
        except BaseException:
            os._exit(125)
        if spec.get("python"):
            os.environ.clear()
            os.environ.update(env)
            pyfork.exec_python_here(WORK + "/" + spec["main"], WORK)
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
    report = {"wait": status, "cpu_s": (usage.ru_utime + usage.ru_stime) if usage else None,
              "user_s": usage.ru_utime if usage else None}
    os.write(status_w, json.dumps(report).encode())
    os._exit(0)  # the namespace ends with its init: every process the program left is killed


def launch(spec, fds):
    """In the zygote: fork the process that becomes the program's namespaces. Returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    try:  # C1: a new session and namespaces; its child is their pid 1
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote's "reap automatically" is not for here
        os.setsid()
        linux.die_with_parent()
        linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWPID | linux.CLONE_NEWIPC)
        child = os.fork()
        if child == 0:
            namespace_init(spec, fds)
        for fd in fds:
            os.close(fd)
        os.waitpid(child, 0)
    except BaseException as exc:
        try:
            os.write(fds[3], json.dumps({"error": "cannot start the program: %r" % (exc,)}).encode())
        except OSError:
            pass
    os._exit(0)
