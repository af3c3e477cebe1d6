"""The host's view of the host-runner contract: the runner's own ``protocol.py``, loaded from the
runner package (``runners/hxrunner/protocol.py``, the file every sandbox image ships), so host and
runner read one definition of statuses, the isolation scheme, output caps, default limits, the
request, batch and outcome types and ``harness_error``. A sandbox whose runner speaks another protocol
version or isolation scheme is refused at its handshake (``check_handshake``)."""
from __future__ import annotations

import importlib.util
import sys

from .errors import SandboxError
from .paths import RUNNERS_DIR

_NAME = "humaneval_x._runner_protocol"


def _load():
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, RUNNERS_DIR / "hxrunner" / "protocol.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


_p = _load()
PROTOCOL_VERSION = _p.PROTOCOL_VERSION
ISOLATION = _p.ISOLATION
STATUSES = _p.STATUSES
MODEL_STATUSES = _p.MODEL_STATUSES
STAGES = _p.STAGES
OUTPUT_CAP = _p.OUTPUT_CAP
DEFAULT_COMPILE_TIMEOUT = _p.DEFAULT_COMPILE_TIMEOUT
DEFAULT_RUN_TIMEOUT = _p.DEFAULT_RUN_TIMEOUT
DEFAULT_RUN_CPU = _p.DEFAULT_RUN_CPU
HOST_MARGIN_S = _p.HOST_MARGIN_S
Request = _p.Request
Batch = _p.Batch
Stage = _p.Stage
Outcome = _p.Outcome
harness_error = _p.harness_error
harness_error_for = _p.harness_error_for
host_timeout = _p.host_timeout


def check_handshake(image: str, hello: dict) -> None:
    """Refuse a runner that speaks another protocol or isolation scheme than this harness (one line)."""
    got = (hello.get("protocol"), hello.get("isolation"))
    if got != (PROTOCOL_VERSION, ISOLATION):
        raise SandboxError(
            f"sandbox image {image} runs runner protocol {got[0]} (isolation {got[1]}), this harness speaks "
            f"protocol {PROTOCOL_VERSION} (isolation {ISOLATION}): rebuild it with `humaneval-x sandbox build`")
