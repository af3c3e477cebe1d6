"""Shared by the time-limit and mix benchmarks: which sandbox images to use.

While another change to the runner is in progress the current recipe's images may not be built
yet; ``present_factory`` then uses, per language, the newest humaneval-x/<lang> image that is
present (and says so), so that a benchmark measures a consistent set of images.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def present_tags(client=None):
    import docker

    from humaneval_x.languages import LANGUAGES
    from humaneval_x.sandbox.images import image_tag
    client = client or docker.from_env()
    tags = {}
    for lang in LANGUAGES:
        want = image_tag(lang)
        try:
            client.images.get(want)
            tags[lang] = want
            continue
        except docker.errors.ImageNotFound:
            pass
        imgs = [i for i in client.images.list(name=f"humaneval-x/{lang}")
                if any(t.split(":")[1] != "latest" for t in i.tags)]
        if not imgs:
            raise SystemExit(f"no humaneval-x/{lang} image present: run `humaneval-x sandbox build`")
        newest = max(imgs, key=lambda i: i.attrs["Created"])
        tags[lang] = next(t for t in newest.tags if not t.endswith(":latest"))
        print(f"note: {want} is not built; using the newest present {tags[lang]}", file=sys.stderr)
    return tags


def present_factory():
    from humaneval_x.sandbox.base import SandboxLimits
    from humaneval_x.sandbox.docker_sandbox import DockerSandbox
    tags = present_tags()
    return (lambda lang: DockerSandbox(lang, tags[lang], SandboxLimits())), tags
