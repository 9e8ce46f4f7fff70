"""Latent directions: SeFa / PCA as worker jobs (PCA sampled once per network and top k, then
re-ranged for free), and saving and loading direction files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from explorer.context import Context
from explorer.panels.directions import DirectionsPanel
from explorer.worker import Job
from stylegan2.directions import Directions, pca, sefa

PCA_SAMPLES = 100_000


def named_directions_path(network_path: str) -> Path | None:
    """`<name>-directions.npz` beside a local network file, if there is one."""
    p = Path(network_path)
    candidate = p.with_name(f"{p.stem}-directions.npz")
    return candidate if p.suffix and candidate.is_file() else None


class DirectionsController:
    def __init__(self, ctx: Context, panel: DirectionsPanel) -> None:
        self.ctx = ctx
        self.panel = panel
        self.pca_cache: dict[tuple[str, int], Directions] = {}  # by (network path, top k)
        panel.compute_requested.connect(self.compute)
        panel.load_requested.connect(self.load_dialog)
        panel.save_requested.connect(self.save_dialog)
        panel.save_one_requested.connect(self.save_one_dialog)

    def compute(self, method: str, lo: int, hi: int, top: int) -> None:
        panel = self.panel
        if method == "sefa":
            self.ctx.run_job(
                "directions", lambda job: sefa(job.main.G, (lo, hi), top), panel.set_directions
            )
            return
        info = self.ctx.network
        key = (info.path if info else "", top)
        cached = self.pca_cache.get(key)
        if cached is not None:
            panel.set_directions(dataclasses.replace(cached, layers=(lo, hi)))
            return

        def run(job: Job) -> Directions:
            done = [0]

            def tick(k: int) -> None:
                done[0] += k
                job.progress(done[0])
                job.serve_pending()

            return pca(job.main.G, PCA_SAMPLES, (lo, hi), top, progress=tick)

        def finished(d: Directions) -> None:
            self.pca_cache[key] = d
            panel.set_directions(d)

        def progress(done: int) -> None:
            panel.info.setText(f"PCA: sampled {done:,} of {PCA_SAMPLES:,} w's")

        self.ctx.run_job("directions", run, finished, progress)

    def save_one_dialog(self, k: int) -> None:
        window = self.ctx.window
        name, ok = QInputDialog.getText(
            window, "Name the direction", "Name:", text=f"direction {k}"
        )
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(window, "Save direction", f"{name}.npz", "*.npz")
        path = self.ctx.with_suffix_confirmed(path, ".npz")
        if path:
            self.ctx.write_or_report(path, self.panel.single(k, name).save)

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.ctx.window, "Load directions", "", "Directions (*.npz)"
        )
        if path:
            self.load(path)

    def offer_named(self, network_path: str) -> None:
        """A network with a `<name>-directions.npz` beside it (the bundled models have one:
        directions named by what they change) starts with those directions as sliders."""
        path = named_directions_path(network_path)
        if path is not None and self.load(str(path)):
            self.ctx.status.say(f"named directions from {path.name}", 6000)

    def load(self, path: str) -> bool:
        info = self.ctx.network
        try:
            d = Directions.load(path)
            if info and (d.vectors.shape[1] != info.w_dim or d.layers[1] >= info.num_ws):
                raise ValueError("made for a different network")
        except ValueError as exc:
            self.ctx.status.say(f"cannot use {Path(path).name}: {exc}", 8000)
            return False
        self.panel.set_directions(d)
        return True

    def save_dialog(self) -> None:
        if self.panel.directions is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self.ctx.window, "Save directions", "directions.npz", "*.npz"
        )
        path = self.ctx.with_suffix_confirmed(path, ".npz")
        if path:
            self.ctx.write_or_report(path, self.panel.directions.save)
