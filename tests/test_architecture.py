"""The floors of the house (README, "Architecture"): who may import whom, checked on the source.

Every `import jirei…` in the package's source — at module level or inside a function — is an
arrow from its module's floor to the imported module's floor. Arrows go down or stay on the
floor; the packages form no cycle; the ground imports nothing above it."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Source folders and the package names they install as (pyproject.toml's package-dir).
SOURCES = {"jirei": REPO / "jirei", "jirei.extract": REPO / "extract", "jirei.classify": REPO / "classify",
           "jirei.evaluation": REPO / "evaluation", "jirei.models": REPO / "models", "jirei.samples": REPO / "samples"}

# Lowest first. A module belongs to the floor of its longest matching prefix.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("jirei.records", "jirei.paths", "jirei.normalise", "jirei.problems", "jirei.nlp", "jirei.worker_preload", "jirei.gold", "jirei.models",
                "jirei.samples")),
    ("store", ("jirei.store",)),
    ("extract", ("jirei.extract",)),
    ("classify", ("jirei.classify",)),
    ("pipeline", ("jirei.pipeline",)),
    ("evaluation", ("jirei.evaluation",)),
    ("wiring", ("jirei.cli", "jirei.batch", "jirei.workers", "jirei.dask_worker", "jirei.store_commands",
                "jirei.relabel", "jirei.model_jobs", "jirei.export", "jirei.webapp")),
]
RANK = {name: i for i, (name, _prefixes) in enumerate(FLOORS)}


def floor_of(module: str) -> str:
    best = ("", "")
    for name, prefixes in FLOORS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best[1]):
                best = (name, prefix)
    assert best[0], f"{module} is on no floor: add it to FLOORS and to the README's architecture section"
    return best[0]


def unit_of(module: str) -> str:
    """The node of the package graph: a subpackage (jirei.extract) or a top module (jirei.store)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if _is_package(module) else 0)]
    return ".".join(base + ([node.module] if node.module else []))


_PACKAGES: set[str] = set()


def _is_package(module: str) -> bool:
    return module in _PACKAGES


def source_files() -> dict[str, Path]:
    """Every module of the package's source, by its installed name."""
    files: dict[str, Path] = {}
    for package, root in SOURCES.items():  # no source folder lies inside another
        for path in root.rglob("*.py"):
            name = _module_name(package, root, path)
            files.setdefault(name, path)
            if path.name == "__init__.py":
                _PACKAGES.add(name)
    return files


def _imports(module: str, path: Path):
    """(import node, the module it names or `from` resolves to) for every import in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node, a.name
        elif isinstance(node, ast.ImportFrom):
            yield node, _resolve(module, node)


def import_edges() -> list[tuple[str, str]]:
    edges = []
    for module, path in source_files().items():
        edges += [(module, t) for _, t in _imports(module, path) if t == "jirei" or t.startswith("jirei.")]
    return edges


def test_every_module_is_on_a_floor_and_arrows_go_down():
    upward = []
    for src, dst in import_edges():
        if dst == "jirei":
            continue  # `from jirei import paths`: resolved below through the name
        if RANK[floor_of(dst)] > RANK[floor_of(src)]:
            upward.append(f"{src} ({floor_of(src)}) -> {dst} ({floor_of(dst)})")
    assert not upward, "imports going up a floor:\n" + "\n".join(sorted(set(upward)))


def test_ground_imports_only_the_ground():
    bad = [f"{s} -> {d}" for s, d in import_edges()
           if floor_of(s) == "ground" and d != "jirei" and floor_of(d) != "ground"]
    assert not bad, bad


def test_no_cycle_between_packages_and_modules():
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in import_edges():
        if dst == "jirei":
            continue
        a, b = unit_of(src), unit_of(dst)
        if a != b:
            graph[a].add(b)
    seen: dict[str, int] = {}  # 1 = on the stack, 2 = done
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]) if nxt in stack else f"{node} -> {nxt}")
            elif nxt not in seen:
                visit(nxt, stack + [nxt])
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node, [node])
    assert not cycles, cycles
    # The graph is real: the pipeline sits above both stages, and the wiring above it.
    assert {"jirei.extract", "jirei.classify"} <= graph["jirei.pipeline"]
    assert "jirei.pipeline" in graph["jirei.cli"]


def module_edges() -> dict[str, set[str]]:
    """Module → modules it imports, at module level or inside a function, as Python runs them:
    `from pkg import name` imports the submodule `pkg.name` when there is one, and importing a
    module from outside its package runs the package's `__init__` (and its parents') first."""
    files = source_files()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in files.items():
        for node, base in _imports(module, path):
            if isinstance(node, ast.ImportFrom):
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            else:
                targets = [base]
            for target in targets:
                if target not in files or target == module:
                    continue
                graph[module].add(target)
                parts = target.split(".")
                for k in range(2, len(parts)):
                    parent = ".".join(parts[:k])
                    if parent in files and not (module == parent or module.startswith(parent + ".")):
                        graph[module].add(parent)
    return graph


def test_no_module_cycle_hidden_anywhere():
    # a cycle through a function-level import runs only when the function does, and fails then
    # with a half-initialised module: none may exist (README, "Floors")
    graph = module_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strongly_connected(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongly_connected(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongly_connected(v)
    assert not cycles, cycles
    # the graph is real: the segmenter's package runs the outline and the CRF
    assert {"jirei.extract.segment.outline", "jirei.extract.segment.crf"} <= graph["jirei.extract.segment"]
