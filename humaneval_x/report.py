"""Reports people read: report.md and a self-contained report.html (inline SVG, no network).

Plots: pass@k per language/pair (bars with 95% bootstrap intervals over problems), pass@k versus
k, the 5x5 translation heatmap, the status breakdown; a per-problem table drills down to each
sample's code, verdict and captured output. ``compare`` renders two or more runs side by side.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from .errors import HarnessError
from .flips import format_flips
from .languages import LANGUAGES
from .limits import policy_text
from .metrics import pass_at_k
from .runs import Run, load_run
from .sandbox.base import STATUSES
from .summary import problem_key, task_order

STATUS_COLORS = {"passed": "#2e7d32", "failed": "#c62828", "compile_error": "#ef6c00", "runtime_error": "#8e24aa",
                 "timeout": "#1565c0", "harness_error": "#616161"}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
E = html.escape


def group_label(g: str) -> str:
    if g == "overall":
        return "overall"
    kind, name = g.split(":", 1)
    if kind == "lang":
        return LANGUAGES[name].display
    s, t = name.split("-")
    return f"{LANGUAGES[s].display}→{LANGUAGES[t].display}"


def pass_curve(per_problem: Dict[str, list], k: int) -> float:
    return float(np.mean([pass_at_k(n, c, k) for n, c in per_problem.values()]))


def bootstrap_interval(per_problem: Dict[str, list], k: int, rounds: int = 1000, seed: int = 0):
    vals = np.array([pass_at_k(n, c, k) for n, c in per_problem.values()])
    if len(vals) < 2:
        return float(vals.mean()), float(vals.mean())
    rng = np.random.default_rng(seed)
    means = vals[rng.integers(0, len(vals), (rounds, len(vals)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def ks_for(group: dict, ks: Sequence[int]) -> List[int]:
    return [k for k in ks if f"pass@{k}" in group]


# ------------------------------------------------------------------ SVG pieces
def svg_bars(series: Dict[str, Dict[str, tuple]], title: str, width: int = 760, height: int = 280) -> str:
    """series: {legend: {category: (value, low, high)}} values in [0, 1]; grouped bars with whiskers."""
    cats = list(dict.fromkeys(c for s in series.values() for c in s))
    if not cats:
        return ""
    left, bottom, top = 50, 40, 30
    plot_w, plot_h = width - left - 10, height - bottom - top
    group_w = plot_w / len(cats)
    bar_w = max(4.0, (group_w - 10) / max(1, len(series)))
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<title>{E(title)}</title><text x="{left}" y="18" class="t">{E(title)}</text>']
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="a">{frac * 100:.0f}%</text>')
    for ci, cat in enumerate(cats):
        x0 = left + ci * group_w + 5
        for si, (name, vals) in enumerate(series.items()):
            if cat not in vals:
                continue
            v, lo, hi = vals[cat]
            x = x0 + si * bar_w
            y = top + plot_h * (1 - v)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{plot_h * v:.1f}" '
                         f'fill="{PALETTE[si % len(PALETTE)]}"><title>{E(name)} {E(cat)}: {v * 100:.2f}% '
                         f'[{lo * 100:.2f}, {hi * 100:.2f}]</title></rect>')
            cx = x + (bar_w - 2) / 2
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{top + plot_h * (1 - hi):.1f}" '
                         f'y2="{top + plot_h * (1 - lo):.1f}" class="ci"/>')
        parts.append(f'<text x="{x0 + (group_w - 10) / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'class="a">{E(cat)}</text>')
    if len(series) > 1:  # legend on the right, under the title
        for si, name in enumerate(series):
            lx = width - 10 - (len(series) - si) * 140
            parts.append(f'<rect x="{lx}" y="22" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>'
                         f'<text x="{lx + 14}" y="31" class="a">{E(name[:20])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_curves(curves: Dict[str, List[tuple]], title: str, width: int = 760, height: int = 280) -> str:
    """curves: {name: [(k, value)]}; x on a log scale."""
    pts = [k for c in curves.values() for k, _ in c]
    if not pts:
        return ""
    left, bottom, top = 50, 40, 30
    plot_w, plot_h = width - left - 130, height - bottom - top
    kmax = max(pts)
    lx = lambda k: left + (np.log(k) / np.log(kmax) if kmax > 1 else 0) * plot_w  # noqa: E731
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<title>{E(title)}</title><text x="{left}" y="18" class="t">{E(title)}</text>']
    for frac in (0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="a">{frac * 100:.0f}%</text>')
    for k in sorted(set(pts)):
        parts.append(f'<text x="{lx(k):.1f}" y="{height - bottom + 16}" text-anchor="middle" class="a">{k}</text>')
    # Curves often coincide (every language at 0 for a weak model): each is drawn OFFSET pixels above the one
    # before (a few pixels, far below a percentage point's meaning at this height), with its own dash and marker,
    # and the legend gives its values, so none hides another.
    markers = ("circle", "square", "diamond", "triangle")
    for i, (name, c) in enumerate(curves.items()):
        color = PALETTE[i % len(PALETTE)]
        dy = -CURVE_OFFSET * i
        pts = [(lx(k), top + plot_h * (1 - v) + dy, k, v) for k, v in c]
        poly = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in pts)
        dash = "" if i == 0 else f' stroke-dasharray="{2 + 2 * (i % 4)},{2 + (i % 3)}"'
        parts.append(f'<polyline points="{poly}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for x, y, k, v in pts:
            parts.append(_marker(markers[i % len(markers)], x, y, color, f"{name} pass@{k}: {v * 100:.2f}%"))
        values = ", ".join(f"{v * 100:.1f}" for _, v in c)
        parts.append(f'<text x="{left + plot_w + 8}" y="{top + 14 * i + 10}" fill="{color}" class="a">'
                     f'{E(name)}<title>{E(name)}: {values} (%)</title></text>')
    if len(curves) > 1:
        parts.append(f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end" class="a">lines offset '
                     f'{CURVE_OFFSET}px apart to stay visible where they coincide</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" class="a">k</text></svg>')
    return "".join(parts)


CURVE_OFFSET = 3  # pixels between coinciding pass@k-versus-k curves


def _marker(shape: str, x: float, y: float, color: str, title: str) -> str:
    t = f"<title>{E(title)}</title>"
    if shape == "square":
        return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{color}">{t}</rect>'
    if shape == "diamond":
        return f'<polygon points="{x:.1f},{y - 4:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 4:.1f} {x - 4:.1f},{y:.1f}" fill="{color}">{t}</polygon>'
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - 4:.1f} {x + 4:.1f},{y + 3:.1f} {x - 4:.1f},{y + 3:.1f}" fill="{color}">{t}</polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">{t}</circle>'


def svg_status(breakdown: Dict[str, Dict[str, int]], title: str, width: int = 760) -> str:
    rows = list(breakdown.items())
    if not rows:
        return ""
    left, bar_h = 140, 18
    height = 40 + len(rows) * (bar_h + 6) + 24
    plot_w = width - left - 10
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<title>{E(title)}</title><text x="10" y="18" class="t">{E(title)}</text>']
    for i, (name, counts) in enumerate(rows):
        y = 30 + i * (bar_h + 6)
        total = sum(counts.values()) or 1
        x = left
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" class="a">{E(name)}</text>')
        for st in STATUSES:
            w = plot_w * counts.get(st, 0) / total
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{STATUS_COLORS[st]}">'
                             f'<title>{E(name)} {st}: {counts[st]}</title></rect>')
            x += w
    y = 30 + len(rows) * (bar_h + 6) + 8
    for i, st in enumerate(STATUSES):
        parts.append(f'<rect x="{10 + i * 125}" y="{y}" width="10" height="10" fill="{STATUS_COLORS[st]}"/>'
                     f'<text x="{24 + i * 125}" y="{y + 9}" class="a">{st}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap_table(matrix: Dict[str, Dict[str, Optional[float]]], key: str) -> str:
    names = list(matrix)  # its rows: the five, or six with Rust
    out = [f'<table class="heat"><caption>{E(key)} (%), rows: source, columns: target</caption><tr><th></th>']
    out += [f"<th>{E(LANGUAGES[t].display)}</th>" for t in names] + ["</tr>"]
    for s in names:
        out.append(f"<tr><th>{E(LANGUAGES[s].display)}</th>")
        for t in names:
            v = None if s == t else matrix.get(s, {}).get(t)
            if v is None:
                out.append('<td class="na">–</td>')
            else:
                out.append(f'<td style="background:hsl({int(120 * v)},65%,{85 - 30 * v:.0f}%)">{v * 100:.1f}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


# ------------------------------------------------------------------ what was evaluated (the header)
def _yes_no(v) -> str:
    return "yes" if v is True else "no" if v is False else str(v)


def run_header(s: dict) -> List[tuple]:
    """(what, value) rows saying what a run evaluated and how, from what its summary.json recorded;
    "not recorded" where a run predates a field."""
    settings, sampling, gen = s.get("settings") or {}, s.get("sampling") or {}, s.get("generation") or {}
    missing = "not recorded"
    rows = []
    if sampling or gen or settings.get("kind") == "generation":
        rows.append(("model", settings.get("model") or gen.get("model") or missing))
        backend = gen.get("backend") or missing
        extra = ", ".join(f"{k.replace('_', ' ')} {gen[k]}" for k in ("device", "dtype", "batch_size") if gen.get(k))
        rows.append(("backend", backend + (f" ({extra})" if extra else "")))
        for label, key in (("samples per problem (n)", "n"), ("temperature", "temperature"), ("top-p", "top_p"),
                           ("max new tokens", "max_new_tokens"), ("seed", "seed")):
            rows.append((label, str(sampling[key]) if key in sampling else missing))
        chat = s.get("chat", settings.get("chat"))
        rows.append(("chat template", missing if chat is None else _yes_no(chat)))
        if "tag" in settings or "strip" in settings:
            rows.append(("prompt", f"language tag line {_yes_no(settings.get('tag'))}, stripped "
                                   f"{_yes_no(settings.get('strip'))}"))
    else:
        rows.append(("samples", f"{s.get('samples_file') or 'a samples file'} (not generated by this run); "
                                f"clean-up {_yes_no(s.get('clean', missing))}"))
    limits = s.get("time_limits") or {}
    if limits.get("policy"):
        per = [v for v in (limits.get("limits_cpu_s") or {}).values() if isinstance(v, (int, float))]
        span = "" if not per else (f"; CPU limit {per[0]:g} s for all {len(per)} problems" if min(per) == max(per)
                                   else f"; CPU limits {min(per):g}-{max(per):g} s over {len(per)} problems")
        rows.append(("time-limit policy", policy_text(limits["policy"]) + span))
    else:
        rows.append(("time-limit policy", missing))
    rows.append(("dataset variant", str(s.get("dataset_variant") or missing)))
    images = s.get("sandbox_images") or {}
    rows.append(("sandbox images", ", ".join(f"{k} {str(v)[:19]}" for k, v in images.items()) or missing))
    tools = s.get("tool_versions") or {}
    version = f"humaneval-x {s.get('harness_version') or missing}"
    version += "".join(f", {k.replace('_', ' ')} {v}" for k, v in tools.items() if v)
    rows.append(("versions", version))
    if gen:
        took = f" ({gen['seconds']:g} s)" if isinstance(gen.get("seconds"), (int, float)) else ""
        rows.append(("generated", f"{gen.get('started_at') or missing} to {gen.get('finished_at') or missing}{took}"
                     if gen.get("started_at") or gen.get("finished_at") else missing + took))
    rows.append(("evaluated", str(s.get("evaluated_at") or missing)))
    return rows


def score_rows(run: Run) -> List[tuple]:
    """(label, group) rows of the scores table: each language and pair, then overall; a run mixing
    generation and translation samples has two overall rows (summary.py scores them apart)."""
    s = run.summary
    rows = [(group_label(g), v) for g, v in run.groups().items() if g != "overall"]
    if s.get("translation_overall"):
        return rows + [("overall (generation)", s["overall"]), ("overall (translation)", s["translation_overall"])]
    return rows + [("overall", s["overall"])]


# ------------------------------------------------------------------ run report
CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.chart .t{font-weight:600;font-size:13px}.chart .a{font-size:11px}
.chart .grid{stroke:#e5e5e5}.chart .ci{stroke:#111;stroke-width:1.5}.heat td{min-width:70px;text-align:center}
.na{color:#aaa}pre{background:#f7f7f7;padding:6px;overflow:auto;max-height:320px;font-size:12px}
details{margin:2px 0}.s-passed{color:#2e7d32}.s-failed,.s-runtime_error,.s-compile_error,.s-timeout{color:#c62828}
.s-harness_error{color:#616161}#filter{padding:4px;width:260px}.run th{width:190px}.prog pre b{font-weight:600;background:#fff3cd}"""

