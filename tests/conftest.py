import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> str:
    env = os.environ.get("HUMANEVAL_X_DATA")
    if env:
        return env
    return str(ROOT.parent / "shared" / "humaneval-x")


@pytest.fixture(scope="session")
def data_dir() -> str:
    d = _data_dir()
    if not Path(d, "humaneval_python.jsonl.gz").exists():
        pytest.fail(f"HumanEval-X data not found in {d}: set HUMANEVAL_X_DATA")
    return d


@pytest.fixture(scope="session")
def problems(data_dir):
    from humaneval_x.dataset import load_problems
    return load_problems(data_dir=data_dir)


@pytest.fixture(scope="session")
def docker_client():
    """The real Docker engine; tests that need it fail (not skip) when it is missing."""
    import docker
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # pragma: no cover - environment problem
        pytest.fail(f"no Docker engine: {exc}. Run `bash .ci/run` or start dockerd.")
    from humaneval_x.sandbox.images import image_status
    missing = [l for l, s in image_status(client).items() if not s["present"]]
    if missing:
        pytest.fail(f"sandbox images missing for {missing}: run `humaneval-x sandbox build`")
    return client


# Tests never share the user's results cache (nor each other's across sessions).
import tempfile as _tempfile

os.environ.setdefault("HUMANEVAL_X_CACHE", _tempfile.mkdtemp(prefix="hx-test-cache-"))
