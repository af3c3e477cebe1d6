"""The Docker engine: one clear line, before any work, when it does not answer."""
from __future__ import annotations

import os

from ..errors import HarnessError


def docker_hint() -> str:
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return (f"cannot reach the Docker engine at {host}: is dockerd running (`docker info`)? "
            "Set DOCKER_HOST to use another engine, or run `bash scripts/setup.sh`")


def require_docker() -> None:
    """HarnessError (one line) unless the Docker engine answers."""
    try:
        import docker
        docker.from_env(timeout=10).ping()
    except Exception as exc:
        reason = str(exc).split("(")[0].strip(" :") or type(exc).__name__
        raise HarnessError(f"{docker_hint()} ({reason})") from None