JS = """window.addEventListener('error',function(e){document.body.dataset.errors=(document.body.dataset.errors||'')+e.message+';'});
(function(){var f=document.getElementById('filter');if(f){f.addEventListener('input',function(){var q=f.value.toLowerCase();
document.querySelectorAll('#problems tbody tr').forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});});}
document.body.dataset.rendered='ok';})();"""


def _sample_block(r: dict, program: Optional[str] = None) -> str:
    """One sample in the drill-down: its code, its verdict, what the compiler and the run said (staging folders
    dropped, lines named as the sample's own or the assembled program's) and, for a sample that did not pass,
    the assembled program with numbered lines (the sample's marked ▶)."""
    from .details import numbered_program, readable, sample_span
    lang, code = r.get("language") or "python", r.get("cleaned") or r.get("generation") or ""
    out = [f'<details><summary class="s-{E(r["status"])}">#{r["sample_index"]} {E(r["status"])} '
           f'{E(readable(r.get("detail") or "", lang, program, code))}</summary>']
    out.append(f"<pre>{E(code)}</pre>")
    for stage in ("compile", "run"):
        info = r.get(stage) or {}
        for stream in ("stdout", "stderr"):
            text = (info.get(stream) or "").strip()
            if text:
                out.append(f"<div>{stage} {stream}</div><pre>{E(readable(text[-2000:], lang, program, code))}</pre>")
    if program and r["status"] != "passed":
        span = sample_span(program, code)
        where = f"the sample is lines {span[0]}-{span[1]}, marked ▶" if span else "the sample's lines not found"
        out.append(f"<details class=prog><summary>assembled program ({program.count(chr(10)) + 1} lines; {where}; "
                   f"'program line N' above is its line N)</summary><pre>{numbered_program(program, span)}</pre>"
                   "</details>")
    out.append("</details>")
    return "".join(out)


