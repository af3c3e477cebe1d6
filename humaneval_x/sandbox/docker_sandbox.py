"""A long-lived Docker worker container running the in-container runner.

The container idles (``sleep infinity`` under tini); the runner is started in it
with ``docker exec`` and fed JSON requests through the exec's attached stdin. The
container has no network, memory and pid limits, a read-only root with a tmpfs
``/tmp``, a non-root user and no capabilities.
"""
from __future__ import annotations

import json
import socket
import struct
import time
import uuid

from ..errors import SandboxError
from .base import Sandbox, SandboxDied, SandboxLimits

RUNNER_CMD = ["python3", "-u", "/opt/hx/runner.py"]
LABEL = "org.humaneval-x.worker"


class DockerSandbox(Sandbox):
    def __init__(self, language: str, image: str, limits: SandboxLimits = SandboxLimits(), client=None,
                 start_timeout: float = 180.0):
        self.language = language
        self.image = image
        self.limits = limits
        self._client = client
        self.start_timeout = start_timeout
        self.container = None
        self._sock = None
        self._buf = b""
        self.stderr_tail = b""

    @property
    def client(self):
        if self._client is None:
            import docker
            self._client = docker.from_env(timeout=300)
        return self._client

    @property
    def identity(self) -> str:
        return self.client.images.get(self.image).id

    def start(self) -> None:
        import docker
        kwargs = dict(
            detach=True, init=True, network_mode="none", read_only=True,
            tmpfs={"/tmp": f"rw,exec,nosuid,nodev,size={self.limits.tmpfs},mode=1777"},
            mem_limit=self.limits.memory, memswap_limit=self.limits.memory, pids_limit=self.limits.pids,
            cap_drop=["ALL"], security_opt=["no-new-privileges"], user="10001:10001",
            labels={LABEL: self.language}, name=f"hx-{self.language}-{uuid.uuid4().hex[:10]}")
        if self.limits.cpus:
            kwargs["nano_cpus"] = int(self.limits.cpus * 1e9)
        try:
            self.container = self.client.containers.run(self.image, **kwargs)
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(f"sandbox image {self.image} is missing: run `humaneval-x sandbox build`") from exc
        except docker.errors.DockerException as exc:
            raise SandboxError(f"cannot start a {self.language} sandbox: {exc}") from exc
        self._open_runner()

    def _open_runner(self) -> None:
        api = self.client.api
        exec_id = api.exec_create(self.container.id, RUNNER_CMD, stdin=True, stdout=True, stderr=True)["Id"]
        raw = api.exec_start(exec_id, socket=True)
        self._sock = getattr(raw, "_sock", raw)
        self._buf = b""
        hello = self._read_message(self.start_timeout)
        if not hello.get("ready"):
            raise SandboxDied(f"runner did not say ready: {hello}")

    def execute(self, request: dict, timeout: float) -> dict:
        if self._sock is None:
            raise SandboxDied("sandbox not started")
        try:
            self._sock.sendall((json.dumps(request) + "\n").encode())
        except OSError as exc:
            raise SandboxDied(f"cannot send to the runner: {exc}") from exc
        return self._read_message(timeout)

    # -- the exec stream: 8-byte frame headers (stream id, size), stdout=1, stderr=2
    def _recv_exact(self, n: int, deadline: float) -> bytes:
        data = b""
        while len(data) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxDied("the runner did not answer in time")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(n - len(data))
            except socket.timeout:
                raise SandboxDied("the runner did not answer in time") from None
            except OSError as exc:
                raise SandboxDied(f"lost the runner: {exc}") from exc
            if not chunk:
                raise SandboxDied("the runner exited" + self._stderr_note())
            data += chunk
        return data

    def _stderr_note(self) -> str:
        tail = self.stderr_tail.decode("utf-8", "replace").strip()
        return f" (stderr: {tail[-500:]})" if tail else ""

    def _read_message(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            stream, size = struct.unpack(">BxxxL", self._recv_exact(8, deadline))
            payload = self._recv_exact(size, deadline)
            if stream == 1:
                self._buf += payload
            else:
                self.stderr_tail = (self.stderr_tail + payload)[-4000:]
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError as exc:
            raise SandboxDied(f"runner sent garbage: {line[:200]!r}") from exc

    def stop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        if self.container is not None:
            try:
                self.container.remove(force=True)
            except Exception:
                pass
            self.container = None


def remove_stale_workers(client=None) -> int:
    """Remove worker containers left behind by a killed run."""
    import docker
    client = client or docker.from_env()
    n = 0
    for c in client.containers.list(all=True, filters={"label": LABEL}):
        try:
            c.remove(force=True)
            n += 1
        except docker.errors.DockerException:
            pass
    return n
