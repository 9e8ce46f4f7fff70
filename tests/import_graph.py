"""The project's import graph, read from the source (every import statement, at module top or inside
a function), and the layer contract it must keep. tests/test_layering.py checks the real tree and
shows that a deliberate back edge fails.

Layers, lowest first: a module may import its own layer and the layers below it, never above.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("assets", "stylegan2", "training", "commands", "explorer")
#: the library's analyses and tools: built on the core (networks, render, checkpoints, ops, I/O)
ANALYSES = tuple(
    f"stylegan2.{m}"
    for m in (
        "analysis", "bench", "blobs", "compare", "detect", "directions", "lpips", "metrics",
        "paths", "ppl", "projection", "video",
    )
)  # fmt: skip
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("assets", ("assets",)),
    ("library core", ("stylegan2",)),
    ("library analyses", ANALYSES),
    ("library commands", ("stylegan2.cli",)),
    ("training", ("training",)),
    ("commands", ("commands",)),
    ("explorer", ("explorer",)),
)
QT = ("PySide6", "pyqtgraph", "shiboken6")


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    line: int

    def __str__(self) -> str:
        return f"{self.src}:{self.line} imports {self.dst}"


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the project's packages under `root`."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def edges(root: Path) -> list[Edge]:
    """Every import of one module by another (project modules and Qt), with its line."""
    mods = modules(root)
    found = []
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, base] if base else up)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names
                ]
            else:
                continue
            for target in targets:
                if target.split(".")[0] in QT:
                    found.append(Edge(name, target.split(".")[0], node.lineno))
                    continue
                while target and target not in mods:  # `pkg.mod.func` -> `pkg.mod`
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.append(Edge(name, target, node.lineno))
    return found


def layer_of(module: str) -> int:
    """Index in LAYERS of the most specific prefix that holds `module`."""
    best, best_len = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    return best


def violations(root: Path) -> list[str]:
    """Back edges (a lower layer importing a higher one) and Qt outside the explorer."""
    out = []
    for e in edges(root):
        if e.dst in QT:
            if layer_of(e.src) != len(LAYERS) - 1:
                out.append(f"{e}: Qt belongs to the explorer only")
            continue
        src, dst = layer_of(e.src), layer_of(e.dst)
        if dst > src:
            out.append(f"{e}: {LAYERS[src][0]} may not import {LAYERS[dst][0]}")
    return out


def cycles(root: Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges(root):
        if e.dst not in QT:
            graph[e.src].add(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(modules(root)):
        if v not in index:
            visit(v)
    return found
