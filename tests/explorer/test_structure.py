"""The explorer's shape, read from its source (no Qt needed): imports at module top and without
cycles, the networks reached only through the rendering API, attributes declared where their
class is built, and a main window that only assembles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPLORER = ROOT / "explorer"
#: function-local imports kept on purpose: app.main answers bad arguments before Qt and torch load
LOCAL_IMPORTS_ALLOWED = {("explorer.app", "main")}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for f in sorted(EXPLORER.rglob("*.py")):
        parts = f.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(f.read_text(), str(f))
    return out


def _top_imports(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def import_graph() -> dict[str, set[str]]:
    """explorer module -> the explorer modules it imports at its top."""
    modules = _modules()
    return {m: {n for n in _top_imports(t) if n in modules and n != m} for m, t in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_no_import_cycle_in_the_explorer():
    graph = import_graph()
    assert find_cycle(graph) is None
    # The check sees a back edge: the window's assembly imported by a panel would be one.
    graph["explorer.panels.latent"] = graph["explorer.panels.latent"] | {"explorer.main_window"}
    assert find_cycle(graph) is not None


def test_imports_sit_at_module_top():
    found = []
    for name, tree in _modules().items():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (name, fn.name) in LOCAL_IMPORTS_ALLOWED:
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    found.append(f"{name}.{fn.name}:{node.lineno}")
    assert found == []


def test_networks_only_through_the_rendering_api():
    bad = sorted(
        f"{name} imports {n}"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for n in (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
        )
        if n.startswith(("stylegan2.networks", "stylegan2.ops", "stylegan2.cli"))
    )
    assert bad == []


#: Generator internals: the explorer hands a network (`renderer.G`) to library functions and
#: reads its description (`layers()`, `device`), but never calls into its parts or reads its
#: configuration itself.
NETWORK_PARTS = {"mapping", "synthesis", "cfg", "state_dict", "named_parameters", "parameters"}
DESCRIPTION = {"layers", "device"}


def _is_network(node: ast.AST) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return name in {"G", "G_ema"}


def test_no_network_internals_are_touched():
    bad = sorted(
        f"{name}:{node.lineno} {ast.unparse(node)}"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and (
            node.attr in NETWORK_PARTS or (_is_network(node.value) and node.attr not in DESCRIPTION)
        )
    )
    assert bad == []


def test_tab_names_in_the_code_are_tabs():
    from explorer.tab_names import TAB_NAMES

    named = {
        (name, node.lineno, node.args[0].value)
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"is_current", "select", "index_of"}
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert named and all(tab in TAB_NAMES for _n, _l, tab in named), named


def test_attributes_are_declared_in_init():
    """An attribute a method sets on its object is one its __init__ (or class body) declares, so
    that what other files read is visible where the class is built."""

    def assigned(fn: ast.AST) -> set[str]:
        out = set()
        for n in ast.walk(fn):
            targets = (
                n.targets
                if isinstance(n, ast.Assign)
                else [n.target]
                if isinstance(n, ast.AnnAssign | ast.AugAssign)
                else []
            )
            for t in targets:
                for e in ast.walk(t):
                    if (
                        isinstance(e, ast.Attribute)
                        and isinstance(e.value, ast.Name)
                        and e.value.id == "self"
                    ):
                        out.add(e.attr)
        return out

    undeclared = []
    for name, tree in _modules().items():
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            declared = set()
            for node in cls.body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    declared.add(node.target.id)
                elif isinstance(node, ast.Assign):
                    declared |= {t.id for t in node.targets if isinstance(t, ast.Name)}
                elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
                    declared |= assigned(node)
            for node in cls.body:
                if isinstance(node, ast.FunctionDef) and node.name != "__init__":
                    for attr in sorted(assigned(node) - declared):
                        undeclared.append(f"{name}.{cls.name}.{node.name} sets {attr}")
    assert undeclared == []


def test_the_main_window_only_assembles():
    text = (EXPLORER / "main_window.py").read_text()
    assert len(text.splitlines()) < 250
    tree = ast.parse(text)
    window = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MainWindow")
    assert [ast.unparse(b) for b in window.bases] == ["QMainWindow"]  # no mixins
