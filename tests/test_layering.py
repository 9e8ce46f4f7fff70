"""The layer contract, checked on the import graph read from the source (tests/import_graph.py):
assets < library core < library analyses < library commands < training < commands < explorer, Qt
only in the explorer, and no import cycles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_graph import cycles, layer_of, violations

ROOT = Path(__file__).resolve().parents[1]


def test_no_layer_imports_a_higher_one():
    assert violations(ROOT) == []


def test_no_import_cycles():
    # Function-local imports count too: a cycle hidden in a function is still a cycle.
    assert cycles(ROOT) == []


def test_layers_are_assigned_by_the_most_specific_prefix():
    assert layer_of("stylegan2.networks.layers") < layer_of("stylegan2.metrics.fid")
    assert layer_of("stylegan2.metrics.fid") < layer_of("stylegan2.cli.generate")
    assert layer_of("stylegan2.cli.generate") < layer_of("training.loop")
    assert layer_of("training.loop") < layer_of("commands.dataset") < layer_of("explorer.app")


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_deliberate_back_edge_fails(tmp_path):
    root = _tree(
        tmp_path,
        {
            "stylegan2/__init__.py": "",
            "stylegan2/render.py": "def f():\n    from training.loop import train\n",
            "stylegan2/ops.py": "import PySide6.QtCore\n",
            "training/__init__.py": "",
            "training/loop.py": "from stylegan2 import render\n",
        },
    )
    found = violations(root)
    assert any("stylegan2.render:2 imports training.loop" in v for v in found), found
    assert any("stylegan2.ops:1 imports PySide6" in v for v in found), found
    assert len(found) == 2  # training importing the library is the right direction


def test_a_cycle_is_found_through_relative_and_local_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "explorer/__init__.py": "",
            "explorer/a.py": "from . import b\n",
            "explorer/b.py": "def g():\n    from explorer.c import h\n",
            "explorer/c.py": "from explorer.a import x\n",
        },
    )
    assert cycles(root) == [["explorer.a", "explorer.b", "explorer.c"]]


@pytest.mark.slow
def test_library_and_trainer_load_no_qt():
    # The graph test reads the source; this one imports, so a dependency that pulls Qt in is caught.
    code = (
        "import sys, stylegan2.render, stylegan2.cli.main, training.loop, commands.main\n"
        "qt = ('PySide6', 'pyqtgraph', 'shiboken6')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in qt]\n"
        "sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
