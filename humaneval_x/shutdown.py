"""A run ends on SIGTERM and SIGHUP as it does on Ctrl-C.

Ctrl-C raises ``KeyboardInterrupt`` in the main thread, and everything a run holds is released on
the way out: each ``SandboxPool`` leaves its ``with`` block and removes its worker containers, the
results written so far stay, and the command line says so and exits 130. A harness killed with
SIGTERM (``kill``, ``docker stop``, a job scheduler) or SIGHUP (its terminal closed) died on the
spot instead, leaving its workers to notice the closed connection on their own. Here both raise
``Terminated``, a ``KeyboardInterrupt``, where Ctrl-C's would be, so the same clean-up runs; the
exit status is then 128 + the signal's number (143, 129), as the shell reports a process the
signal ended. A second such signal during the clean-up is ignored (SIGKILL still ends it).
"""
from __future__ import annotations

import functools
import signal
import sys

SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised as Ctrl-C's KeyboardInterrupt is."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list = []


def _on_signal(signum, frame):
    for s in SIGNALS:  # the clean-up this starts must not be cut short by the next one
        signal.signal(s, signal.SIG_IGN)
    _received.append(signum)
    raise Terminated(signum)


def ends_like_ctrl_c(main):
    """Decorate a command line's ``main``: SIGTERM and SIGHUP while it runs are Ctrl-C, and the exit
    status says which signal it was. Outside the main thread (no signals to take), ``main`` as it is."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            previous = {s: signal.signal(s, _on_signal) for s in SIGNALS}
        except ValueError:  # not the main thread
            return main(*args, **kwargs)
        del _received[:]
        try:
            return main(*args, **kwargs)
        except SystemExit as exc:
            if _received and exc.code == 130:  # main's own Ctrl-C exit: say which signal it was
                raise SystemExit(128 + _received[0]) from None
            raise
        except Terminated as exc:  # main let it through: the same exit status
            sys.exit(128 + exc.signum)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    return wrapper
