"""Sandbox images: content-hashed tags, building, and the base image bootstrap.

An image's tag is a hash of its build context (the Dockerfile and files under
``sandboxes/<lang>/``, the runner package, and pinned artifacts), so an image is rebuilt
only when its recipe changes. Artifacts that need HTTPS (npm packages) are
fetched on the host, checked against their sha256, and copied into the context.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Optional

from ..errors import SandboxError
from ..paths import RUNNERS_DIR, SANDBOXES_DIR, user_cache_dir

BASE_IMAGE = "debian:bookworm-slim"
IMAGE_REPO = "humaneval-x"
RUNNER_ENTRY = "runner.py"     # runners/runner.py -> /opt/hx/runner.py
RUNNER_PACKAGE = "hxrunner"    # runners/hxrunner/ -> /opt/hx/hxrunner/ (COPY in every Dockerfile)


def runner_files() -> Dict[str, bytes]:
    """Name in the build context -> content of every file of the runner: its entry point and the whole
    package (sources only: no byte code a host-side import left behind)."""
    files = {RUNNER_ENTRY: (RUNNERS_DIR / RUNNER_ENTRY).read_bytes()}
    for p in sorted((RUNNERS_DIR / RUNNER_PACKAGE).rglob("*.py")):
        if "__pycache__" not in p.parts:
            files[p.relative_to(RUNNERS_DIR).as_posix()] = p.read_bytes()
    return files


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _artifacts(lang: str) -> list:
    spec = SANDBOXES_DIR / lang / "artifacts.json"
    return json.loads(spec.read_text()) if spec.exists() else []


def context_files(lang: str) -> Dict[str, bytes]:
    """Name -> content of the build context (artifacts by their pinned hash only)."""
    folder = SANDBOXES_DIR / lang
    if not (folder / "Dockerfile").exists():
        raise SandboxError(f"no sandbox recipe {folder}/Dockerfile")
    skip = {a["file"] for a in _artifacts(lang)}
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name not in skip}
    files.update(runner_files())
    return files


def image_tag(lang: str) -> str:
    h = hashlib.sha256()
    for name, content in sorted(context_files(lang).items()):
        h.update(name.encode() + b"\0" + _sha256(content).encode() + b"\0")
    for art in _artifacts(lang):
        h.update(art["file"].encode() + b"\0" + art["sha256"].encode() + b"\0")
    return f"{IMAGE_REPO}/{lang}:{h.hexdigest()[:16]}"


def fetch_artifact(lang: str, art: dict) -> Path:
    """The artifact file from the user cache (or the build context folder), fetched with `npm pack` when missing."""
    cache = user_cache_dir() / "artifacts"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / art["file"]
    local = SANDBOXES_DIR / lang / art["file"]
    if not path.exists() and local.exists():
        shutil.copy(local, path)
    if not path.exists():
        try:
            subprocess.run(["npm", "pack", art["npm"], "--pack-destination", str(cache)], check=True,
                           capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"cannot fetch {art['npm']} with npm pack: {exc}") from exc
    digest = _sha256(path.read_bytes())
    if digest != art["sha256"]:
        path.unlink()
        raise SandboxError(f"{art['file']}: sha256 {digest} does not match the pinned {art['sha256']}")
    return path


def _client(client=None):
    if client is not None:
        return client
    import docker
    try:
        c = docker.from_env()
        c.ping()
        return c
    except Exception as exc:
        raise SandboxError(f"cannot reach a Docker engine ({exc}). Start one (see README: setup).") from exc


def image_exists(client, tag: str) -> bool:
    import docker
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def image_missing(lang: str, client=None) -> Optional[str]:
    """None when ``lang``'s current image is built here, else one line saying so and how to build it."""
    tag = image_tag(lang)
    if image_exists(_client(client), tag):
        return None
    return (f"the {lang} sandbox image ({tag}) is not built on this machine: run "
            f"`humaneval-x sandbox build --languages {lang}`")


def ensure_base_image(client=None, log=print) -> None:
    """Pull the base image, or make it from Debian packages with debootstrap when no registry answers."""
    client = _client(client)
    if image_exists(client, BASE_IMAGE):
        return
    try:
        client.images.pull(BASE_IMAGE)
        return
    except Exception as exc:
        log(f"cannot pull {BASE_IMAGE} ({str(exc).splitlines()[0][:120]}); bootstrapping it from Debian packages")
    if shutil.which("debootstrap") is None:
        raise SandboxError("no registry answers and debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="hx-rootfs-") as root:
        cmd = (f"debootstrap --variant=minbase bookworm {root}/rootfs http://deb.debian.org/debian >/dev/null "
               f"&& tar -C {root}/rootfs -c . | docker import - {BASE_IMAGE} >/dev/null")
        proc = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"bootstrapping {BASE_IMAGE} failed: {proc.stderr[-2000:]}")


def build_image(lang: str, client=None, log=print, force: bool = False) -> str:
    client = _client(client)
    tag = image_tag(lang)
    if not force and image_exists(client, tag):
        return tag
    ensure_base_image(client, log)
    with tempfile.TemporaryDirectory(prefix=f"hx-ctx-{lang}-") as ctx:
        for name, content in context_files(lang).items():
            Path(ctx, name).parent.mkdir(parents=True, exist_ok=True)
            Path(ctx, name).write_bytes(content)
        for art in _artifacts(lang):
            shutil.copy(fetch_artifact(lang, art), Path(ctx, art["file"]))
        log(f"building {tag} ...")
        try:
            client.images.build(path=ctx, tag=tag, rm=True, forcerm=True, pull=False)
        except Exception as exc:
            logs = getattr(exc, "build_log", None) or []
            tail = "".join(str(x.get("stream", x.get("error", ""))) for x in list(logs)[-30:])
            raise SandboxError(f"building the {lang} sandbox image failed: {exc}\n{tail}") from exc
        client.images.get(tag).tag(f"{IMAGE_REPO}/{lang}", "latest")
    return tag


def image_status(client=None) -> Dict[str, dict]:
    from ..languages import LANGUAGES
    client = _client(client)
    out = {}
    for lang in LANGUAGES:
        tag = image_tag(lang)
        present = image_exists(client, tag)
        out[lang] = {"tag": tag, "present": present,
                     "id": client.images.get(tag).id if present else None}
    return out
