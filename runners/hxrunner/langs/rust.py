"""Rust batches: programs compiled together (one rustc, one link), each still run alone in its own
namespaces. Rust runs no code before `main` (no static constructors; the host batches only programs
whose text has no attribute that could place code elsewhere: `no_mangle`, `link_section`,
`global_allocator`, ...), so each program becomes a module NS_K of one crate whose `main` calls
module K's `main` for HX_PROG=K; each program runs in a fresh program sandbox with a copy of the
binary only. NS is drawn at random per batch: no member can name a neighbour's module. A member
that rustc's messages name (by the line of one of their spans) leaves the batch and compiles alone,
as does everything when a message names no member."""
import json
import os
import secrets
import shutil
import time

from .. import stages
from ..scratch import ensure_scratch_space

NAME = "rust"
OUTPUT_KEEP = 1 << 20  # bytes of a batch's compiler messages read (more: the members they name leave)
MAIN = "\nfn main() {\n"


def build_batch(runner, batch):
    """{member index: Outcome} for the members of ``batch`` (a ``protocol.Batch``) it settles (the others
    run alone)."""
    members = batch.members
    texts = {}
    for k, r in enumerate(members):
        (name, text), = r.files.items()
        at = (r.batch_info or {}).get("main")
        if name != "main.rs" or not isinstance(at, int) or text[at:at + len(MAIN)] != MAIN or not r.compile:
            continue
        texts[k] = text[:at + 1] + "pub(crate) " + text[at + 1:]
    if len(texts) < 2:
        return {}
    ns = "hxb" + secrets.token_hex(8)
    argv = batch_argv(members[min(texts)].compile)
    if argv is None:
        return {}
    ensure_scratch_space()
    root = stages.stage({})  # batch.rs is written by the runner (root) each round; rustc (the build uid) reads it
    try:
        return _build(runner, batch, members, root, texts, ns, argv)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def batch_argv(argv):
    """The member's rustc command line for the batch crate: JSON messages, batch.rs -> ./batch."""
    argv = list(argv)
    if not argv or argv[0] != "rustc" or argv[-1] != "main.rs" or "-o" not in argv:
        return None
    argv[-1] = "batch.rs"
    argv[argv.index("-o") + 1] = "batch"
    if "--crate-name" in argv:
        argv[argv.index("--crate-name") + 1] = "batch"
    if "--error-format" in argv:
        argv[argv.index("--error-format") + 1] = "json"
    else:
        argv[1:1] = ["--error-format", "json"]
    return argv


def crate_source(texts, ns):
    """(the batch crate's text, {member K: (first line, last line)}), lines counted from 1."""
    parts, lines, at = [], {}, 1
    for k, text in texts.items():
        body = "mod %s_%d {\n%s\n}\n" % (ns, k, text)
        n = body.count("\n")
        lines[k] = (at, at + n - 1)
        parts.append(body)
        at += n
    head = "fn main() {\n    match ::std::env::var(\"HX_PROG\").as_deref() {\n"
    at += head.count("\n")
    cases = []
    for k in texts:
        cases.append("        ::std::result::Result::Ok(\"%d\") => %s_%d::main(),\n" % (k, ns, k))
        lines[k] = lines[k] + (at,)
        at += 1
    tail = ("        _ => { ::std::eprintln!(\"hx: no such program in this batch\"); ::std::process::exit(125) }\n"
            "    }\n}\n")
    return "".join(parts) + head + "".join(cases) + tail, lines


def named(stderr, lines):
    """(members that rustc's error messages name, whether every error named one) from its JSON lines."""
    owner = dict(lines)
    gone, all_named = set(), True
    for raw in stderr.splitlines():
        raw = raw.strip()
        if not raw.startswith("{"):
            continue
        try:
            msg = json.loads(raw)
        except ValueError:
            all_named = False
            continue
        if not isinstance(msg, dict) or msg.get("level") not in ("error", "error: internal compiler error"):
            continue
        spans = _spans(msg)
        if not spans and str(msg.get("message", "")).startswith("aborting due to"):
            continue
        found = {k for line in spans for k, span in owner.items()
                 if span[0] <= line <= span[1] or (len(span) > 2 and line == span[2])}
        if found:
            gone |= found
        else:
            all_named = False
    return gone, all_named


def _spans(msg):
    out = []
    for span in msg.get("spans") or []:
        if isinstance(span, dict) and span.get("file_name") == "batch.rs" and isinstance(span.get("line_start"), int):
            out.append(span["line_start"])
    for child in msg.get("children") or []:
        if isinstance(child, dict):
            out += _spans(child)
    return out


def _build(runner, batch, members, root, texts, ns, argv):
    start = time.monotonic()
    # the batch's shared build has one program's compile limit in all: past it, every member not yet
    # settled compiles alone (Runner.execute_batch), within its own limits
    deadline = start + float(batch.compile_timeout)
    for _ in range(3):
        if len(texts) < 2 or time.monotonic() >= deadline:
            return {}
        source, lines = crate_source(texts, ns)
        path = os.path.join(root, "batch.rs")
        if os.path.lexists(path):
            os.unlink(path)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "w",
                       encoding="utf-8") as f:
            f.write(source)
        build = stages.build_stage(argv, root, deadline - time.monotonic(), 4096, keep=OUTPUT_KEEP)
        if build.get("error") or build["timed_out"]:
            return {}
        if build["returncode"] == 0:
            break
        text = build["_stderr_bytes"].decode("utf-8", "replace")
        gone, all_named = named(text, lines)
        gone &= set(texts)
        if not gone or (not all_named and build["_stderr_size"] <= len(build["_stderr_bytes"])):
            return {}  # a message that names no member: no verdict from a shared build, all alone
        for k in gone:
            del texts[k]
    else:
        return {}
    compiled = stages.batch_compile(start, len(members))
    results = {}
    for k in texts:
        results[k] = runner.run_and_judge(members[k], root, ["batch"], ["./batch"], compiled, env={"HX_PROG": str(k)})
    return results
