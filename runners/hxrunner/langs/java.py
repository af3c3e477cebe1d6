"""Java: a long-lived compiler (HxJavac, sandboxes/java) instead of a compiler start per program."""
import os
import select
import signal
import subprocess
import time

from .. import linux
from ..capture import read_capped
from ..policy import BUILD_UID, COMPILE_FILE_LIMIT
from ..stages import build_preexec

NAME = "java"
SERVER_LOG = "/tmp/hx-server.log"
COMPILE_LOG = ".hx-javac.log"  # in the stage folder: the server's messages about this compile


class CompileServer:
    """One warm compiler process, frozen (SIGSTOP) between compiles; started again when it dies."""

    def __init__(self):
        self.proc = None

    def start(self, argv):
        log = os.open(SERVER_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                     start_new_session=True, user=BUILD_UID, group=BUILD_UID, extra_groups=[],
                                     preexec_fn=build_preexec(COMPILE_FILE_LIMIT))
        os.close(log)

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is not None:
            linux.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def compile(self, argv, work, wall, cap):
        """Compile the stage folder ``work`` with the server started by ``argv``: a compile stage's result."""
        start = time.monotonic()
        for attempt in range(2):
            if self.proc is None or self.proc.poll() is not None:
                self.stop()
                self.start(argv)
            proc = self.proc
            linux.killpg(proc.pid, signal.SIGCONT)
            try:
                proc.stdin.write((work + "\n").encode())
                proc.stdin.flush()
            except OSError:
                self.stop()
                continue
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, wall - (time.monotonic() - start)))
            if not ready:
                self.stop()
                return {"returncode": None, "timed_out": True, "wall_s": round(time.monotonic() - start, 4),
                        "cpu_s": None, "stdout": "", "stderr": ""}
            line = proc.stdout.readline()
            # Frozen until the next compile: a warm JVM goes on JIT-compiling and collecting after it
            # answers, and in a container with a CPU quota that work takes CPU from the program that
            # runs next.
            linux.killpg(proc.pid, signal.SIGSTOP)
            if not line:
                self.stop()
                continue
            try:
                fd = os.open(os.path.join(work, COMPILE_LOG), os.O_RDONLY | os.O_NOFOLLOW)
                log, _ = read_capped(fd, cap, keep=0)
                os.close(fd)
            except OSError:
                log = ""
            code = int(line.strip() or 2)
            if code == 2:
                return {"returncode": None, "error": "compile server failed: " + log[-500:]}
            return {"returncode": code, "timed_out": False, "wall_s": round(time.monotonic() - start, 4),
                    "cpu_s": None, "stdout": "", "stderr": log}
        return {"returncode": None, "error": "the compile server keeps dying"}
