"""Latent directions from the main window: SeFa / PCA as worker jobs (PCA cached per network),
and saving and loading direction files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtWidgets import QFileDialog


class DirectionsMixin:
    """Methods of MainWindow for the Directions tab."""

    def compute_directions(self, method: str, lo: int, hi: int, top: int) -> None:
        from stylegan2.directions import pca, sefa

        if method == "sefa":
            self.worker.run_job("directions", lambda r: sefa(r.G, (lo, hi), top))
            return
        # PCA of W depends only on the network: sample once per network, re-range for free.
        key = (self.network_path, top)
        cached = self._pca_cache.get(key)
        if cached is not None:
            self.directions.set_directions(dataclasses.replace(cached, layers=(lo, hi)))
            return
        worker = self.worker
        n = 100_000

        def run(renderer):
            done = [0]

            def tick(k: int) -> None:
                done[0] += k
                worker.job_progress.emit("directions", done[0], n)
                worker.serve_pending()

            d = pca(renderer.G, n, (lo, hi), top, progress=tick)
            self._pca_cache[key] = d
            return d

        self.worker.run_job("directions", run)

    def save_one_direction_dialog(self, k: int) -> None:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(self, "Name the direction", "Name:", text=f"direction {k}")
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save direction", f"{name}.npz", "*.npz")
        path = self.with_suffix_confirmed(path, ".npz")
        if path:
            self.write_or_report(path, self.directions.single(k, name).save)

    def load_directions_dialog(self) -> None:
        from stylegan2.directions import Directions

        path, _ = QFileDialog.getOpenFileName(self, "Load directions", "", "Directions (*.npz)")
        if not path:
            return
        try:
            d = Directions.load(path)
            if self.network_info and (
                d.vectors.shape[1] != self.network_info["w_dim"]
                or d.layers[1] >= self.network_info["num_ws"]
            ):
                raise ValueError("made for a different network")
        except ValueError as exc:
            self.statusBar().showMessage(f"cannot use {Path(path).name}: {exc}", 8000)
            return
        self.directions.set_directions(d)

    def save_directions_dialog(self) -> None:
        if self.directions.directions is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save directions", "directions.npz", "*.npz")
        path = self.with_suffix_confirmed(path, ".npz")
        if path:
            self.write_or_report(path, self.directions.directions.save)
