"""Generation backends chosen by name: the factory, apart from the base class (``backend.py``), so
that each implementation imports the interface and nothing imports the implementations but this
module, lazily (torch, transformers, vllm load only for the backend a run uses)."""
from __future__ import annotations

from ..errors import HarnessError
from .backend import Backend

BACKENDS = ("transformers", "transformers-plain", "openai", "vllm")
_ALIASES = {"hf": "transformers", "plain": "transformers-plain"}
# options that only some backends take; given (not None) to another backend, they are an error
_OPTIONS = {
    "device": ("transformers", "transformers-plain"),
    "batch_size": ("transformers", "transformers-plain"),
    "dtype": ("transformers", "transformers-plain", "vllm"),
    "base_url": ("openai",), "api_key_env": ("openai",), "concurrency": ("openai",),
    "max_model_len": ("vllm",), "tensor_parallel_size": ("vllm",), "gpu_memory_utilization": ("vllm",),
}


def check_backend(name: str, **options) -> str:
    """The canonical name of backend ``name``; HarnessError for an unknown name or an option it does not take."""
    canonical = _ALIASES.get(name, name)
    if canonical not in BACKENDS:
        raise HarnessError(f"unknown --backend {name!r}; choose one of {', '.join(BACKENDS)}")
    for option, takers in _OPTIONS.items():
        if canonical not in takers and options.get(option) is not None:
            raise HarnessError(f"--{option.replace('_', '-')} applies to --backend {' or '.join(takers)} only "
                               f"(this run uses {canonical})")
    return canonical


def get_backend(name: str, **kwargs) -> Backend:
    """The backend called ``name``, given the options it takes (others must be None)."""
    canonical = check_backend(name, **kwargs)
    for option, takers in _OPTIONS.items():
        if canonical not in takers:
            kwargs.pop(option, None)
    if canonical == "transformers":
        from .transformers_backend import TransformersBackend
        return TransformersBackend(**kwargs)
    if canonical == "transformers-plain":
        from .plain_backend import PlainGenerateBackend
        return PlainGenerateBackend(**kwargs)
    if canonical == "openai":
        from .openai_backend import OpenAIBackend
        return OpenAIBackend(**kwargs)
    from .vllm_backend import VLLMBackend
    return VLLMBackend(**kwargs)
