"""How a run's end is decided, the same on a quiet and a loaded machine (one rule, not a race).

A program is stopped by the harness for one of two reasons only, each measured in the program's own time:
- its CPU limit (RLIMIT_CPU, whole seconds: the kernel's SIGKILL) -> timeout;
- the wall limit, counted only while none of its threads runs or waits to run (asleep or blocked: a
  sleep, a read that never returns, a deadlock) -> timeout. Time spent waiting for a CPU that other
  work holds is not counted: a starved program is never stopped by the wall limit, it goes on until it
  ends or uses its CPU limit, as on a quiet machine.
The kernel's OOM killer (the worker's memory limit) -> runtime_error "out of memory", whatever CPU it had
used. A machine so busy that the program could not finish within its wall limit + STARVED_EXTRA_S gets no
verdict (a harness error, retried), never a timeout.

Why the CPU test is "at least half the limit" and not "the whole limit": the kernel stops a program when
its tick-sampled CPU time reaches the limit, while the time reported (wait4) is the precise one; under load
a busy program is sampled more often than it runs (benchmarks/rlimit_cpu_under_load.py: killed at 1.63 to
1.87 s of a 2 s limit at load 40-45, up to 18% short), which the old rule (limit - 0.5 s) called a crash
("killed by signal 9"). What tells the CPU limit from the
OOM killer is now the memory cgroup's oom_kill counter, not the CPU time.
"""
import os
import select
import time

IDLE_POLL_S = 0.1        # how often the program's threads are looked at while it runs
# A program not done this long past its wall limit is not judged. The host waits a request's compile limit
# (60 s) + its wall limit + 60 s: a compile under 30 s leaves the run this much; past the host's deadline the
# worker is replaced and the request retried, a harness error at worst, never a verdict.
STARVED_EXTRA_S = 90.0
CPU_KILL_FRACTION = 0.5  # a SIGKILL without an OOM kill, with at least this part of the CPU limit used: the limit
OOM_FILES = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")  # cgroup v2, v1


def runnable(session):
    """Whether any thread of the program's session (the launcher the zygote forked, its namespace's init,
    the program and what it started: one session, ``session`` its leader's pid) is running or waiting for
    a CPU (state R). Under load the sandbox's own set-up before the program's code (namespaces, mounts, its
    files) is part of it too: a process that leaves the session counts as asleep."""
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p, "rb") as f:
                if int(f.read().rsplit(b")", 1)[1].split()[3]) != session:
                    continue
            for t in os.listdir("/proc/%s/task" % p):
                with open("/proc/%s/task/%s/stat" % (p, t), "rb") as f:
                    if f.read().rsplit(b")", 1)[1].split()[0] == b"R":
                        return True
        except (OSError, IndexError, ValueError):
            continue
    return False


def session_cpu(session):
    """CPU seconds the live processes of the program's session have used, all together (RLIMIT_CPU holds
    each process alone: a program that forks spinners spends its limit many times over)."""
    ticks = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p, "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            if int(fields[3]) == session:
                ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_for_program(status_r, session, wall, now=time.monotonic, is_runnable=runnable, cpu_budget=None,
                     used_cpu=session_cpu):
    """Wait for the program's end (its report on ``status_r``): "done"; "idle" once none of its threads
    ran or waited to run for ``wall`` seconds in all; "cpu" once, past ``wall``, its processes together
    used ``cpu_budget`` (its CPU limit: the program's own time, whatever the load); "starved" past
    ``wall`` + STARVED_EXTRA_S with less than that used."""
    start = last = now()
    idle = 0.0
    while True:
        ready, _, _ = select.select([status_r], [], [], min(IDLE_POLL_S, max(0.0, wall - idle)))
        if ready:
            return "done"
        t = now()
        if not is_runnable(session):
            idle += t - last
        last = t
        if idle >= wall:
            return "idle"
        if t - start >= wall and cpu_budget and used_cpu(session) >= cpu_budget:
            return "cpu"
        if t - start >= wall + STARVED_EXTRA_S:
            return "starved"


def oom_kills():
    """The worker's count of OOM kills (its memory cgroup), or None where it cannot be read."""
    for path in OOM_FILES:
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None
