"""Prompts for generation and translation, as the paper's harness builds them.

Generation: optional language tag line, then the record's prompt (CodeGeeX2 dropped
the tag and stripped the prompt: ``tag=False, strip=True``).
Translation: ``code translation\\n{Src}:\\n{src.declaration}\\n{src.canonical_solution.rstrip()}\\n{Tgt}:\\n{tgt.declaration}``;
the completion continues the TARGET declaration. The source's docstring is not given.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from .dataset import Problem
from .errors import HarnessError
from .languages import EVERY_LANGUAGE, LANGUAGES, get_language, parse_languages


@dataclass(frozen=True)
class PromptOptions:
    tag: bool = True          # put the language tag line first (generation: as the original harness did)
    strip: bool = False       # strip the prompt's surrounding whitespace (CodeGeeX2 style)


@dataclass(frozen=True)
class PromptItem:
    """One prompt to complete; ``task_id`` names the problem whose tests judge the completion."""
    task_id: str
    language: str                      # the language the completion is written in
    text: str
    source_language: Optional[str] = None  # translation only

    @property
    def key(self) -> Tuple[str, str]:
        return (self.task_id, self.source_language or "")


def generation_prompt(problem: Problem, options: PromptOptions = PromptOptions()) -> str:
    lang = LANGUAGES[problem.language]
    text = problem.prompt.strip() if options.strip else problem.prompt
    return (lang.tag_line + "\n" + text) if options.tag else text


def translation_prompt(source: Problem, target: Problem, target_tag: bool = False) -> str:
    src, tgt = LANGUAGES[source.language], LANGUAGES[target.language]
    text = (f"code translation\n{src.display}:\n{source.declaration}\n{source.canonical_solution.rstrip()}\n"
            f"{tgt.display}:\n{target.declaration}")
    return (tgt.tag_line + "\n" + text) if target_tag else text


def problem_number_map(problems: Dict[str, Problem]) -> Dict[Tuple[str, int], Problem]:
    return {(p.language, p.number): p for p in problems.values()}


def parse_pairs(spec) -> List[Tuple[str, str]]:
    """'python-cpp,java-go' / 'all' (the paper's 20) / 'every' or 'all6' (every language's: 30) / list
    -> [(source, target)]."""
    if spec is None or spec == "all" or (isinstance(spec, str) and spec.strip().lower() in EVERY_LANGUAGE):
        names = parse_languages(spec)  # the paper's languages, or every language
        return [(s, t) for s in names for t in names if s != t]
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    pairs = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        if "-" not in item:
            raise HarnessError(f"translation pair {item!r} should look like python-cpp")
        s, t = (get_language(x).name for x in item.split("-", 1))
        if s == t:
            raise HarnessError(f"translation pair {item!r} has the same source and target")
        pairs.append((s, t))
    return list(dict.fromkeys(pairs))


def generation_items(problems: Dict[str, Problem], languages: Iterable[str], limit: Optional[int] = None,
                     options: PromptOptions = PromptOptions()) -> List[PromptItem]:
    langs = set(languages)
    return [PromptItem(p.task_id, p.language, generation_prompt(p, options))
            for p in sorted(problems.values(), key=lambda p: (list(LANGUAGES).index(p.language), p.number))
            if p.language in langs and (limit is None or p.number < limit)]


def translation_items(problems: Dict[str, Problem], pairs: Iterable[Tuple[str, str]], limit: Optional[int] = None,
                      target_tag: bool = False) -> List[PromptItem]:
    by_num = problem_number_map(problems)
    items = []
    for s, t in pairs:
        for n in range(164 if limit is None else min(limit, 164)):
            src, tgt = by_num[(s, n)], by_num[(t, n)]
            items.append(PromptItem(tgt.task_id, t, translation_prompt(src, tgt, target_tag), source_language=s))
    return items
