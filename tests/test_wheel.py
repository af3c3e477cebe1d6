"""An installed wheel runs on its own: the build contexts, the runner and the data files ship inside it.

Builds the wheel from a copy of this working tree (the repository gets no build/ folder), installs it
into a fresh venv (its dependencies from the configured package index), and from a folder outside the
repository runs `sandbox status`, `data verify` and a small `evaluate-samples` with the venv's CLI.
The wheel's sandbox files are the repository's byte for byte, so its image tags are the ones the
editable install built.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from humaneval_x.languages import LANGUAGES
from humaneval_x.sandbox.images import _artifacts, context_files, image_tag, runner_files

ROOT = Path(__file__).resolve().parent.parent
ASSETS = "humaneval_x/_assets/"
# what a checkout may hold that a build never needs
NOT_COPIED = shutil.ignore_patterns(".git", "build", "dist", "runs", ".venv", "*.egg-info", "__pycache__",
                                    ".pytest_cache", "*.jsonl.gz")


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src") / "humaneval-x"
    shutil.copytree(ROOT, src, ignore=NOT_COPIED)
    # files a checkout can hold that must not ship: the fetched js tarball and the dataset
    for art in _artifacts("js"):
        (src / "sandboxes" / "js" / art["file"]).write_bytes(b"fetched at image build time")
    (src / "data" / "humaneval_python.jsonl.gz").write_bytes(b"downloaded on first use")
    out = tmp_path_factory.mktemp("wheelhouse")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)])
    wheels = list(out.glob("humaneval_x-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    env_dir = tmp_path_factory.mktemp("venv") / "v"
    run([sys.executable, "-m", "venv", str(env_dir)])
    run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], env=clean_env(env_dir))
    return env_dir


def clean_env(env_dir, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def test_wheel_ships_the_assets_byte_for_byte(wheel):
    with zipfile.ZipFile(wheel) as z:
        shipped = {n[len(ASSETS):]: z.read(n) for n in z.namelist() if n.startswith(ASSETS)}
    runner = runner_files()  # the runner's entry point and its whole package
    expected = {f"runners/{name}": content for name, content in runner.items()}
    for lang in LANGUAGES:
        for name, content in context_files(lang).items():  # exactly what the image tag hashes
            if name not in runner:
                expected[f"sandboxes/{lang}/{name}"] = content
        for art in _artifacts(lang):
            assert f"sandboxes/{lang}/{art['file']}" not in shipped  # fetched and checked at build time
    for path in sorted((ROOT / "data").glob("*.json")):  # manifest, errata, reference times, seeded tests, ...
        expected[f"data/{path.name}"] = path.read_bytes()
    assert set(shipped) == set(expected)
    for name, content in expected.items():
        assert shipped[name] == content, name
    assert not [n for n in shipped if n.endswith((".jsonl.gz", ".tgz"))]


@pytest.mark.slow    # a venv with numpy, docker, ... from the package index, then real sandboxes
@pytest.mark.docker
def test_installed_wheel_runs_outside_the_repository(venv, tmp_path, data_dir, problems, docker_client):
    env = clean_env(venv, HUMANEVAL_X_DATA=data_dir)
    cli = str(venv / "bin" / "humaneval-x")
    work = tmp_path / "elsewhere"
    work.mkdir()

    where = run([str(venv / "bin" / "python"), "-c",
                 "import json, humaneval_x, humaneval_x.paths as p; "
                 "print(json.dumps([humaneval_x.__file__, str(p.SANDBOXES_DIR), str(p.DATA_DIR), p.INSTALLED_ASSETS]))"],
                cwd=work, env=env)
    module, sandboxes, data, installed = json.loads(where.stdout)
    assert installed and all(Path(p).is_relative_to(venv) for p in (module, sandboxes, data)), where.stdout

    status = run([cli, "sandbox", "status"], cwd=work, env=env)  # exit 1 if an image is missing
    for lang in LANGUAGES:  # the same tags as the editable install's, so its images are found
        assert image_tag(lang) in status.stdout and "MISSING" not in status.stdout, status.stdout

    verify = run([cli, "data", "verify"], cwd=work, env=env)
    assert verify.stdout.split().count("ok") == len(LANGUAGES), verify.stdout

    rows = []
    for tid in ("Python/3", "JavaScript/3", "Go/3"):
        rows.append({"task_id": tid, "generation": problems[tid].canonical_solution})
    rows.append({"task_id": "Python/3", "completion": "    return None\n"})
    (work / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run([cli, "evaluate-samples", "samples.jsonl"], cwd=work, env=env)
    results = [json.loads(l) for l in (work / "samples.eval" / "results.jsonl").read_text().splitlines() if l.strip()]
    verdicts = {(r["task_id"], r["sample_index"]): r["passed"] for r in results}
    assert verdicts == {("Python/3", 0): True, ("Python/3", 1): False, ("JavaScript/3", 0): True, ("Go/3", 0): True}
    summary = json.loads((work / "samples.eval" / "summary.json").read_text())
    assert summary["dataset_variant"] == "errata-v2"  # data/errata.json read from the wheel
    for lang in ("python", "js", "go"):  # the images the editable install built
        assert summary["sandbox_images"][lang] == docker_client.images.get(image_tag(lang)).id