def pick_samples(records: List[dict], limit: int) -> List[dict]:
    """Up to ``limit`` samples of a problem: one of each status first, then in index order."""
    records = sorted(records, key=lambda r: r["sample_index"])
    chosen, seen = [], set()
    for r in records:
        if r["status"] not in seen:
            chosen.append(r)
            seen.add(r["status"])
    for r in records:
        if len(chosen) >= limit:
            break
        if r not in chosen:
            chosen.append(r)
    return sorted(chosen[:max(limit, len(seen))], key=lambda r: r["sample_index"])


def render_html(run: Run, samples_per_problem: int = 5, problems: Optional[dict] = None) -> str:
    """``problems`` (task_id -> Problem): the drill-down shows each shown failing sample's assembled program."""
    s = run.summary
    ks = s.get("ks", [1, 10, 100])
    groups = {g: v for g, v in run.groups().items() if g != "overall"}
    samples = s["overall"]["samples"] + (s.get("translation_overall") or {}).get("samples", 0)
    body = [f"<h1>HumanEval-X report: {E(run.name)}</h1>",
            f"<p>dataset variant <b>{E(str(s.get('dataset_variant')))}</b>; {samples} samples; "
            f"harness errors: {s.get('harness_errors', 0)}.</p>",
            "<h2>What was evaluated</h2><table class=run>"
            + "".join(f"<tr><th class=l>{E(k)}</th><td class=l>{E(v)}</td></tr>" for k, v in run_header(s))
            + "</table>"]
    body.append("<h2>Scores</h2><table><tr><th class=l>group</th><th>problems</th><th>samples</th>"
                + "".join(f"<th>pass@{k}</th>" for k in ks) + "</tr>")
    for label, v in score_rows(run):
        body.append(f"<tr><td class=l>{E(label)}</td><td>{v['problems']}</td><td>{v['samples']}</td>"
                    + "".join(f"<td>{v[f'pass@{k}'] * 100:.2f}</td>" if f"pass@{k}" in v else "<td>–</td>"
                              for k in ks) + "</tr>")
    body.append("</table>")
    for k in ks_for(s["overall"], ks):
        series = {f"pass@{k}": {group_label(g): (v[f"pass@{k}"], *bootstrap_interval(v["per_problem"], k))
                                for g, v in groups.items() if f"pass@{k}" in v}}
        body.append(svg_bars(series, f"pass@{k} with 95% bootstrap intervals over problems"))
    curves = {}
    for g, v in list(groups.items())[:12]:
        n = v["min_samples_per_problem"]
        kk = sorted({k for k in (1, 2, 3, 5, 10, 20, 50, 100, 200, n) if 1 <= k <= n})
        curves[group_label(g)] = [(k, pass_curve(v["per_problem"], k)) for k in kk]
    if any(len(c) > 1 for c in curves.values()):
        body.append(svg_curves(curves, "pass@k versus k"))
    if s.get("translation_matrix"):
        body.append("<h2>Translation (source × target)</h2>")
        body += [heatmap_table(m, key) for key, m in s["translation_matrix"].items()
                 if any(x is not None for row in m.values() for x in row.values())]
    body.append("<h2>Status breakdown</h2>")
    body.append(svg_status({group_label(g): v["status_counts"] for g, v in groups.items()}, "samples per status"))
    if s.get("flips"):  # the flip audit: every program whose status differed between runs, with all its verdicts
        body.append("<h2>Flips</h2><pre>" + E(format_flips(s["flips"])) + "</pre>")
    if run.records is not None:
        body.append(_problem_table(run, samples_per_problem, problems))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>HumanEval-X report</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}<script>{JS}</script></body></html>")


