#!/usr/bin/env python3
"""Draw the house from its imports: which module of humaneval_x/ imports which, and every loop.

    python scripts/import_graph.py            # edges (module -> modules it imports), then loops
    python scripts/import_graph.py --loops    # loops only; exit status 1 if there is one not allowed

An import inside a function counts as an edge like any other (marked ``lazy``): hiding an import in a
function does not remove the dependency. ALLOWED lists the loops kept on purpose, each with its reason.
"""
import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "humaneval_x"

# Loops kept on purpose: {frozenset of the loop's modules: why}. None today.
ALLOWED = {}
# Loops not yet broken, each with the way out (debt, not design): tests/test_import_graph.py fails on any
# loop in neither list, and on an entry here that no longer exists (so the list only shrinks).
KNOWN = {}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(current: str, is_package: bool, level: int, name: str) -> str:
    if level == 0:
        return name
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def edges(root: Path = ROOT):
    """{module: {imported module: "top" | "lazy"}} for the modules of the package."""
    files = sorted((root / PACKAGE).rglob("*.py"))
    modules = {module_name(p, root): p for p in files if "_assets" not in p.parts}
    out = {}
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        found = {}
        lazy_nodes = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lazy_nodes.update(id(n) for n in ast.walk(node) if n is not node)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(mod, is_package, node.level, node.module or "")
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in modules:  # a name imported from a module: the module
                    t = t.rpartition(".")[0]
                if t and t != mod and t.startswith(PACKAGE):
                    kind = "lazy" if id(node) in lazy_nodes else "top"
                    if found.get(t) != "top":
                        found[t] = kind
        out[mod] = found
    return out


def loops(graph):
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on, result = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                result.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", action="store_true", help="print the loops only")
    args = ap.parse_args()
    graph = edges()
    if not args.loops:
        for mod in sorted(graph):
            deps = ", ".join(f"{d}{' (lazy)' if k == 'lazy' else ''}" for d, k in sorted(graph[mod].items()))
            print(f"{mod} -> {deps}")
    bad = 0
    for comp in loops(graph):
        why = ALLOWED.get(frozenset(comp))
        debt = KNOWN.get(frozenset(comp))
        bad += why is None and debt is None
        inner = [f"{a} -> {b}{' (lazy)' if k == 'lazy' else ''}" for a in comp for b, k in graph[a].items() if b in comp]
        label = f"allowed loop ({why}): " if why else (f"known loop, to break ({debt}): " if debt else "LOOP: ")
        print(label + ", ".join(inner))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
