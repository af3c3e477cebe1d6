"""The worker's scratch space between programs: what compilers left, space for the next compile,
and the check that no program process outlived its program."""
import os
import shutil
import time

from .policy import BUILD_UID, LEFTOVER_GRACE_S, PROGRAM_UID_BASE, SCRATCH_FREE_MIN

WARM_GO_CACHE = "/opt/hx/gocache"  # the image's warm build cache (sandboxes/go/Dockerfile)


def ensure_scratch_space(scratch="/tmp"):
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


def remove_all_but(folder, names):
    for name in os.listdir(folder):
        if name not in names:
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def program_processes():
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


def leftover_processes():
    """Program processes still there after a grace period. The kernel tears a program's pid namespace
    down after its init has closed the status pipe: under load its last processes can still be exiting
    when a checkpoint looks. Only those still there after the grace period outlived their program."""
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    while True:
        left = program_processes()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)
