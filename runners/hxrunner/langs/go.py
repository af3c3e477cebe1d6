"""Go batches: programs compiled together (one `go vet`, one link), each still run alone in its own
namespaces. Each program becomes package NS/hxpK of one GOPATH tree; `go vet` (the checks `go test`
runs) goes over all of them, one test binary links every clean package, and each program runs in a
fresh program sandbox selected by HX_PROG, with a copy of the binary only (no sources). NS is drawn
at random per batch: no member can name (import) a neighbour's package."""
import os
import re
import secrets
import shutil
import time

from .. import stages
from ..policy import BUILD_UID
from ..scratch import ensure_scratch_space

NAME = "go"
VET_FLAGS = ["-atomic", "-bool", "-buildtags", "-errorsas", "-ifaceassert", "-nilfunc", "-printf",
             "-stringintconv"]  # exactly the checks `go test` runs before testing
OUTPUT_KEEP = 1 << 20  # bytes of a batch's compiler or vet messages read (the rest: see _build)
SECTION_KEEP = 4096  # characters of one package's messages kept


def build_batch(runner, batch):
    """{member index: Outcome} for the members of ``batch`` (a ``protocol.Batch``) it settles (the others
    run alone)."""
    members = batch.members
    ns = "hxb" + secrets.token_hex(8)
    files = {}
    tests = {}
    for k, r in enumerate(members):
        (name, text), = r.files.items()
        test = (r.batch_info or {}).get("test")
        if not text.startswith("package main\n") or not test:
            continue
        files["src/%s/hxp%d/p.go" % (ns, k)] = "package hxp%d\n" % k + text[len("package main\n"):]
        tests[k] = test
    if not tests:
        return {}
    ensure_scratch_space()
    root = stages.stage(files)
    try:
        return _build(runner, batch, members, root, tests, ns)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _build(runner, batch, members, root, tests, ns):
    src = os.path.join(root, "src", ns)
    env = {"GOPATH": root + ":" + os.environ.get("GOPATH", "")}
    results = {}
    start = time.monotonic()
    # The batch's shared build (vet, link, symbol check, reading their messages) has one program's
    # compile limit in all, whatever its members make the tools print: past it, every member not
    # yet settled compiles alone (Runner.execute_batch), within its own limits.
    deadline = start + float(batch.compile_timeout)

    def left():
        return deadline - time.monotonic()

    def named(stage):
        """Members the stage's messages name (read in linear time, at most OUTPUT_KEEP bytes of
        them), and whether that was all they said. Those messages quote program text (a raw string
        can hold go's own "# NS/hxpK" headers, had it the random NS), so they are never a neighbour's
        verdict: a member they name leaves the batch, and only its own compile alone gives its
        compile_error; one whose messages flood (go vet quotes arguments verbatim) leaves with them."""
        text = stage["_stderr_bytes"].decode("utf-8", "replace")
        return set(sections(text, ns)) & set(tests), stage["_stderr_size"] <= len(stage["_stderr_bytes"])

    while True:  # vet until its messages were read whole: each round, what they named leaves
        if left() <= 0:
            return {}
        vet = stages.build_stage(["go", "vet"] + VET_FLAGS + ["%s/hxp%d" % (ns, k) for k in tests], src, left(),
                                 4096, env=env, keep=OUTPUT_KEEP)
        if vet.get("error") or vet["timed_out"]:
            return {}
        gone, whole = named(vet)
        if (vet["returncode"] != 0 or not whole) and not gone:
            return {}
        for k in gone:
            del tests[k]
        if whole or not tests:
            break
    driver = os.path.join(src, "driver")
    os.makedirs(driver, exist_ok=True)
    os.chown(driver, BUILD_UID, BUILD_UID)
    for _ in range(3):
        if not tests or left() <= 0:
            return results
        with open(os.path.join(driver, "d_test.go"), "w") as f:
            f.write(driver_source(tests, ns))
        # -w: no DWARF (a faster link); the symbol table stays for the init check below
        build = stages.build_stage(["go", "test", "-c", "-vet=off", "-ldflags=-w", "-o", "../../../batch.test", "."],
                                   driver, left(), 4096, env=env, keep=OUTPUT_KEEP)
        if build.get("error") or build["timed_out"]:
            return results
        if build["returncode"] == 0:
            # In a shared binary every member's package initialises in every member's run: a member
            # with init code (whatever the host's text check made of it) leaves the batch.
            with_init = _members_with_init(root, driver, left(), env, ns)
            if with_init is None:
                return results
            with_init &= set(tests)
            if not with_init:
                break
            for k in with_init:
                del tests[k]
            continue
        gone, _ = named(build)
        if not gone:
            return results
        for k in gone:
            del tests[k]
    else:
        return results
    if left() <= 0:
        return results
    compiled = stages.batch_compile(start, len(members))
    for k in tests:
        results[k] = runner.run_and_judge(members[k], root, ["batch.test"],
                                          ["./batch.test", "-test.count=1", "-test.run=^TestHx%d$" % k], compiled,
                                          env={"HX_PROG": str(k)})
    return results


def _members_with_init(root, driver, timeout, env, ns):
    """{K: member NS/hxpK has package initialisation code} from the linked binary's symbols, or None."""
    if timeout <= 0:
        return None
    nm = stages.build_stage(["go", "tool", "nm", os.path.join(root, "batch.test")], driver, timeout, 1 << 16, env=env)
    if nm.get("error") or nm["timed_out"] or nm["returncode"] != 0:
        return None
    return init_members(nm["_stdout_bytes"].decode("ascii", "replace"), ns)


def init_members(nm_output, ns):
    """{K: `go tool nm` lists an init function of package NS/hxpK} (pure)."""
    init = re.compile(r"^\s*[0-9a-f]+ T %s/hxp([0-9]+)\.init(?:\.[0-9]+)?$" % re.escape(ns), re.M)
    return {int(k) for k in init.findall(nm_output)}


def sections(text, ns, keep=SECTION_KEEP):
    """{package index K: its messages, at most ``keep`` characters} from go's `# NS/hxpK` headed output.
    Linear in the text's length, whatever it holds (go vet quotes arguments verbatim: a raw string of
    many lines is as many lines of messages)."""
    section = re.compile(re.escape(ns) + r"/hxp([0-9]{1,6})")  # ASCII digits only ("²".isdigit() is true)
    parts, current = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("# "):
            m = section.fullmatch(line[2:].strip())
            current = int(m.group(1)) if m else None
            if current is not None:
                parts.setdefault(current, [[], 0])
            continue
        if current is not None:
            part = parts[current]
            if part[1] < keep:
                part[0].append(line[:keep - part[1]])
                part[1] += len(part[0][-1])
    return {k: "".join(lines) for k, (lines, _) in parts.items()}


def driver_source(tests, ns):
    """The test main of a Go batch: HX_PROG=K runs program K's own TestMain and only its test."""
    imports = "".join('    "%s/hxp%d"\n' % (ns, k) for k in tests)
    cases = "".join('    case "%d":\n        hxp%d.TestMain(m)\n' % (k, k) for k in tests)
    wrappers = "".join("func TestHx%d(t *testing.T) { hxp%d.%s(t) }\n" % (k, k, name) for k, name in tests.items())
    return ("package main\n\nimport (\n    \"os\"\n    \"testing\"\n" + imports + ")\n\n"
            "func TestMain(m *testing.M) {\n    switch os.Getenv(\"HX_PROG\") {\n" + cases + "    }\n"
            "    os.Stderr.WriteString(\"hx: no such program in this batch\\n\")\n    os.Exit(125)\n}\n\n" + wrappers)
