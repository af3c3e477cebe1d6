"""Every user error on the command line is one line and exit status 2, before any work (issue 27, item 5).

Docker is made unreachable by pointing DOCKER_HOST at a socket that does not exist (the docker SDK
reads it, as the harness's own check does)."""
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from humaneval_x import __version__
from humaneval_x.cli import CLI, main
from humaneval_x.cli_args import validate

ROOT = Path(__file__).resolve().parents[1]
NO_DOCKER = "unix:///nonexistent/humaneval-x-test/docker.sock"


def cli(*argv, cwd, docker=False, timeout=120):
    env = dict(os.environ)
    if not docker:
        env["DOCKER_HOST"] = NO_DOCKER
    return subprocess.run([sys.executable, "-m", "humaneval_x.cli", *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def one_line_exit_2(r):
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr


@pytest.fixture
def samples(tmp_path):
    (tmp_path / "s.jsonl").write_text('{"task_id": "Python/0", "generation": "    return None\\n"}\n')
    return tmp_path


# ------------------------------------------------------------------ booleans in any spelling
SPELLINGS = [("--progress", "false", "show_progress", False), ("--clean=false", None, "clean", False),
             ("--cache", "false", "cache", False), ("--clean=False", None, "clean", False),
             ("--clean=No", None, "clean", False), ("--cache", "0", "cache", False), ("-p", "0", "show_progress", False),
             ("--progress", "YES", "show_progress", True), ("--cache=1", None, "cache", True),
             ("--clean", "TRUE", "clean", True), ("--noclean", None, "clean", False)]


@pytest.mark.parametrize("flag,value,param,expected", SPELLINGS, ids=[f"{f} {v or ''}" for f, v, _, _ in SPELLINGS])
def test_booleans_reach_the_command_as_booleans(flag, value, param, expected, samples, monkeypatch):
    """true/false/yes/no/1/0 in any case; the command receives the bool, not the (truthy) string 'false'."""
    import humaneval_x.evaluate as evaluate
    got = {}

    def fake(path, out, data_dir, variant, clean, workers, ks, timeouts, **kw):
        got.update(clean=clean, **kw)
        return {"harness_errors": 0}

    monkeypatch.chdir(samples)
    monkeypatch.setattr(evaluate, "evaluate_samples", fake)
    main(["evaluate-samples", "s.jsonl", flag] + ([value] if value is not None else []))
    assert got[param] is expected


def test_a_lower_case_boolean_is_one_line_away_from_docker_not_refused(samples, data_dir):
    """The README's spellings pass validation: the run goes on to the Docker check (unreachable here)."""
    err = one_line_exit_2(cli("evaluate-samples", "s.jsonl", "--progress", "false", "--clean=false", "--cache",
                              "false", "--data-dir", data_dir, cwd=samples))
    assert "Docker engine" in err and "must be true or false" not in err


def test_a_misspelled_boolean_is_still_refused(samples):
    err = one_line_exit_2(cli("evaluate-samples", "s.jsonl", "--clean=Flase", cwd=samples))
    assert "--clean must be true or false" in err


@pytest.mark.parametrize("word", ["true", "false", "yes", "no", "1", "0", "auto", "FALSE", "No", "True", "YES"])
def test_chat_takes_the_same_words(word, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert validate(CLI(), ["evaluate-generation", "--chat", word]) is not None


# ------------------------------------------------------------------ positional arguments
@pytest.mark.parametrize("extra", ["extra", "s.jsonl"], ids=["new name", "existing file"])
def test_a_second_positional_argument_is_refused_and_makes_nothing(extra, samples):
    """It once became the output folder (a folder named after it, or a traceback when the name existed)."""
    err = one_line_exit_2(cli("evaluate-samples", "s.jsonl", extra, cwd=samples))
    assert f"unexpected argument {extra!r}" in err and "SAMPLES" in err
    assert sorted(p.name for p in samples.iterdir()) == ["s.jsonl"]


def test_report_and_gate_take_one_positional_argument(tmp_path):
    assert "unexpected argument 'b'" in one_line_exit_2(cli("report", str(tmp_path), "b", cwd=tmp_path))
    assert "unexpected argument 'c'" in one_line_exit_2(cli("gate", str(tmp_path), "c", cwd=tmp_path))


# ------------------------------------------------------------------ device and dtype before a model loads
@pytest.mark.parametrize("flag,value", [("--device", "tpu"), ("--device", "0"), ("--dtype", "float99"),
                                        ("--dtype", "Tensor")])
def test_a_bad_device_or_dtype_is_one_line(flag, value, tmp_path):
    err = one_line_exit_2(cli("evaluate-generation", flag, value, "--limit", "1", "--n", "1", cwd=tmp_path))
    assert err.startswith(f"humaneval-x: error: {flag}") and value in err.split("(got ", 1)[1]
    assert list(tmp_path.iterdir()) == []


def test_a_device_this_machine_lacks_is_one_line(tmp_path):
    import torch
    if torch.cuda.is_available():
        wanted = f"cuda:{torch.cuda.device_count()}"  # one past the last
    else:
        wanted = "cuda"
    err = one_line_exit_2(cli("evaluate-generation", "--device", wanted, "--limit", "1", cwd=tmp_path))
    assert "--device" in err and "this machine has" in err


def test_auto_dtype_and_cpu_device_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert validate(CLI(), ["evaluate-generation", "--device", "cpu", "--dtype", "auto"]) == \
        {"device": "cpu", "dtype": "auto"}
    assert validate(CLI(), ["evaluate-generation", "--dtype", "bfloat16"]) == {"dtype": "bfloat16"}


# ------------------------------------------------------------------ Docker unreachable
@pytest.mark.parametrize("argv", [["sandbox", "clean"], ["sandbox", "status"], ["sandbox", "build", "--languages",
                                                                                 "python"],
                                  ["self-check", "--languages", "python", "--limit", "1"]],
                         ids=lambda a: " ".join(a))
def test_docker_unreachable_is_one_line(argv, tmp_path):
    err = one_line_exit_2(cli(*argv, cwd=tmp_path))
    assert "cannot reach the Docker engine" in err and NO_DOCKER in err


def test_generation_says_docker_is_missing_before_loading_the_model(tmp_path):
    """A model folder that cannot load: the Docker check must come first (it once came after the model
    had loaded, 30 s for the default model)."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    err = one_line_exit_2(cli("evaluate-generation", "--model", str(model), "--limit", "1", "--n", "1",
                              "--languages", "python", cwd=tmp_path))
    assert "cannot reach the Docker engine" in err and "cannot load model" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


# ------------------------------------------------------------------ --version and --help
def test_version(tmp_path):
    r = cli("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"humaneval-x {__version__}", (r.stdout, r.stderr)


def _commands(component=None, prefix=""):
    """(the name the README uses, the method) of every command, from the CLI class itself."""
    component = component or CLI()
    for name in dir(component):
        obj = getattr(component, name)
        if name.startswith("_"):
            continue
        if inspect.ismethod(obj):
            yield prefix + name.replace("_", "-"), obj
        elif not callable(obj):
            yield from _commands(obj, prefix + name.replace("_", "-") + " ")


def test_top_help_names_the_commands_as_the_readme_does(tmp_path):
    r = cli("--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    listed = set(re.findall(r"^  ([a-z][a-z-]*(?: [a-z][a-z-]*)?)$", r.stdout, re.M))
    assert listed == {name for name, _ in _commands()}
    assert "_" not in "".join(listed)
    readme = (ROOT / "README.md").read_text()
    mentioned = set(re.findall(r"(?:^|[`\s(])humaneval-x ([a-z][a-z-]+)", readme, re.M))  # not a path
    assert {"evaluate-samples", "evaluate-generation", "self-check"} <= mentioned
    for word in mentioned:
        assert any(name == word or name.startswith(word + " ") for name in listed), word


@pytest.mark.parametrize("name,fn", list(_commands()), ids=[n for n, _ in _commands()])
def test_command_help_describes_every_flag(name, fn, capsys):
    main(name.split() + ["--help"])
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith(f"usage: humaneval-x {name}")
    for param in inspect.signature(fn).parameters:
        flag, upper = "--" + param.replace("_", "-"), param.upper()
        heads = [i for i, ln in enumerate(lines) if re.match(rf"  (-\w, )?{flag}\b", ln)
                 or (ln.startswith(f"  {upper}") and upper in ln.split()[0])]
        assert heads, f"{name}: {flag} not in its help"
        described = lines[heads[0] + 1]
        assert described.startswith("      ") and described.strip(), f"{name}: {flag} has no description"
    assert not [f for f in re.findall(r"--[\w-]+", text) if "_" in f], "a flag spelled with _"


def test_help_of_an_unknown_command_is_one_line(tmp_path):
    err = one_line_exit_2(cli("sandbox", "frob", "--help", cwd=tmp_path))
    assert "unknown command 'frob'" in err and "sandbox status" in err
