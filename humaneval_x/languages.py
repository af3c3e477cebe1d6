"""One description per language; every stage of the pipeline looks things up here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

from . import assembly, cleaning, rust
from .errors import HarnessError


class UnknownLanguage(HarnessError, ValueError):
    pass


@dataclass(frozen=True)
class Language:
    name: str                       # canonical key: python, cpp, java, js, go, rust
    display: str                    # name used in prompts and tables (the paper's)
    task_prefix: str                # task_id prefix in the data: Python, CPP, Java, JavaScript, Go
    data_file: str                  # humaneval_<name>.jsonl.gz
    extra_keys: Tuple[str, ...]     # record fields beyond the common ones
    tag_line: str                   # optional first prompt line of the original harness
    source_file: str                # file the assembled program is written to
    compile: Optional[Tuple[str, ...]]  # compile command (None: interpreted)
    run: Tuple[str, ...]            # run command
    assemble: Callable              # (problem, head, completion) -> program text
    stop: Callable                  # completion -> cut index or None (checked while generating)
    clean: Callable                 # raw completion -> cleaned completion
    failure_markers: Tuple[str, ...]  # output that means "a test assertion failed"
    crash_markers: Tuple[str, ...] = ()  # output that means "crashed" even if a marker above appears
    compile_timeout: float = 60.0   # wall seconds for compilation
    run_cpu: float = 10.0           # CPU seconds for the run (the verdict limit; load-independent)
    run_timeout: float = 30.0       # wall seconds for the run (catches sleeping/blocked programs)
    aliases: Tuple[str, ...] = ()
    fast_compile: Optional[Tuple[str, ...]] = None  # cheaper compile with the same meaning (e.g. a PCH)
    fast_run_flags: Tuple[str, ...] = ()  # interpreter flags for a cheaper start of the same run (fast path only)
    fork_run: bool = False          # run in a fork of the sandbox's preloaded interpreter (Python)
    compile_server: Optional[Tuple[str, ...]] = None  # long-lived compiler replacing `compile` (Java)
    batch_kind: Optional[str] = None  # the runner compiles batches of programs together (one link)
    batch_info: Optional[Callable] = None  # program -> what the batch build needs, or None: compile alone
    batch_size: int = 16
    whole: Optional[Callable] = None  # (problem, sample, forced) -> (head, code) when the sample is the whole function
    compile_error_line: str = r"error"  # regex: the compiler's first line that names an error (compile_error detail)
    prompt_of: Optional[Callable] = None  # record -> the generation prompt, when it is not the record's `prompt` (Rust)
    paper: bool = True              # one of the paper's languages: runs when no language is named (see below)
    # self-check's deliberately wrong completions of problem 0: (name, completion, the status it must get)
    wrong_programs: Tuple[Tuple[str, str, str], ...] = ()
    # literal strings a generation server may stop at (at most 4, OpenAI's limit): only where the clean-up or
    # the stop rule cuts anyway, so a stop there saves tokens and never changes a result
    server_stops: Tuple[str, ...] = ()
    # vLLM's stop strings: where a function usually ends; kept in the output, then the stop rule decides (a
    # sequence whose rule has not fired is continued from its tokens), so they never change a sample either
    vllm_stops: Tuple[str, ...] = ()
    # the judge service's plain programs (`POST /v1/run`: no test harness): (source file, compile argv or
    # None, run argv), built as the harness builds samples, in the same image
    plain_program: Optional[Tuple[str, Optional[Tuple[str, ...]], Tuple[str, ...]]] = None


LANGUAGES: Dict[str, Language] = {lang.name: lang for lang in (
    Language(
        name="python", display="Python", task_prefix="Python", data_file="humaneval_python.jsonl.gz",
        extra_keys=(), tag_line="# language: Python", source_file="main.py",
        compile=None, run=("python3", "main.py"),
        assemble=assembly.assemble_python, stop=cleaning.python_stop, clean=cleaning.python_clean,
        whole=assembly.whole_python,
        failure_markers=("AssertionError",), aliases=("py", "python3"), fork_run=True,
        plain_program=("main.py", None, ("python3", "main.py")),
        # the stop rule cuts at the first line that starts unindented (so at or before any "\n" + non-space)
        server_stops=("\ndef ", "\nclass ", "\nif __name__", "\nprint("),
        vllm_stops=("\ndef ", "\nclass ", "\nif ", "\nprint(", "\n#", "\nassert ", "\nimport ", "\nfrom "),
        wrong_programs=(
            ("wrong-answer", "    return False\n", "failed"),
            ("early-exit", "    import sys\n    sys.exit(0)\n", "failed"),
            ("crash", "    raise ValueError('boom')\n", "runtime_error"),
            ("syntax-error", "    return (\n", "runtime_error"),
            ("endless-loop", "    while True:\n        pass\n", "timeout"),
        )),
    Language(
        name="cpp", display="C++", task_prefix="CPP", data_file="humaneval_cpp.jsonl.gz",
        extra_keys=(), tag_line="// language: C++", source_file="main.cpp",
        compile=("g++", "-std=c++11", "-o", "main", "main.cpp", "-lcrypto"), run=("./main",),
        assemble=assembly.assemble_cpp, stop=cleaning.cpp_stop, clean=cleaning.cpp_clean,
        whole=assembly.whole_cpp, compile_error_line=r": (?:fatal )?error: ",
        failure_markers=("Assertion `",), aliases=("c++", "cxx"),
        plain_program=("main.cpp", ("g++", "-std=c++17", "-O2", "-pipe", "-o", "main", "main.cpp", "-lcrypto"), ("./main",)),
        # no server stop: where a function ends is a matter of brace depth, which no literal string can tell
        vllm_stops=("\n}",),
        wrong_programs=(
            ("wrong-answer", "    return false;\n}\n", "failed"),
            ("early-exit", "    exit(0);\n}\n", "failed"),
            ("crash", "    throw 1;\n}\n", "runtime_error"),
            ("syntax-error", "    return (;\n}\n", "compile_error"),
            ("endless-loop", "    while (true) {}\n}\n", "timeout"),
        ),
        # the PCH of the includes the harness adds; gold links 3x faster than bfd ld; -pipe: no temp files
        fast_compile=("g++", "-std=c++11", "-pipe", "-include", "/opt/hx/pch/hx.h", "-fuse-ld=gold",
                      "-o", "main", "main.cpp", "-lcrypto")),
    Language(
        name="java", display="Java", task_prefix="Java", data_file="humaneval_java.jsonl.gz",
        extra_keys=("text",), tag_line="// language: Java", source_file="Main.java",
        compile=("javac", "-J-Xshare:auto", "-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1",
                 "-encoding", "UTF-8", "Main.java"),
        run=("java", "-Xshare:auto", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss64m", "-cp", ".",
             assembly.JAVA_ENTRY_CLASS),
        assemble=assembly.assemble_java, stop=cleaning.java_stop, clean=cleaning.java_clean,
        whole=assembly.whole_java, compile_error_line=r"\.java:\d+: error: |error: ",
        failure_markers=("java.lang.AssertionError",), run_cpu=20.0, run_timeout=40.0,
        server_stops=("public static void main(", "class Main {"),  # the clean-up cuts there
        plain_program=("Main.java", ("javac", "-J-Xshare:auto", "-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1",
                                     "-encoding", "UTF-8", "Main.java"),
                       ("java", "-Xshare:auto", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss64m", "-cp", ".",
                        "Main")),
        vllm_stops=("\n}", "public static void main(", "class Main {"),
        wrong_programs=(
            ("wrong-answer", "        return false;\n    }\n}\n", "failed"),
            ("early-exit", "        System.exit(0);\n        return true;\n    }\n}\n", "failed"),
            ("crash", "        throw new IllegalStateException(\"boom\");\n    }\n}\n", "runtime_error"),
            ("syntax-error", "        return (;\n    }\n}\n", "compile_error"),
            ("endless-loop", "        while (true) {}\n    }\n}\n", "timeout"),
        ),
        # the image's class-data archive (Dockerfile); no hsperfdata file (jstat's counters): 2-3 ms a start
        fast_run_flags=("-XX:SharedArchiveFile=/opt/hx/hx-run.jsa", "-XX:-UsePerfData"),
        # C1 only: the JIT work of C2 never paid for itself over a worker's compiles (one core, 835 canonical
        # compiles: 25.4 s with C1 alone, 48.2 s with C2; both about 28 ms a compile from the 700th on)
        compile_server=("java", "-Xshare:auto", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m",
                        "-cp", "/opt/hx/javac", "HxJavac")),
    Language(
        name="js", display="JavaScript", task_prefix="JavaScript", data_file="humaneval_js.jsonl.gz",
        extra_keys=(), tag_line="// language: JavaScript", source_file="main.js",
        compile=None, run=("node", "main.js"),
        assemble=assembly.assemble_js, stop=cleaning.js_stop, clean=cleaning.js_clean,
        whole=assembly.whole_js,
        failure_markers=("HX_ASSERTION_FAILED",), aliases=("javascript", "node"),
        vllm_stops=("\n}",),  # no server stop, as C++
        plain_program=("main.js", None, ("node", "main.js")),
        wrong_programs=(
            ("wrong-answer", "  return false\n}\n", "failed"),
            ("early-exit", "  process.exit(0)\n}\n", "failed"),
            ("crash", "  throw new Error('boom')\n}\n", "runtime_error"),
            ("syntax-error", "  return (;\n}\n", "runtime_error"),
            ("endless-loop", "  while (true) {}\n}\n", "timeout"),
            ("prints-but-correct", "  console.log('debug'); console.error('noise')\n"
                                   "  for (let i = 0; i < numbers.length; i++)\n"
                                   "    for (let j = i + 1; j < numbers.length; j++)\n"
                                   "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true\n"
                                   "  return false\n}\n", "passed"),
        ),
        # Node's bootstrap from a startup snapshot (sandboxes/js/hx_snapshot.js): still one process per program
        fast_run_flags=("--snapshot-blob", "/opt/hx/node.blob")),
    Language(
        name="go", display="Go", task_prefix="Go", data_file="humaneval_go.jsonl.gz",
        extra_keys=("import", "docstring", "test_setup"), tag_line="// language: Go",
        source_file="main_test.go",
        compile=("go", "test", "-c", "-o", "main.test", "."), run=("./main.test", "-test.count=1"),
        assemble=assembly.assemble_go, stop=cleaning.go_stop, clean=cleaning.go_clean,
        whole=assembly.whole_go, compile_error_line=r"\.go:\d+(?::\d+)?: ",
        failure_markers=("--- FAIL",), crash_markers=("panic:",), aliases=("golang",),
        server_stops=("\nfunc main(",),  # the clean-up cuts there
        plain_program=("main.go", ("go", "build", "-o", "main", "main.go"), ("./main",)),
        vllm_stops=("\n}", "\nfunc main("),
        wrong_programs=(
            ("wrong-answer", "    return false\n}\n", "failed"),
            ("early-exit", "    os.Exit(0)\n    return true\n}\n", "failed"),
            ("crash", "    panic(\"boom\")\n}\n", "runtime_error"),
            ("syntax-error", "    return (\n}\n", "compile_error"),
            ("endless-loop", "    for {\n    }\n}\n", "timeout"),
        ),
        fast_compile=("go", "test", "-c", "-ldflags=-s -w", "-o", "main.test", "."),  # no DWARF: faster link
        # 32 a batch: the test binary's link (~0.28 s) and go vet's start are paid once per batch
        # (canonical solutions, one worker: 68 ms a program at 16, 53 ms at 32, 47 ms at 48)
        batch_kind="go", batch_info=assembly.go_batch_info, batch_size=32),
    Language(
        name="rust", display="Rust", task_prefix="Rust", data_file="humaneval_rust.jsonl.gz",
        extra_keys=(), tag_line="// language: Rust", source_file="main.rs",
        compile=rust.COMPILE,  # one plain rustc per program, the crates prebuilt in the image (humaneval_x/rust.py)
        run=("./main",),
        assemble=rust.assemble, stop=rust.stop, clean=rust.clean, whole=rust.whole,
        compile_error_line=r"(?:^|: )error(?:\[E\d{4}\])?: ",
        failure_markers=(rust.FAILURE_MARKER,), aliases=("rs",), prompt_of=rust.generation_prompt,
        paper=False,  # added upstream after the paper: runs when named (`--languages rust`, or every)
        wrong_programs=rust.WRONG_PROGRAMS,
        plain_program=("main.rs", rust.COMPILE, ("./main",)),  # the records' crates (regex, rand 0.4's API, md5)
        # gold links faster than bfd ld (same binary meaning)
        fast_compile=rust.fast_compile(),
        # several programs as modules of one crate: rustc's start (std's and the crates' metadata) and the
        # link are paid once per batch; each program still runs alone (runners/hxrunner/langs/rust.py)
        batch_kind="rust", batch_info=rust.batch_info, batch_size=16),
)}

_BY_ALIAS = {k: lang for lang in LANGUAGES.values()
             for k in (lang.name, lang.display.lower(), lang.task_prefix.lower()) + lang.aliases}


def get_language(name: str) -> Language:
    try:
        return _BY_ALIAS[name.strip().lower()]
    except KeyError:
        raise UnknownLanguage(f"unknown language {name!r}; choose from {', '.join(LANGUAGES)}") from None


def language_of_task(task_id: str) -> Language:
    prefix = task_id.split("/", 1)[0]
    for lang in LANGUAGES.values():
        if lang.task_prefix == prefix:
            return lang
    prefixes = ", ".join(f"{lang.task_prefix}/N" for lang in LANGUAGES.values())
    raise UnknownLanguage(f"task_id {task_id!r} does not name a HumanEval-X language; task ids look like {prefixes}")


def task_order(key: str):
    """Sort key of a problem key (`CPP/10`, or `python:CPP/10` for a translation pair): sources apart,
    languages apart, numbers as numbers (CPP/2 before CPP/10). A key without a numeric tail (a summary
    edited by hand) sorts too, before the numbered ones of its language, instead of raising."""
    source, _, task_id = key.rpartition(":")
    prefix, _, num = task_id.rpartition("/")
    return (source, prefix, int(num) if num.isdigit() else -1, num)


# The paper's languages (``paper=True``): what runs when no language is named, so stored baselines and the
# paper's 820-problem protocol stay as they were. A language added after the paper (Rust) runs when named,
# or with every language: `--languages every` (`all6`, `six`: the names from when Rust made six).
PAPER_LANGUAGES: Tuple[str, ...] = tuple(name for name, lang in LANGUAGES.items() if lang.paper)
EVERY_LANGUAGE = ("every", "all6", "six")


def table_languages(present) -> Tuple[str, ...]:
    """The rows and columns of a translation matrix: the paper's languages, or every language once one
    outside the paper's is present."""
    return PAPER_LANGUAGES if set(present) <= set(PAPER_LANGUAGES) else tuple(LANGUAGES)


def parse_languages(spec) -> Tuple[str, ...]:
    """'python,cpp' / ['python', 'cpp'] / None / 'all' (the paper's languages) / 'every' (all6) -> canonical names."""
    if spec is None or spec == "all":
        return PAPER_LANGUAGES
    if isinstance(spec, str) and spec.strip().lower() in EVERY_LANGUAGE:
        return tuple(LANGUAGES)
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    return tuple(dict.fromkeys(get_language(s).name for s in items if str(s).strip()))
