"""How a run's end is decided, the same on a quiet and a loaded machine (one rule, not a race).

A program is stopped by the harness for one of two reasons only, each measured in the program's own time:
- its CPU limit, counted in user time: the user CPU seconds of all the program's processes together (the
  time they spend running its own code, the same work whatever the load) -> timeout. The runner's poll
  (every IDLE_POLL_S) stops the program once they reach the limit. System time is not counted: what a
  program costs the kernel varies with the machine's state (a memory hog's page faults, zeroing and reclaim
  took 1.20 to 1.64 s of system time against a steady 0.72 to 0.81 s of user time, quiet and loaded,
  benchmarks/RESULTS.md), so a limit on both made "out of memory" or "out of CPU" a race decided by load.
  System time is held by a backstop at backstop(limit) = 3 x limit + 1 seconds of user + system time,
  the program's processes together (the poll) and each alone (RLIMIT_CPU) -> timeout. The program's
  processes are found by parentage from its launcher (program_processes): one that left the session is
  still the program's, and one of an earlier program, still dying in its own namespace, never is;
- the wall limit, counted only while none of its threads runs or waits to run (asleep or blocked: a
  sleep, a read that never returns, a deadlock) -> timeout. Time spent waiting for a CPU that other
  work holds is not counted: a starved program is never stopped by the wall limit, it goes on until it
  ends or uses its CPU limit, as on a quiet machine.
The kernel's OOM killer (the worker's memory limit) -> runtime_error "out of memory", whatever CPU it had
used. A machine so busy that the program could not finish within its wall limit + STARVED_EXTRA_S gets no
verdict (a harness error, retried), never a timeout.

Why a SIGKILL counts as the backstop from half of it on, not the whole: the kernel stops a program when
its tick-sampled CPU time reaches the limit, while the time reported (wait4) is the precise one; under load
a busy program is sampled more often than it runs (benchmarks/rlimit_cpu_under_load.py: killed at 1.63 to
1.87 s of a 2 s limit at load 40-45, up to 18% short). What tells the CPU limit from the OOM killer is the
memory cgroup's oom_kill counter, not the CPU time.
"""
import os
import select
import time

IDLE_POLL_S = 0.1        # how often the program's threads are looked at while it runs
# A program not done this long past its wall limit is not judged. The host waits a request's compile limit
# (60 s) + its wall limit + 60 s: a compile under 30 s leaves the run this much; past the host's deadline the
# worker is replaced and the request retried, a harness error at worst, never a verdict.
STARVED_EXTRA_S = 90.0
CPU_KILL_FRACTION = 0.5  # a SIGKILL without an OOM kill, with at least this part of the backstop used: the backstop
TEARDOWN_S = 10.0        # the longest a run waits for its namespace's last processes to be gone
OOM_FILES = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")  # cgroup v2, v1


def program_processes(launcher):
    """(pid, /proc stat fields after the name) of every process of the program: the launcher the zygote
    forked (``launcher``), its namespace's init, the program and everything they started, found by parentage
    (an orphan is adopted by the namespace's init), so a process that leaves the session (setsid) is still
    the program's, and a process of an earlier program still dying in its own namespace never is."""
    procs = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p, "rb") as f:
                procs[int(p)] = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
    member = {launcher: True}

    def belongs(pid):
        path = []
        while pid not in member:
            path.append(pid)
            fields = procs.get(pid)
            try:
                pid = int(fields[1]) if fields else 0  # its parent
            except (IndexError, ValueError):
                pid = 0
            if pid <= 1 or pid in path:
                member[pid] = False
                break
        for q in path:
            member[q] = member[pid]
        return member[pid]

    return [(p, fields) for p, fields in procs.items() if belongs(p)]


def nested_processes():
    """How many processes of this worker live in a pid namespace below its own: only programs' do."""
    count = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/status" % p, "rb") as f:
                for line in f:
                    if line.startswith(b"NSpid:"):
                        count += len(line.split()) > 2
                        break
        except OSError:
            continue
    return count


def wait_gone(timeout=TEARDOWN_S, sleep=time.sleep, now=time.monotonic, count=nested_processes):
    """Wait until no program process is left in the worker (a killed namespace's processes can outlive the
    report of its end by a moment: a memory hog frees its memory as it exits), at most ``timeout`` seconds.
    Whether the worker is clear."""
    end = now() + timeout
    while count():
        if now() >= end:
            return False
        sleep(0.01)
    return True


def runnable(session):
    """Whether any thread of the program (program_processes; ``session``: its launcher's pid, the leader of
    its session) is running or waiting for a CPU (state R).
    Under load the sandbox's own set-up before the program's code (namespaces, mounts, its files) is part
    of it too."""
    for p, _ in program_processes(session):
        try:
            for t in os.listdir("/proc/%s/task" % p):
                with open("/proc/%s/task/%s/stat" % (p, t), "rb") as f:
                    if f.read().rsplit(b")", 1)[1].split()[0] == b"R":
                        return True
        except (OSError, IndexError):
            continue
    return False


def cpu_limit(cpu_seconds):
    """The whole CPU seconds of user time a run limit of ``cpu_seconds`` allows (limits are whole seconds)."""
    return max(1, int(cpu_seconds))


def backstop(cpu_seconds):
    """The most user + system time (whole seconds) a run limit of ``cpu_seconds`` allows: RLIMIT_CPU, and the
    poll's limit on all the program's processes together. 3 x: a Go memory hog spent 2.0-2.5 s of user time
    and 3.5 to over 6.7 s in all before running out of memory under a 3 s limit (its collector's system
    time, which grows with load), and at 2 x the limit + 1 it ran out of CPU in one run, of memory in the next."""
    return 3 * cpu_limit(cpu_seconds) + 1


def session_cpu_times(session):
    """(user, system) CPU seconds of the program (program_processes): each live process's own and its
    reaped children's (RLIMIT_CPU holds each process alone: a program that forks spinners spends its limit
    many times over)."""
    user = system = 0
    for _, fields in program_processes(session):
        try:
            user += int(fields[11]) + int(fields[13])  # utime, cutime
            system += int(fields[12]) + int(fields[14])  # stime, cstime
        except (IndexError, ValueError):
            continue
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def spent(cpu_budget, times):
    """Whether a program whose processes together used ``times`` (user, system) is past its CPU limit
    ``cpu_budget``: its user time at the limit, or user + system time at the backstop (what RLIMIT_CPU
    cannot hold for a program of many processes: a fork bomb spends its time in the kernel, forking)."""
    user, system = times
    return user >= cpu_limit(cpu_budget) or user + system >= backstop(cpu_budget)


def wait_for_program(status_r, session, wall, now=time.monotonic, is_runnable=runnable, cpu_budget=None,
                     used_cpu=session_cpu_times):
    """Wait for the program's end (its report on ``status_r``): "done"; "cpu" once its processes together
    are past ``cpu_budget``, its CPU limit (spent); "idle" once none of its threads ran or waited to run
    for ``wall`` seconds in all; "starved" past ``wall`` + STARVED_EXTRA_S with neither."""
    start = last = now()
    idle = 0.0
    while True:
        ready, _, _ = select.select([status_r], [], [], min(IDLE_POLL_S, max(0.0, wall - idle)))
        if ready:
            return "done"
        if cpu_budget and spent(cpu_budget, used_cpu(session)):
            return "cpu"
        t = now()
        if not is_runnable(session):
            idle += t - last
        last = t
        if idle >= wall:
            return "idle"
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