def _assembled(r: dict, problems: Optional[dict]) -> Optional[str]:
    """The program a result's sample was judged as, assembled again (a function of the sample and the problem;
    checked against the result's program_sha256), or None: no problem at hand, a passed sample, no match."""
    problem = (problems or {}).get(r["task_id"])
    if problem is None or r["status"] == "passed" or not r.get("program_sha256"):
        return None
    from .execute import make_job
    from .samples import Sample
    for clean, whole in ((True, False), (False, False), (True, True)):  # --clean, --clean=False, a `solution`
        try:
            job = make_job(Sample(r["task_id"], r["sample_index"], r.get("generation") or "",
                                  source_language=r.get("source_language"), whole=whole), problem, clean=clean)
        except Exception:  # a sample that could not be assembled has its own verdict saying so
            return None
        if job.program and job.program_hash == r["program_sha256"]:
            return job.program
    return None


def _problem_table(run: Run, samples_per_problem: int, problems: Optional[dict] = None) -> str:
    by_problem: Dict[str, List[dict]] = {}
    for r in run.records:
        by_problem.setdefault(problem_key(r), []).append(r)
    out = ["<h2>Problems</h2><input id='filter' placeholder='filter (task, status, language)'>",
           "<table id='problems'><thead><tr><th class=l>problem</th><th>n</th><th>correct</th><th>pass@1</th>"
           "<th class=l>statuses</th><th class=l>samples</th></tr></thead><tbody>"]
    for key in sorted(by_problem, key=task_order):
        recs = by_problem[key]
        graded = [r for r in recs if r["status"] != "harness_error"]
        c = sum(r["passed"] for r in graded)
        counts = {}
        for r in recs:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        st = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        shown = pick_samples(recs, samples_per_problem)
        out.append(f"<tr><td class=l>{E(key)}</td><td>{len(graded)}</td><td>{c}</td>"
                   f"<td>{(c / len(graded) * 100 if graded else 0):.1f}</td><td class=l>{E(st)}</td><td class=l>"
                   + "".join(_sample_block(r, _assembled(r, problems)) for r in shown)
                   + (f"<i>{len(recs) - len(shown)} more in results.jsonl</i>" if len(recs) > len(shown) else "")
                   + "</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_markdown(run: Run) -> str:
    s = run.summary
    ks = s.get("ks", [1, 10, 100])
    samples = s["overall"]["samples"] + (s.get("translation_overall") or {}).get("samples", 0)
    lines = [f"# HumanEval-X report: {run.name}", "",
             f"Dataset variant `{s.get('dataset_variant')}`; {samples} samples; "
             f"harness errors: {s.get('harness_errors', 0)}.", "", "## What was evaluated", "",
             "| | |", "|---|---|"] + [f"| {k} | {v.replace('|', '/')} |" for k, v in run_header(s)] + [
             "", "## Scores", "",
             "| group | problems | samples | " + " | ".join(f"pass@{k}" for k in ks) + " | "
             + " | ".join(STATUSES) + " |", "|---" * (3 + len(ks) + len(STATUSES)) + "|"]
    for label, v in score_rows(run):
        lines.append(f"| {label} | {v['problems']} | {v['samples']} | "
                     + " | ".join(f"{v[f'pass@{k}'] * 100:.2f}" if f"pass@{k}" in v else "–" for k in ks) + " | "
                     + " | ".join(str(v["status_counts"].get(x, 0)) for x in STATUSES) + " |")
    if s.get("translation_matrix"):
        for key, m in s["translation_matrix"].items():
            if not any(x is not None for row in m.values() for x in row.values()):
                continue
            names = list(m)
            lines += ["", f"**{key}** (%), rows: source, columns: target", "",
                      "| | " + " | ".join(LANGUAGES[t].display for t in names) + " |", "|---" * (len(names) + 1) + "|"]
            for src in names:
                lines.append(f"| {LANGUAGES[src].display} | " + " | ".join(
                    "–" if src == t or m[src].get(t) is None else f"{m[src][t] * 100:.1f}" for t in names) + " |")
    if s.get("flips"):
        lines += ["", "## Flips", "", "```", format_flips(s["flips"]), "```"]
    return "\n".join(lines) + "\n"


def write_reports(run_dir, samples_per_problem: int = 5, problems: Optional[dict] = None,
                  data_dir: Optional[str] = None) -> List[Path]:
    """report.md and report.html; ``problems`` (else the data found on this machine, never downloaded) let the
    drill-down show assembled programs."""
    run = load_run(run_dir)
    out = Path(run_dir) if Path(run_dir).is_dir() else Path(run_dir).parent
    md, page = out / "report.md", out / "report.html"
    md.write_text(render_markdown(run))
    if problems is None and run.records:
        problems = local_problems(run, data_dir)
    page.write_text(render_html(run, samples_per_problem, problems))
    return [md, page]


def local_problems(run: Run, data_dir: Optional[str] = None) -> Optional[dict]:
    """The run's problems from data already on this machine (--data-dir, $HUMANEVAL_X_DATA or the cache), or None:
    a report never downloads."""
    from .dataset import load_problems, resolve_data_dir, verify_data_dir
    langs = sorted({r["language"] for r in run.records} | {r["source_language"] for r in run.records
                                                            if r.get("source_language")})
    try:
        folder = resolve_data_dir(data_dir, download=False)
        if any(verify_data_dir(folder).get(lang) == "missing" for lang in langs):
            return None
        return load_problems(langs, data_dir=str(folder), variant=run.summary["dataset_variant"])
    except Exception:
        return None


# ------------------------------------------------------------------ comparison of runs
def check_same_problems(runs: Sequence[Run]) -> None:
    """Runs compared side by side score the same problems of the same data; else one line (HarnessError)."""
    first = runs[0]
    problems = set(first.groups()["overall"]["per_problem"])
    for r in runs[1:]:
        if r.summary["dataset_variant"] != first.summary["dataset_variant"]:
            raise HarnessError(f"compare: {first.path} and {r.path} use different dataset variants "
                               f"({first.summary['dataset_variant']}, {r.summary['dataset_variant']})")
        other = set(r.groups()["overall"]["per_problem"])
        if other != problems:
            only_a, only_b = sorted(problems - other, key=task_order), sorted(other - problems, key=task_order)
            raise HarnessError(f"compare: {first.path} and {r.path} cover different problems ({len(problems)} and "
                               f"{len(other)}; {len(only_a)} only in the first, e.g. {only_a[:3]}; {len(only_b)} only "
                               f"in the second, e.g. {only_b[:3]})")


def compare(run_paths: Sequence[str], output_dir, metric_ks: Sequence[int] = (1, 10, 100)) -> List[Path]:
    runs = [load_run(p, tuple(metric_ks)) for p in run_paths]
    check_same_problems(runs)
    names = []
    for r in runs:  # unique legend names
        name = r.name
        while name in names:
            name += "'"
        names.append(name)
    all_groups = list(dict.fromkeys(g for r in runs for g in r.groups()))
    body = ["<h1>HumanEval-X comparison</h1><ol>" + "".join(f"<li>{E(n)}: {E(str(r.path))}</li>"
                                                            for n, r in zip(names, runs)) + "</ol>"]
    md = ["# HumanEval-X comparison", ""] + [f"{i + 1}. {n}: `{r.path}`" for i, (n, r) in enumerate(zip(names, runs))]
    for k in metric_ks:
        key = f"pass@{k}"
        if not all(key in r.summary["overall"] for r in runs):
            continue
        series = {}
        for n, r in zip(names, runs):
            series[n] = {group_label(g): (v[key], *bootstrap_interval(v["per_problem"], k))
                         for g, v in r.groups().items() if key in v}
        body.append(svg_bars(series, f"{key} per group, 95% intervals"))
        body.append("<table><tr><th class=l>group</th>" + "".join(f"<th>{E(n)}</th>" for n in names) + "</tr>")
        md += ["", f"**{key}** (%)", "", "| group | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for g in all_groups:
            vals = [r.groups().get(g, {}).get(key) for r in runs]
            cells = ["–" if v is None else f"{v * 100:.2f}" for v in vals]
            body.append(f"<tr><td class=l>{E(group_label(g))}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            md.append(f"| {group_label(g)} | " + " | ".join(cells) + " |")
        body.append("</table>")
    if len(runs) >= 2:
        a, b = runs[0].groups()["overall"]["per_problem"], runs[1].groups()["overall"]["per_problem"]
        diffs = sorted(((b[t][1] / b[t][0] - a[t][1] / a[t][0], t) for t in set(a) & set(b)), key=lambda x: x[0])
        changed = [d for d in diffs if abs(d[0]) > 0]
        body.append(f"<h2>Problems whose pass rate changed most ({E(names[0])} → {E(names[1])})</h2><table>"
                    "<tr><th class=l>problem</th><th>change (pp)</th></tr>")
        md += ["", f"Problems whose pass rate changed most ({names[0]} → {names[1]}):", "",
               "| problem | change (pp) |", "|---|---:|"]
        for d, t in changed[:15] + changed[-15:][::-1] if len(changed) > 30 else changed:
            body.append(f"<tr><td class=l>{E(t)}</td><td>{d * 100:+.1f}</td></tr>")
            md.append(f"| {t} | {d * 100:+.1f} |")
        body.append("</table>")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text("\n".join(md) + "\n")
    (out / "compare.html").write_text("<!doctype html><html><head><meta charset='utf-8'><title>HumanEval-X comparison"
                                      f"</title><style>{CSS}</style></head><body>{''.join(body)}<script>{JS}</script>"
                                      "</body></html>")
    return [out / "compare.md", out / "compare.html"]
