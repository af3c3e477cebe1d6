"""The boundary around a program, as data: who it runs as, what it may use, what it sees.

The mechanism that applies these numbers and lists is ``jail`` (namespaces, mounts, uid,
rlimits) and ``seccomp`` (the filter assembled from BLOCKED_SYSCALLS); nothing here acts.
"""
# -- uids
BUILD_UID = 10001            # compilers run as it (the images create it: sandboxes/<lang>/Dockerfile)
PROGRAM_UID_BASE = 20000     # a program runs as PROGRAM_UID_BASE + n, n drawn afresh per program
PROGRAM_UIDS = 30000

# -- rlimits
RUN_FILE_LIMIT = 4 * 1024 * 1024       # bytes a program may write to one file (stdout included)
COMPILE_FILE_LIMIT = 256 * 1024 * 1024  # bytes a compiler may write to one file
PROGRAM_NPROC = 256                    # processes and threads of one program (its own uid)

# -- a program's own mounts
PROGRAM_TMPFS = "size=256m,nr_inodes=20000,mode=1777"  # its /tmp
SHM_TMPFS = "size=32m,nr_inodes=1000,mode=1777"        # its /dev/shm and /dev/mqueue
SHM_PATHS = ("/dev/shm", "/dev/mqueue")
HIDDEN_FROM_PROGRAMS = ("/opt/hx/javac",)  # the Java compile server (an empty folder in each program's view)
HIDDEN_TMPFS = "size=4k,mode=755"
# what Docker masks in the container's /proc, masked again in each program's fresh /proc mount
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
PROC_MASKED = ("kcore", "keys", "timer_list", "sched_debug", "kallsyms", "kmsg")

# -- the worker's scratch space (its /tmp) between programs
STAGE_ROOT = "/tmp/hx-stage"
STAGE_TMP = ".hx-tmp"        # in each stage folder: the compilers' TMPDIR
SCRATCH_FILE_LIMIT = 64 * 1024 * 1024
SCRATCH_FREE_MIN = 0.5       # of the worker's /tmp, free before every compile
LEFTOVER_GRACE_S = 5.0       # a checkpoint waits this long for a program's last processes to exit

# -- a program's seccomp filter
# The container keeps SYS_ADMIN for the runner, and Docker's seccomp profile then allows namespace
# and mount calls to EVERY process in it. A program gets a filter of its own on top (it cannot be
# removed): no new namespaces (no user namespace, hence no capabilities anywhere), no mount calls,
# no bpf/perf/keyrings/userfaultfd/io_uring, no 32-bit or x32 system calls.
BLOCKED_SYSCALLS = {  # machine: (audit arch, {name: number}); clone is filtered on its flags
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
CLONE_NEW_ANY = 0x7E020080  # clone flags refused: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWTIME
