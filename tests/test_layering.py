"""House rule: the library and the trainer never import Qt (only explorer/ may)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import stylegan2, stylegan2.networks, stylegan2.checkpoints, stylegan2.render
import stylegan2.bench, stylegan2.cli.main, stylegan2.analysis
import training.loop, training.cli
qt = ("PySide6", "pyqtgraph", "shiboken6")
bad = [m for m in sys.modules if m.split(".")[0] in qt]
print(bad)
sys.exit(1 if bad else 0)
"""


def test_library_imports_no_qt():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
