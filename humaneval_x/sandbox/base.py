"""The sandbox interface: a lifecycle (start, execute many, stop) shared by all implementations.

A request/result pair is the runner protocol (see ``runners/hxrunner/``). Every
implementation must pass ``tests/test_sandbox_contract.py``.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

from ..protocol import MODEL_STATUSES, STATUSES  # noqa: F401 - re-exported: the statuses' one home is the protocol


class SandboxDied(Exception):
    """The sandbox (container or runner) went away while a request was in flight."""


class SandboxCondemned(SandboxDied):
    """The sandbox answered something it could not have answered honestly (a reply that does not
    verify, or a failed health check): nothing it says from now on is trusted."""


@dataclass(frozen=True)
class SandboxLimits:
    memory: str = "2g"        # memory (and memory+swap) of one worker container
    pids: int = 1024          # processes and threads of one worker container (one program: 256)
    tmpfs: str = "1g"         # size of the writable /tmp of one worker container (one program: 256m of its own)
    cpus: float = 1.0         # CPU quota of one worker container: a program that forks spinners slows only its own


class Sandbox(abc.ABC):
    language: str

    @abc.abstractmethod
    def start(self) -> None:
        """Start the sandbox; returns once it accepts requests."""

    @abc.abstractmethod
    def execute(self, request: dict, timeout: float) -> dict:
        """Run one program; raises SandboxDied if the sandbox is gone or silent past ``timeout``."""

    def check(self, timeout: float) -> None:
        """A checkpoint: raises SandboxDied (or SandboxCondemned) unless the sandbox is still trustworthy."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Release everything; safe to call twice."""

    @property
    def identity(self) -> str:
        """What ran the programs (image id), recorded in summaries."""
        return type(self).__name__

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
