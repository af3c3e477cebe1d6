#!/usr/bin/env python3
"""Generation throughput: the harness's transformers backend vs plain generate(num_return_sequences=n) vs vLLM.

Both backends run the same model (random weights of a real architecture: throughput does not
depend on weight values), on the same device, the same HumanEval-X prompts and the same forced
output length per sample (drawn once, seeded, from a spread like real completions: most
functions are short, some run long). The plain baseline is what other harnesses do: one
generate() call per problem with num_return_sequences=n, every row running until the longest
one is done. The vLLM row (``--backend vllm``: offline ``LLM.generate``, prefix caching) runs the
same saved model on a CUDA GPU with vLLM installed, else prints "not measured". With
``--openai-url URL --openai-model NAME`` a row for a served model is added (its own model, so not
comparable token for token: tokens counted from the server's usage, outputs not forced).
Prints tokens/s, samples/s and the ratio.

    python benchmarks/bench_generation.py                       # CPU-sized defaults
    python benchmarks/bench_generation.py --arch smollm2-135m --problems 16 --n 32 --max-new 256   # GPU
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ARCHS = {
    # SmolLM2-135M (Llama architecture)
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152),
    # a ~1B Llama-architecture model (TinyLlama-1.1B shape)
    "llama-1b": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                     num_key_value_heads=4, vocab_size=32000),
    # small, for a quick smoke run
    "tiny": dict(hidden_size=128, intermediate_size=256, num_hidden_layers=4, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=49152),
}


def build_model(arch, device, dtype):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    cfg = LlamaConfig(max_position_embeddings=4096, **ARCHS[arch])
    return LlamaForCausalLM(cfg).to(device=device, dtype=dtype).eval()


def build_tokenizer(vocab_size):
    """A GPT-2-style byte-level tokenizer trained in code on the prompts (no download)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    from humaneval_x.dataset import load_problems
    texts = [p.prompt for p in load_problems().values()]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=min(vocab_size, 8000), special_tokens=["<eos>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="smollm2-135m", choices=sorted(ARCHS))
    ap.add_argument("--problems", type=int, default=4)
    ap.add_argument("--n", type=int, default=8, help="samples per problem")
    ap.add_argument("--max-new", type=int, default=96, help="longest forced output")
    ap.add_argument("--batch-size", type=int, default=None, help="fast backend rows per wave")
    ap.add_argument("--device", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="also write the numbers here")
    ap.add_argument("--openai-url", default=None, help="also measure --backend openai against this server")
    ap.add_argument("--openai-model", default=None, help="the served model's name (with --openai-url)")
    ap.add_argument("--concurrency", type=int, default=8, help="requests in flight (with --openai-url)")
    args = ap.parse_args()

    import torch
    from humaneval_x.dataset import load_problems
    from humaneval_x.generation.backend import GenerationRequest, SamplingParams
    from humaneval_x.generation.plain_backend import PlainGenerateBackend
    from humaneval_x.generation.transformers_backend import TransformersBackend

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    tok = build_tokenizer(ARCHS[args.arch]["vocab_size"])
    model = build_model(args.arch, device, dtype)
    problems = load_problems(["python", "cpp", "java", "js", "go"])
    tids = [f"{prefix}/{i}" for i in range(args.problems) for prefix in ("Python", "CPP", "Java", "JavaScript", "Go")]
    tids = tids[: args.problems]
    rng = random.Random(args.seed)
    lo = max(4, args.max_new // 8)
    requests = []
    for t in tids:  # forced lengths: mostly short, a long tail up to --max-new
        lengths = {i: min(args.max_new, max(lo, int(rng.lognormvariate(0, 0.6) * args.max_new / 3)))
                   for i in range(args.n)}
        requests.append(GenerationRequest((t, ""), problems[t].prompt, tuple(range(args.n)), None, lengths))
    params = SamplingParams(n=args.n, temperature=0.8, top_p=0.95, max_new_tokens=args.max_new, seed=args.seed)
    useful = sum(sum(r.forced_lengths.values()) for r in requests)
    samples = len(tids) * args.n

    rows = {}
    for name, backend in [("plain generate", PlainGenerateBackend(model_obj=model, tokenizer=tok)),
                          ("humaneval-x", TransformersBackend(model_obj=model, tokenizer=tok,
                                                              batch_size=args.batch_size))]:
        warm = [GenerationRequest(("warm", ""), "def f():", (0,), None, {0: 4})]
        backend.generate(warm, params, lambda c: None)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        got = []
        t0 = time.perf_counter()
        backend.generate(requests, params, got.append)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        tokens = sum(c.completion_tokens for c in got)
        assert len(got) == samples and tokens == useful, (name, len(got), tokens, useful)
        rows[name] = {"seconds": round(dt, 2), "tokens_per_s": round(tokens / dt, 1),
                      "samples_per_s": round(samples / dt, 3)}
    rows["vllm"] = vllm_row(model, tok, requests, params, samples, useful)
    if args.openai_url:
        rows["openai (served)"] = openai_row(args, problems, tids, params)
    ratio = rows["plain generate"]["seconds"] / rows["humaneval-x"]["seconds"]
    gpu = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    print(f"arch={args.arch} device={device} ({gpu}) dtype={dtype} problems={len(tids)} n={args.n} "
          f"forced lengths {lo}..{args.max_new} ({useful} tokens in all)")
    print(f"{'backend':<16}{'seconds':>10}{'tokens/s':>12}{'samples/s':>12}")
    for name, r in rows.items():
        if r is None:
            print(f"{name:<16}{'not measured (needs vLLM and a CUDA GPU)':>34}")
            continue
        print(f"{name:<16}{r['seconds']:>10}{r['tokens_per_s']:>12}{r['samples_per_s']:>12}")
    print(f"speed-up: {ratio:.2f}x")
    if rows["vllm"]:
        print(f"vllm vs humaneval-x: {rows['humaneval-x']['seconds'] / rows['vllm']['seconds']:.2f}x, "
              f"vs plain generate: {rows['plain generate']['seconds'] / rows['vllm']['seconds']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "device": gpu, "rows": rows, "ratio": ratio},
                                              indent=2))


def _timed(backend, requests, params):
    got = []
    t0 = time.perf_counter()
    backend.generate(requests, params, got.append)
    return got, time.perf_counter() - t0


def vllm_row(model, tok, requests, params, samples, useful):
    """The same model (saved to a folder), prompts and forced lengths through offline vLLM; None without it."""
    import tempfile

    import torch
    try:
        import vllm  # noqa: F401
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    from humaneval_x.generation.vllm_backend import VLLMBackend
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        tok.save_pretrained(folder)
        backend = VLLMBackend(model=folder, gpu_memory_utilization=0.5, max_model_len=4096)
        backend.generate([requests[0].__class__(("warm", ""), "def f():", (0,), None, {0: 4})], params,
                         lambda c: None)
        got, dt = _timed(backend, requests, params)
    tokens = sum(c.completion_tokens for c in got)
    assert len(got) == samples and tokens == useful, ("vllm", len(got), tokens, useful)
    return {"seconds": round(dt, 2), "tokens_per_s": round(tokens / dt, 1), "samples_per_s": round(samples / dt, 3),
            "vllm_version": backend.describe()["vllm_version"]}


def openai_row(args, problems, tids, params):
    """A served model through --backend openai (real stop rules; tokens from the server's usage)."""
    from humaneval_x.generation.backend import GenerationRequest
    from humaneval_x.generation.openai_backend import OpenAIBackend
    from humaneval_x.languages import language_of_task
    backend = OpenAIBackend(model=args.openai_model, base_url=args.openai_url, concurrency=args.concurrency)
    requests = [GenerationRequest((t, ""), problems[t].prompt, tuple(range(args.n)), language_of_task(t).stop)
                for t in tids]
    got, dt = _timed(backend, requests, params)
    tokens = backend.describe()["server"]["completion_tokens"]
    return {"seconds": round(dt, 2), "tokens_per_s": round(tokens / dt, 1), "samples_per_s": round(len(got) / dt, 3)}


if __name__ == "__main__":
    main()
