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


# Without a Docker engine the tests marked ``docker`` are skipped, with one line saying why, so the rest
# runs anywhere (`python3 -m pytest -q -n 2 -m "not docker and not slow"` is the fast inner loop). CI sets
# HX_REQUIRE_DOCKER=1 (.ci/run): there a missing engine fails the run instead.
REQUIRE_DOCKER = os.environ.get("HX_REQUIRE_DOCKER", "") not in ("", "0")
_engine = {}


def docker_missing():
    """None when the Docker engine answers, else why not (one line); asked once per session."""
    if "why" not in _engine:
        try:
            import docker
            docker.from_env(timeout=10).ping()
            _engine["why"] = None
        except Exception as exc:  # pragma: no cover - environment problem
            _engine["why"] = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return _engine["why"]


@pytest.hookimpl(trylast=True)  # after -m has deselected what does not run
def pytest_collection_modifyitems(config, items):
    needing = [item for item in items if "docker" in item.keywords]
    if not needing or REQUIRE_DOCKER or docker_missing() is None:
        return
    skip = pytest.mark.skip(reason=f"no Docker engine ({docker_missing()})")
    for item in needing:
        item.add_marker(skip)
    config._hx_docker_note = (f"{len(needing)} Docker tests skipped: no Docker engine ({docker_missing()}); "
                              f"start dockerd (bash scripts/setup.sh) to run them")


def pytest_terminal_summary(terminalreporter, config):
    note = getattr(config, "_hx_docker_note", None)
    if note:
        terminalreporter.write_line(note)


@pytest.fixture(scope="session")
def docker_client():
    """The real Docker engine. Tests that need it are marked ``docker``: skipped without an engine
    (see above), failed when one is required (CI) or when it answers but lacks the images."""
    import docker
    why = docker_missing()
    if why is not None:
        message = f"no Docker engine: {why}. Run `bash .ci/run` or start dockerd."
        if REQUIRE_DOCKER:
            pytest.fail(message)
        pytest.skip(message)
    client = docker.from_env()
    from humaneval_x.sandbox.images import image_status
    missing = [l for l, s in image_status(client).items() if not s["present"]]
    if missing:
        pytest.fail(f"sandbox images missing for {missing}: run `humaneval-x sandbox build`")
    return client


# Tests never share the user's results cache (nor each other's across sessions).
import tempfile as _tempfile

os.environ.setdefault("HUMANEVAL_X_CACHE", _tempfile.mkdtemp(prefix="hx-test-cache-"))
