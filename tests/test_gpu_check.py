"""benchmarks/gpu_check.py: the parts that run without a GPU (the GPU numbers themselves: "not measured" here)."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_without_cuda_it_skips_cleanly(tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the check would run")
    out = tmp_path / "r.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--out", str(out),
                          "--gguf", "/nonexistent.gguf"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got = json.loads(out.read_text())
    assert got["status"] == "skipped" and "not measured" in got["reason"] and got["sections"] == {}


def test_the_shell_script_skips_cleanly_too(tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    import os
    res = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "run"], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path, env=dict(os.environ, OUT=str(tmp_path),
                                                             HX_GPU_CARRY=str(tmp_path / "no-carry")))
    assert res.returncode == 0, res.stdout + res.stderr
    written = list(tmp_path.glob("gpu-check-*.json"))
    assert len(written) == 1 and json.loads(written[0].read_text())["status"] == "skipped"
    for f in (ROOT / "benchmarks" / "results").glob(written[0].name):  # the copy the script keeps
        f.unlink()
    bad = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "frobnicate"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("usage:")


def test_parts_travel_and_come_back_checked(tmp_path, gpu_check, capsys):
    src = tmp_path / "model.gguf"
    src.write_bytes(bytes(range(256)) * 4099)
    parts = gpu_check.split_file(src, tmp_path / "b", part_bytes=400_000)
    assert len(parts) == 3 and all(p.stat().st_size <= 400_000 for p in parts)
    (tmp_path / "a").mkdir()
    parts[0].rename(tmp_path / "a" / parts[0].name)  # the first part travels in another call
    back = gpu_check.join_parts([tmp_path / "a", tmp_path / "b"], "model.gguf", tmp_path / "out" / "model.gguf")
    assert back.read_bytes() == src.read_bytes()
    parts[2].write_bytes(b"x" + parts[2].read_bytes()[1:])
    with pytest.raises(SystemExit) as exc:
        gpu_check.join_parts([tmp_path / "a", tmp_path / "b"], "model.gguf", tmp_path / "out2" / "model.gguf")
    assert exc.value.code == 2 and "sha256 does not match" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # the first part did not travel (no `stage` call)
        gpu_check.join_parts([tmp_path / "b"], "model.gguf", tmp_path / "out3" / "model.gguf")
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "missing: have [1, 2]" in err and len(err.strip().splitlines()) == 1


def test_greedy_identity_counts_and_locates_differences(gpu_check):
    a = {("CPP/0", ""): "return 1;\n}", ("CPP/1", ""): "abc", ("CPP/2", ""): "same"}
    b = {("CPP/0", ""): "return 2;\n}", ("CPP/1", ""): "abcd", ("CPP/2", ""): "same", ("CPP/3", ""): "x"}
    got = gpu_check.identity(a, b)
    assert got == {"compared": 3, "identical": 1, "identical_fraction": 0.3333, "differing": 2,
                   "first_difference_chars_median": 7, "missing": 1}


def test_the_random_model_is_1_to_2_billion_parameters(gpu_check):
    """The count is computed from the config; checked against a model built on the meta device."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    assert 1e9 < gpu_check.param_count(gpu_check.RANDOM_1B) < 2e9
    with torch.device("meta"):
        for config in (gpu_check.TINY, gpu_check.RANDOM_1B):
            model = LlamaForCausalLM(LlamaConfig(**config))
            assert sum(p.numel() for p in model.parameters()) == gpu_check.param_count(config)
