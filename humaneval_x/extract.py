"""The code of a model's answer: reasoning removed, then the right Markdown block.

Chat and reasoning models answer with prose, drafts and several code blocks; which block is the
solution decides the verdict. The rules, in order:

1. Reasoning is removed first (``strip_reasoning``); it is never code, even when it holds a
   fenced block. Recognised: ``<think>...</think>`` (DeepSeek-R1, Qwen3, QwQ), ``<thinking>``,
   ``<reasoning>``, ``<thought>``, ``<seed:think>`` (Seed-OSS), ``[THINK]...[/THINK]`` (Magistral),
   ``◁think▷...◁/think▷`` (Kimi), ``<|begin_of_thought|>...<|end_of_thought|>`` (Sky-T1,
   OpenThoughts; their ``<|begin_of_solution|>`` markers are dropped, the solution kept), and
   gpt-oss's harmony channels (only the ``final`` channel is the answer). Tags in any case. A
   closing tag with no opening one (templates that open the thinking in the prompt) makes
   everything before it reasoning; an opening tag never closed (a cut-off answer) makes
   everything after it reasoning. A separate ``reasoning_content`` field of an OpenAI-compatible
   answer is never read as code (generation/openai_backend.py).
2. Fenced blocks, both styles (CommonMark): ```` ``` ```` and ``~~~``, three or more, an optional
   info string; a block closes at a bare fence of the same character at least as long, an
   unclosed block runs to the end; an indented fence's indentation is removed from its lines.
3. The solution block, when there are several: the LAST block that defines the problem's entry
   point (``defines``, e.g. the language's whole-function rule of assembly.py) -- a revised
   version after a first attempt is the answer, as the final answer comes after drafts. If no
   block defines it (a body-only answer), the first block that is not a usage block (``>>>``
   doctest/REPL lines, an output/shell info string, or only assert/print/log statements); if
   all are usage blocks, the first.
4. A continuation closed by a fence: when the first fence is bare and the text before it is code
   (not a sentence of prose, not a line ending in ``:``), that fence closes the code the prompt
   opened (chat mode) and the answer is the text itself, not a block.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

# (opening, closing) pairs of reasoning tags, as literal strings (matched in any case)
REASONING_TAGS: Tuple[Tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
    ("<thought>", "</thought>"),
    ("<seed:think>", "</seed:think>"),
    ("[THINK]", "[/THINK]"),
    ("◁think▷", "◁/think▷"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
)
# markers around the final answer, dropped (their content stays)
ANSWER_MARKERS = re.compile(r"<\|(?:begin|end)_of_solution\|>", re.I)
HARMONY_FINAL = re.compile(r"<\|channel\|>\s*final\s*(?:<\|constrain\|>[^<]*)?<\|message\|>", re.I)
HARMONY_CHANNEL = re.compile(r"<\|channel\|>", re.I)
HARMONY_END = re.compile(r"<\|(?:end|return|call)\|>", re.I)

# (the info string is taken whole and stripped after: a lazy `[^\n]*?` before `[ \t]*$` is quadratic
# on a line of many blanks)
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$", re.M)
USAGE_INFO = {"console", "shell", "sh", "bash", "text", "txt", "output", "plaintext", "pycon", "log", "stdout"}
USAGE_LINE = re.compile(r"^\s*(?:>>>|\.\.\.|#|//|assert\b|print\s*\(|console\.log\s*\(|fmt\.Print|System\.out\.|"
                        r"(?:std::)?cout\b|printf\s*\(|puts\s*\()")
# a sentence: unindented words without code punctuation ("Here is the fixed version")
PROSE_LINE = re.compile(r"^[A-Za-z][^;{}()=\[\]<>`]*$")


def strip_reasoning(text: str) -> str:
    """``text`` without its reasoning (module docstring, rule 1)."""
    if HARMONY_CHANNEL.search(text):
        finals = list(HARMONY_FINAL.finditer(text))
        if not finals:
            return ""  # only analysis/commentary: no answer yet
        text = text[finals[-1].end():]
        end = HARMONY_END.search(text)
        text = text[:end.start()] if end else text
    for opening, closing in REASONING_TAGS:
        text = _strip_tag_pairs(text, opening, closing)
    return ANSWER_MARKERS.sub("", text)


def _strip_tag_pairs(text: str, opening: str, closing: str) -> str:
    """``text`` without its ``opening ... closing`` spans (each opening to the next closing), then
    without everything up to the last closing left unpaired, and from an opening never closed to
    the end. One pass over the tags, whatever their number (sample text is untrusted)."""
    keep, opened, start = [], None, 0  # start: where the text kept after the last unpaired closing begins
    pos = 0  # the text before pos is decided (kept in ``keep`` or removed)
    for m in re.finditer(re.escape(opening) + "|" + re.escape(closing), text, re.I):
        if m.group(0).lower() == opening.lower():
            if opened is None:
                opened = m.start()
        elif opened is not None:  # a pair: the text before it is kept, the pair removed
            keep.append(text[pos:opened])
            pos, opened = m.end(), None
        else:  # a closing with no opening: everything before it was reasoning
            keep, pos = [], m.end()
    keep.append(text[pos:] if opened is None else text[pos:opened])
    return "".join(keep)


@dataclass(frozen=True)
class Block:
    code: str
    info: str  # the info string (language tag), lower case
    closed: bool


def _dedent(code: str, indent: str) -> str:
    if not indent:
        return code
    n = len(indent)
    return "".join(line[min(n, len(line) - len(line.lstrip(" \t"))):] for line in code.splitlines(True))


def fenced_blocks(text: str) -> List[Block]:
    """Every fenced block of ``text`` in order (module docstring, rule 2)."""
    blocks, opened = [], None
    for m in FENCE.finditer(text):
        fence, info = m.group("fence"), m.group("info").strip()
        if fence[0] == "`" and "`" in info:
            continue  # not a fence line: inline code (CommonMark)
        if opened is None:
            opened = m
        elif fence[0] == opened.group("fence")[0] and len(fence) >= len(opened.group("fence")) and not info:
            blocks.append(Block(_dedent(text[opened.end() + 1:m.start()], opened.group("indent")),
                                opened.group("info").strip().lower(), True))
            opened = None
    if opened is not None:
        blocks.append(Block(_dedent(text[opened.end() + 1:], opened.group("indent")), opened.group("info").strip().lower(), False))
    return blocks


def is_usage_block(block: Block) -> bool:
    """A doctest, REPL session, shell/output listing or a block of asserts and prints, not a solution."""
    if block.info.split()[:1] and block.info.split()[0] in USAGE_INFO:
        return True
    lines = [ln for ln in block.code.splitlines() if ln.strip()]
    if any(ln.lstrip().startswith(">>>") for ln in lines):
        return True
    return bool(lines) and all(USAGE_LINE.match(ln) for ln in lines)


def _continuation_closed(text: str, first) -> bool:
    """Rule 4: a bare first fence after code (not after prose) closes the prompt's code block."""
    if first.group("info").strip():
        return False
    before = text[:first.start()].strip()
    if not before:
        return False
    last = before.splitlines()[-1].rstrip()
    prose = last == last.lstrip() and PROSE_LINE.match(last) and len(last.split()) >= 3
    return not (last.endswith(":") or prose)


