"""Which executor runs a command's programs: this machine's sandboxes (``execute.Executor``) or a Ray
cluster's (``distributed.ray_executor.RayExecutor``, the same ``run`` contract). Above both, so that the
execution stage never names its Ray subclass."""
from __future__ import annotations

from typing import Optional

from .distributed.ray_executor import RayExecutor  # imports Ray's package only when a cluster is used
from .execute import Executor
from .limits import Timeouts


def make_executor(sandbox_factory=None, workers: Optional[int] = None, timeouts: Timeouts = Timeouts(), cache=None,
                  ray: Optional[str] = None, log=print, **options) -> Executor:
    """The local ``Executor``, or with ``ray`` (auto or a cluster address) the ``RayExecutor``; ``options``
    (limits, naive, repeat) go to both."""
    if ray:
        return RayExecutor(ray, workers, timeouts, cache=cache, sandbox_factory=sandbox_factory, log=log, **options)
    return Executor(sandbox_factory, workers, timeouts, cache=cache, **options)
