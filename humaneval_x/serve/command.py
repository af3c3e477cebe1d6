"""``humaneval-x serve``: checks (one line, exit 2, before anything starts) and the server's start."""
from __future__ import annotations

import ipaddress
import os
import sys
from typing import Optional

from ..cli_args import UsageError

LOOPBACK_NAMES = ("localhost", "ip6-localhost")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_options(host: str, port: int, token_env: Optional[str], max_queue: int, chunk: int,
                  deadline: float, max_deadline: float, drain_timeout: float) -> Optional[str]:
    """The token (None: no token), or UsageError. Another address than the loopback needs a token."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise UsageError(f"--port must be an integer 0..65535 (got {port!r})")
    for name, v in (("--max-queue", max_queue), ("--chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UsageError(f"{name} must be a positive integer (got {v!r})")
    for name, v in (("--deadline", deadline), ("--max-deadline", max_deadline), ("--drain-timeout", drain_timeout)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise UsageError(f"{name} must be a number of seconds > 0 (got {v!r})")
    if not isinstance(host, str) or not host:
        raise UsageError(f"--host must be an address (got {host!r})")
    token = None
    if token_env is not None:
        if not isinstance(token_env, str) or not token_env:
            raise UsageError("--token-env names an environment variable that holds the token")
        token = os.environ.get(token_env)
        if not token:
            raise UsageError(f"--token-env {token_env}: the variable {token_env} is not set or empty")
        if len(token) < 16:
            raise UsageError(f"--token-env {token_env}: the token has {len(token)} characters; use at least 16 "
                             "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if not is_loopback(host) and token is None:
        raise UsageError(f"--host {host} is not a loopback address: the service runs code sent to it, so it "
                         "listens elsewhere only with a token (--token-env NAME; requests then need "
                         "'Authorization: Bearer <token>')")
    return token


def run_serve(host: str = "127.0.0.1", port: int = 8000, token_env: Optional[str] = None,
              workers: Optional[int] = None, max_queue: int = 2048, chunk: int = 16, data_dir: Optional[str] = None,
              cache: bool = True, ray: Optional[str] = None, languages: Optional[str] = None,
              deadline: float = 600.0, max_deadline: float = 3600.0, drain_timeout: float = 60.0) -> None:
    token = check_options(host, port, token_env, max_queue, chunk, deadline, max_deadline, drain_timeout)
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError("serve needs the [serve] extra: pip install 'humaneval-x[serve]'") from None
    from ..execute import default_workers
    from ..languages import parse_languages
    from ..sandbox.engine import require_docker
    from .app import serve
    from .engine import Engine
    if not ray:
        require_docker()
    engine = Engine(workers=workers or default_workers(), max_queue=max_queue, chunk=chunk, data_dir=data_dir,
                    cache=cache, ray=ray, languages=parse_languages(languages), default_deadline_s=deadline,
                    max_deadline_s=max_deadline, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"serve: http://{host}:{port} ({'bearer token required' if token else 'no token: loopback only'}; "
          f"{engine.workers} worker(s) per language, queue {max_queue} programs)", file=sys.stderr, flush=True)
    try:
        serve(host, port, token, engine, drain_timeout)
    except KeyboardInterrupt:  # uvicorn hands the signal it drained on back: the drain is done, exit 0
        pass
