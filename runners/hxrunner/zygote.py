"""The zygote: forked from the runner before it read the key, it launches programs on request and
does nothing else. It holds the preloaded Python modules (a Python program runs in a fork of it)
and nothing secret."""
import json
import os
import signal
import socket
import sys

from . import jail, linux


def start():
    """Fork the zygote. Returns (its pid, the runner's end of their socket)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        parent.close()
        try:
            os.closerange(3, child.fileno())
            os.closerange(child.fileno() + 1, 1 << 16)
            serve(child)
        finally:
            os._exit(0)
    child.close()
    return pid, parent


def serve(sock):
    """Launch a program for each message (its spec, with its fds attached); answer the launched pid."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # launched processes are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    linux.die_with_parent()
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
            pid = jail.launch(json.loads(msg), fds)
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
