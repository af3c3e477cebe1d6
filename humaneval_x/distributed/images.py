"""How a node gets the sandbox images: the driver's own, byte for byte.

Every node must run the same image as the driver (its Docker image id, a content digest, not
only its tag): a verdict is a verdict of that image, and the results cache is keyed by it.
An image rebuilt elsewhere from the same recipe is not the same image (apt fetches the
packages of its day), so nodes are not trusted to build their own: a node that lacks the
image, or holds another build under the same tag, gets the driver's as a ``docker save``
archive put once into Ray's object store (in parts, so no single object is huge) and
``docker load``-ed there. A node that already holds the image with the same id (baked
into the node image, pulled from your registry, or loaded by an earlier run) transfers
nothing.
"""
from __future__ import annotations

from typing import Dict, Iterable, Iterator, List

PART_BYTES = 256 * 2 ** 20


def image_ids(languages: Iterable[str], client) -> Dict[str, dict]:
    """{lang: {"tag", "id"}} of this machine's current (content-hashed) images; None id where missing."""
    from ..sandbox.images import image_exists, image_tag
    out = {}
    for lang in languages:
        tag = image_tag(lang)
        out[lang] = {"tag": tag, "id": client.images.get(tag).id if image_exists(client, tag) else None}
    return out


def archive_parts(client, tag: str, part_bytes: int = PART_BYTES) -> Iterator[bytes]:
    """The ``docker save`` archive of ``tag`` in parts of about ``part_bytes``."""
    buf = bytearray()
    for chunk in client.api.get_image(tag, chunk_size=4 * 2 ** 20):
        buf += chunk
        if len(buf) >= part_bytes:
            yield bytes(buf)
            buf = bytearray()
    if buf:
        yield bytes(buf)


def put_archive(client, tag: str) -> List:
    """The archive of ``tag`` as a list of Ray object refs (what a node loads)."""
    import ray
    return [ray.put(part) for part in archive_parts(client, tag)]


def load_archive(client, parts: List) -> None:
    """``docker load`` the archive whose parts are ``parts`` (object refs, fetched one at a time)."""
    import ray

    def stream():
        for ref in parts:
            yield ray.get(ref)

    for message in client.api.load_image(stream(), quiet=True):  # the engine's progress messages
        if isinstance(message, dict) and message.get("error"):
            from ..errors import SandboxError
            raise SandboxError(f"docker load failed: {message['error']}")


def held(client, tag: str, image_id: str) -> bool:
    """Whether this node holds ``tag`` as exactly ``image_id``."""
    import docker
    try:
        return client.images.get(tag).id == image_id
    except docker.errors.ImageNotFound:
        return False
