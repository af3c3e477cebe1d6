"""The verdict rule (pure): a run's outcome and output -> status and detail."""
import signal

from .policy import RUN_FILE_LIMIT


def sentinel_seen(out_bytes, sentinel):
    """The test suite ran to its end: its last line, the per-execution sentinel, is in the output."""
    return bool(sentinel) and ("\n%s\n" % sentinel).encode() in out_bytes


def verdict(req, run, out_bytes, sentinel):
    """(status, detail) of a finished run (``run``: returncode, timed_out, stdout, stderr text;
    ``out_bytes``: the whole stdout) under the request's (a ``protocol.Request``) failure and crash markers."""
    if run["timed_out"]:
        return "timeout", "run exceeded its time limit"
    text = run["stdout"] + "\n" + run["stderr"]
    rc = run["returncode"]
    seen = sentinel_seen(out_bytes, sentinel)
    if rc == 0 and seen:
        return "passed", ""
    if rc == 0:
        return "failed", "exited with status 0 before the test suite finished"
    if run.get("oom_killed"):  # the worker's memory cgroup counted an OOM kill during this run
        return "runtime_error", "out of memory (killed by the kernel's OOM killer)"
    if rc == -signal.SIGXFSZ or len(out_bytes) >= RUN_FILE_LIMIT:
        return "runtime_error", "output exceeded %d bytes" % RUN_FILE_LIMIT
    if any(m in text for m in req.crash_markers):
        return "runtime_error", "crashed (exit status %s)" % rc
    if any(m in text for m in req.failure_markers):
        return "failed", "a test assertion failed"
    if rc is not None and rc < 0:
        return "runtime_error", "killed by signal %d" % -rc
    return "runtime_error", "exited with status %s" % rc
