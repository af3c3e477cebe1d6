"""Running on a Ray cluster (optional extra: ``pip install humaneval-x[ray]``).

- ``ray_executor.RayExecutor``: the execution stage across nodes, behind the interface of
  ``execute.Executor.run`` (jobs in, one ``on_result`` per job): one executor actor per node owns
  that node's Docker sandboxes; the driver dedupes, chunks, retries and streams verdicts back.
- ``generation.RayGenerationBackend``: data-parallel generation, one replica actor per GPU (or CPU
  replicas), behind the ``Backend`` interface, so ``generate.run_generation`` is unchanged.

``connect`` is the one place a ``--ray`` address is checked and joined.
"""
from __future__ import annotations

import os
import socket
from typing import Optional, Tuple

from ..errors import HarnessError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _parse(address: str) -> Tuple[str, Optional[str], Optional[int]]:
    """'auto' | 'host:port' | 'ray://host:port' -> (scheme, host, port); HarnessError otherwise."""
    if address == "auto":
        return "auto", None, None
    scheme, rest = ("ray", address[len("ray://"):]) if address.startswith("ray://") else ("gcs", address)
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise HarnessError(f"--ray {address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
    return scheme, host, int(port)


def connect(address, log=print):
    """Join the Ray cluster at ``address`` (once per process); returns the ``ray`` module.

    A malformed address, an address nobody answers at, or a missing Ray install is a HarnessError
    (one line, exit status 2) raised before any work is done."""
    if not isinstance(address, str) or not address.strip():
        raise HarnessError(f"--ray must be auto or a cluster address like 10.0.0.1:6379 (got {address!r})")
    address = address.strip()
    scheme, host, port = _parse(address)
    if host in LOOPBACK:
        # a cluster on loopback (tests, one machine): Ray would otherwise turn 127.0.0.1 into this
        # machine's network address, which a loopback-bound cluster does not listen on. Read by Ray at
        # import, so it only takes effect when ray is not imported yet.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise HarnessError("--ray needs Ray: pip install 'humaneval-x[ray]'") from None
    if ray.is_initialized():
        return ray
    if host is not None:
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as exc:
            raise HarnessError(f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc})") from None
    try:
        ray.init(address=address, logging_level="warning", log_to_driver=False)
    except Exception as exc:  # ConnectionError (nothing running for auto), ValueError, RuntimeError
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise HarnessError(f"--ray {address}: cannot join the Ray cluster ({first[:200]})") from None
    return ray
