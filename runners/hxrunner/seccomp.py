"""A program's own seccomp filter: assembled from ``policy.BLOCKED_SYSCALLS`` (pure), then installed.

The filter is built once when this module is imported (in the runner, before the zygote is forked):
every program's process inherits it by fork and installs it after dropping its uid.
"""
import ctypes
import platform
import struct

from . import linux
from .policy import BLOCKED_SYSCALLS, CLONE_NEW_ANY

# classic BPF opcodes and seccomp return values
LD_ABS_W, JEQ_K, JSET_K, JGE_K, RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
RET_ALLOW, RET_EPERM, RET_ENOSYS = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
OFF_NR, OFF_ARCH, OFF_ARG0 = 0, 4, 16  # struct seccomp_data
X32_SYSCALL_BIT = 0x40000000


def instructions(machine, table=BLOCKED_SYSCALLS):
    """The filter for ``machine`` as (code, jt, jf, k) tuples, or None where its calls are not known."""
    if machine not in table:
        return None
    arch, calls = table[machine]
    blocked = [n for name, n in sorted(calls.items()) if name not in ("clone", "clone3")]
    ins = [(LD_ABS_W, 0, 0, OFF_ARCH), (JEQ_K, 1, 0, arch), (RET_K, 0, 0, RET_EPERM), (LD_ABS_W, 0, 0, OFF_NR)]
    if machine == "x86_64":
        ins += [(JGE_K, 0, 1, X32_SYSCALL_BIT), (RET_K, 0, 0, RET_EPERM)]  # the x32 ABI
    ins += [(JEQ_K, 0, 1, calls["clone3"]), (RET_K, 0, 0, RET_ENOSYS)]  # libc falls back to clone
    ins += [(JEQ_K, 0, 3, calls["clone"]), (LD_ABS_W, 0, 0, OFF_ARG0), (JSET_K, 0, 1, CLONE_NEW_ANY),
            (RET_K, 0, 0, RET_EPERM), (LD_ABS_W, 0, 0, OFF_NR)]
    for i, n in enumerate(blocked):
        ins.append((JEQ_K, len(blocked) - i, 0, n))
    ins += [(RET_K, 0, 0, RET_ALLOW), (RET_K, 0, 0, RET_EPERM)]
    return ins


def assemble(machine):
    """(the BPF program as bytes, its instruction count) for ``machine``, or None (then: Docker's alone)."""
    ins = instructions(machine)
    if ins is None:
        return None
    return b"".join(struct.pack("HBBI", *i) for i in ins), len(ins)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PROGRAM = assemble(platform.machine())
if _PROGRAM is not None:  # built once here; every program's process inherits it by fork
    _BUF = ctypes.create_string_buffer(_PROGRAM[0], len(_PROGRAM[0]))
    _FPROG = _SockFprog(_PROGRAM[1], ctypes.addressof(_BUF))


def install():
    """In the program's process, after its uid is dropped (no_new_privs is set): the filter above."""
    if _PROGRAM is None:
        return
    zero = ctypes.c_ulong(0)
    linux.check(linux.prctl(linux.PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), zero, zero, zero), "no_new_privs")
    linux.check(linux.prctl(linux.PR_SET_SECCOMP, ctypes.c_ulong(linux.SECCOMP_MODE_FILTER),
                            ctypes.byref(_FPROG), zero, zero), "seccomp")