def choose_block(blocks: List[Block], defines: Optional[Callable[[str], bool]] = None) -> Block:
    """Rule 3: the last block defining the entry point, else the first non-usage block, else the first."""
    if defines is not None:
        defining = [b for b in blocks if defines(b.code)]
        if defining:
            return defining[-1]
    return next((b for b in blocks if not is_usage_block(b)), blocks[0])


def defines_entry_point(lang, problem) -> Optional[Callable[[str], bool]]:
    """Whether a block defines ``problem``'s entry point: the language's whole-function rule
    (assembly.py, which reads only ``problem.prompt``) takes it for the whole function."""
    if lang is None or lang.whole is None:
        return None
    return lambda code: lang.whole(problem, code) is not None


def answer_code(text: str, defines: Optional[Callable[[str], bool]] = None) -> Tuple[str, bool, bool]:
    """(code, fenced, closed) of an answer: ``code`` is the chosen block (``fenced``; ``closed``: its
    fence was closed), or the answer without its reasoning when it has no block to unwrap.
    ``defines(code)`` says whether a block defines the problem's entry point."""
    text = strip_reasoning(text)
    first = next((m for m in FENCE.finditer(text) if not (m.group("fence")[0] == "`" and "`" in m.group("info"))), None)
    if first is None or _continuation_closed(text, first):
        return text, False, False
    block = choose_block(fenced_blocks(text), defines)
    return block.code, True, block.closed
