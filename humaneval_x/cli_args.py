"""Every command-line flag checked before any work: unknown flags, types, ranges, paths.

Fire only reports an unconsumed flag after the command has run (a mistyped ``--output-dirr``
would execute everything with defaults first). ``validate`` parses the command line the way
Fire will (Fire's own keyword parser and value parser), against the signature and type
annotations of the command's method, then applies the value checks below, and raises
``UsageError`` (one line, exit 2) before a folder is created or a container started.

New flags need no registration: a parameter with an annotation (``int``, ``float``, ``bool``,
``str``, ``Optional[...]``) is type-checked; a check in ``CHECKS`` keyed by the parameter's
name adds range or choice rules wherever that name appears.
"""
from __future__ import annotations

import inspect
import typing
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import HarnessError
from .run_options import RESUME_MODES


class UsageError(HarnessError):
    """A bad command line: reported as one line, exit status 2."""


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# ------------------------------------------------------------------ value checks by parameter name
def _positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise UsageError(f"{_flag(name)} must be a positive integer (got {v!r})")


def _non_negative_number(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise UsageError(f"{_flag(name)} must be a number >= 0 (got {v!r})")


def _positive_number(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise UsageError(f"{_flag(name)} must be a number > 0 (got {v!r})")


def _unit_interval(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
        raise UsageError(f"{_flag(name)} must be a number in (0, 1] (got {v!r})")


def parse_ks(v) -> Tuple[int, ...]:
    """'1,10,100' / 10 / (1, 10) -> (1, 10, 100); UsageError unless every k is a positive integer."""
    if isinstance(v, bool):
        raise UsageError(f"--ks must be positive integers like 1,10,100 (got {v!r})")
    items = v.split(",") if isinstance(v, str) else (list(v) if isinstance(v, (list, tuple)) else [v])
    ks = []
    for item in items:
        s = str(item).strip()
        if not s:
            continue
        try:
            k = int(s)
        except ValueError:
            raise UsageError(f"--ks must be positive integers like 1,10,100 (got {v!r})") from None
        if k < 1 or str(k) != s.lstrip("+"):
            raise UsageError(f"--ks must be positive integers like 1,10,100 (got {v!r})")
        ks.append(k)
    if not ks:
        raise UsageError("--ks is empty; give positive integers like 1,10,100")
    return tuple(ks)


def _ks(name, v):
    parse_ks(v)


def _choice(*choices):
    def check(name, v):
        if v not in choices:
            raise UsageError(f"{_flag(name)} must be one of {', '.join(map(str, choices))} (got {v!r})")
    return check


def _languages(name, v):
    from .languages import parse_languages
    try:
        parse_languages(v)
    except HarnessError as exc:
        raise UsageError(f"{_flag(name)}: {exc}") from None


def _pairs(name, v):
    from .prompts import parse_pairs
    try:
        parse_pairs(v)
    except HarnessError as exc:
        raise UsageError(f"{_flag(name)}: {exc}") from None


def _preset(name, v):
    from .generation.backend import PRESETS
    if v not in PRESETS:
        raise UsageError(f"{_flag(name)} must be one of {', '.join(PRESETS)} (got {v!r})")


def _model(name, v):
    """A local transformers model folder (config.json) or a .gguf file; for served backends a name."""
    if v is None:
        return
    p = Path(str(v))
    if p.is_dir():
        if not (p / "config.json").exists():
            raise UsageError(f"--model {v}: a folder without config.json is not a transformers model folder")
    elif p.is_file():
        if p.suffix != ".gguf":
            raise UsageError(f"--model {v}: a file is accepted only as a .gguf model; give a model folder otherwise")
    else:
        raise UsageError(f"--model {v}: no such model folder or .gguf file")


def _existing_path(name, v):
    if v is not None and not Path(str(v)).exists():
        raise UsageError(f"{_flag(name)} {v}: no such file or folder")


# a boolean flag's words, in any case (`--progress false`, `--clean=No`, `--cache 0`)
BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _chat(name, v):
    if str(v).strip().lower() not in ("auto", *BOOL_WORDS):
        raise UsageError(f"{_flag(name)} must be auto, true or false (or yes/no, 1/0) (got {v!r})")


DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


def _device(name, v):
    """cpu, cuda, cuda:N, mps or xpu, and present on this machine (checked before a model loads)."""
    try:
        import torch
    except ImportError:  # the backend says what is missing when it loads
        return
    try:
        dev = torch.device(str(v))
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or dev.type not in DEVICE_TYPES:
        raise UsageError(f"{_flag(name)} must be cpu, cuda, cuda:N, mps or xpu (got {v!r})")
    if dev.type == "cpu":
        return
    backend = torch.backends.mps if dev.type == "mps" else getattr(torch, dev.type, None)
    if backend is None or not backend.is_available():
        raise UsageError(f"{_flag(name)} {v}: this machine has no {dev.type} device")
    count = getattr(backend, "device_count", None)
    if dev.index is not None and count is not None and dev.index >= count():
        raise UsageError(f"{_flag(name)} {v}: this machine has {count()} {dev.type} device(s), numbered from 0")


def _dtype(name, v):
    """A torch dtype name (bfloat16, float16, float32, ...) or auto (the backend's default)."""
    if v == "auto":
        return
    try:
        import torch
    except ImportError:
        return
    if not isinstance(v, str) or not isinstance(getattr(torch, v, None), torch.dtype):
        raise UsageError(f"{_flag(name)} must be a torch dtype such as bfloat16, float16 or float32, or auto "
                         f"(got {v!r})")


def _resume(name, v):
    _choice(*RESUME_MODES)(name, v)


def _variant(name, v):
    from .dataset import VARIANTS
    if v not in VARIANTS:
        raise UsageError(f"{_flag(name)} must be one of {', '.join(VARIANTS)} (got {v!r})")


CHECKS: Dict[str, Callable[[str, Any], None]] = {
    "n": _positive_int, "limit": _positive_int, "workers": _positive_int, "max_new_tokens": _positive_int,
    "batch_size": _positive_int, "samples_per_problem": _positive_int, "rounds": _positive_int,
    "concurrency": _positive_int, "replicas": _positive_int, "tensor_parallel_size": _positive_int,
    "max_model_len": _positive_int, "repeat": _positive_int,
    "temperature": _non_negative_number, "max_drop": _non_negative_number, "seed": _non_negative_number,
    "top_p": _unit_interval, "confidence": _unit_interval, "gpu_memory_utilization": _unit_interval,
    "run_cpu": _positive_number, "run_timeout": _positive_number, "compile_timeout": _positive_number,
    "time_limit": _positive_number,
    "ks": _ks, "languages": _languages, "pairs": _pairs, "preset": _preset, "chat": _chat,
    "dataset_variant": _variant, "samples": _existing_path, "data_dir": _existing_path,
    "baseline": _existing_path, "candidate": _existing_path, "run_dir": _existing_path,
    "resume": _resume, "device": _device, "dtype": _dtype,
}
# --model is a path for the local backends only; a served model has a name
MODEL_PATH_BACKENDS = ("transformers", "hf", "transformers-plain", "plain")


# ------------------------------------------------------------------ types from annotations
def _type_ok(value, hint) -> bool:
    if hint is Any or hint is inspect.Parameter.empty:
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:  # Fire turns 1,2 into a tuple and 12 into an int; a str parameter takes their text
        return isinstance(value, (str, int, float, tuple, list)) and not isinstance(value, bool)
    return True


def _type_name(hint) -> str:
    args = [h for h in typing.get_args(hint) if h is not type(None)] if typing.get_origin(hint) is typing.Union \
        else [hint]
    names = {bool: "true or false (or yes/no, 1/0)", int: "an integer", float: "a number", str: "a string"}
    return " or ".join(names.get(h, getattr(h, "__name__", str(h))) for h in args)


# ------------------------------------------------------------------ the command line
def _resolve(component, args: List[str]) -> Tuple[Optional[Callable], List[str], str]:
    """Walk sub-commands (``sandbox build``) to the method Fire will call."""
    path = []
    while args and not args[0].startswith("-"):
        name = args[0].replace("-", "_")
        attr = getattr(component, name, None) if not name.startswith("_") else None
        if attr is None:
            return None, args, " ".join(path)
        path.append(args[0])
        args = args[1:]
        if inspect.ismethod(attr) or inspect.isfunction(attr):
            return attr, args, " ".join(path)
        component = attr
    return None, args, " ".join(path)


def component_at(component, path: str):
    """The group (or CLI) that ``path`` (``sandbox``, or empty) names."""
    for part in path.split():
        component = getattr(component, part.replace("-", "_"))
    return component


def unknown_command(component, path: str, name: str) -> UsageError:
    group = component_at(component, path)
    commands = sorted(n.replace("_", "-") for n in dir(group) if not n.startswith("_"))
    where = f"{path} " if path else ""
    return UsageError(f"unknown command {name!r}; commands: {', '.join(where + c for c in commands)}")


# optional parameters that may also be given positionally (the command's summary names them so)
OPTIONAL_POSITIONALS = {"Data.download": ("target",)}


def positional_parameters(fn) -> List[str]:
    """What a command takes without a flag: its required parameters (and the few in OPTIONAL_POSITIONALS).

    Anything else given positionally is refused: Fire would silently fill the next optional parameter
    (``evaluate-samples s.jsonl extra`` once wrote its results into a folder named ``extra``)."""
    sig = inspect.signature(fn)
    extra = OPTIONAL_POSITIONALS.get(fn.__qualname__, ())
    return [n for n, p in sig.parameters.items()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and (p.default is p.empty or n in extra)]


def _is_bool(hint) -> bool:
    if typing.get_origin(hint) is typing.Union:
        return [h for h in typing.get_args(hint) if h is not type(None)] == [bool]
    return hint is bool


def _bool_word(value: str) -> str:
    word = BOOL_WORDS.get(value.strip().lower())
    return value if word is None else str(word)


def normalize_argv(component, argv: List[str]) -> List[str]:
    """The command line with every boolean flag's value spelled as Fire reads it (True/False).

    Fire takes only Python's ``True``/``False``; ``--progress false`` would reach the command as the
    (true) string 'false'. Flags are found exactly as Fire finds them (``--x=v``, ``--x v``, ``-x v``)."""
    from fire import core, inspectutils

    argv = list(argv)
    tail = argv[argv.index("--"):] if "--" in argv else []
    argv = argv[:len(argv) - len(tail)]
    fn, rest, _ = _resolve(component, argv)
    if fn is None:
        return argv + tail
    head = argv[:len(argv) - len(rest)]
    spec = inspectutils.GetFullArgSpec(fn)
    names = spec.args + spec.kwonlyargs
    hints = typing.get_type_hints(fn)
    out, skip = list(rest), False
    for i, arg in enumerate(rest):
        if skip or not core._IsFlag(arg):
            skip = False
            continue
        flag, eq, value = arg.partition("=")
        key = flag.lstrip("-").replace("-", "_")
        if key not in names and len(key) == 1:  # Fire's one-letter shortcut: the only parameter starting so
            matches = [n for n in names if n[0] == key]
            key = matches[0] if len(matches) == 1 else key
        takes_next = not eq and i + 1 < len(rest) and not core._IsFlag(rest[i + 1])
        skip = takes_next
        if key in names and _is_bool(hints.get(key)):
            if eq:
                out[i] = f"{flag}={_bool_word(value)}"
            elif takes_next:
                out[i + 1] = _bool_word(rest[i + 1])
    return head + out + tail


def validate(component, argv: List[str]) -> Optional[Dict[str, Any]]:
    """Check ``argv`` for the command it names; returns {parameter: value} or None (help, no command)."""
    from fire import core, inspectutils, parser

    argv = normalize_argv(component, argv)
    if "--" in argv:  # Fire's own flags (--help, --interactive, ...) follow a lone --
        argv = argv[:argv.index("--")]
    if any(a in ("-h", "--help") for a in argv):
        return None
    fn, rest, path = _resolve(component, argv)
    if fn is None:
        if rest and not rest[0].startswith("-"):
            raise unknown_command(component, path, rest[0])
        return None
    spec = inspectutils.GetFullArgSpec(fn)
    try:
        kwargs, unknown, positional = core._ParseKeywordArgs(rest, spec)
    except core.FireError as exc:
        raise UsageError(str(exc)) from None
    if unknown:
        flags = [a for a in unknown if a.startswith("-")]
        known = ", ".join(_flag(a) for a in spec.args + spec.kwonlyargs)
        raise UsageError(f"{path}: unknown flag {flags[0] if flags else unknown[0]}; "
                         + (f"its flags are {known}" if known else "it takes no flags"))
    hints = typing.get_type_hints(fn)
    values = {k: parser.DefaultParseValue(v) for k, v in kwargs.items()}
    takes = positional_parameters(fn)
    free = [a for a in takes if a not in values]
    for i, raw in enumerate(positional):
        if i < len(free):
            values[free[i]] = parser.DefaultParseValue(raw)
        elif not spec.varargs:
            what = (f"it takes {' '.join(a.upper() for a in takes)}" if takes else "it takes no arguments")
            raise UsageError(f"{path}: unexpected argument {raw!r}: {what}; give other values with their flags "
                             f"(see `humaneval-x {path} --help`)")
    defaults = dict(zip(spec.args[len(spec.args) - len(spec.defaults or ()):], spec.defaults or ()))
    defaults.update(spec.kwonlydefaults or {})
    missing = [a for a in spec.args if a not in values and a not in defaults]
    if missing:
        raise UsageError(f"{path}: missing {missing[0].upper()} (see `humaneval-x {path} --help`)")
    for name, value in values.items():  # a parameter with a check of its own: the check covers its type
        hint = hints.get(name, inspect.Parameter.empty)
        if name not in CHECKS and name != "model" and not _type_ok(value, hint):
            raise UsageError(f"{_flag(name)} must be {_type_name(hint)} (got {value!r})")
    for name, value in values.items():
        if name == "model":
            if values.get("backend", defaults.get("backend", "transformers")) in MODEL_PATH_BACKENDS:
                _model(name, value)
        elif name in CHECKS and not (value is None and defaults.get(name, ...) is None):
            CHECKS[name](name, value)
    return values

