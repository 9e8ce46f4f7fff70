"""What a training run leaves in its folder as it goes: sample grids of G_ema, the resolution
usage of the stats rows, snapshots (with their cards, pruned to `--keep`) and the metrics at
snapshots. The loop decides when (training.progress); this module writes."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylegan2.analysis import sampled_resolution_usage
from stylegan2.io import ImageIOError, save_png
from stylegan2.networks import Generator
from stylegan2.render import to_uint8
from training.options import TrainOptions
from training.snapshot import numbered_path, prune_snapshots, save_snapshot, snapshot_path

log = logging.getLogger("training")


def save_grid(G: Generator, z: torch.Tensor, path: Path) -> None:
    """A square grid of G's images, written atomically (a kill mid-write leaves the last grid).
    A conditional G draws the classes in turn: image i has class i mod c_dim."""
    c = None
    if G.c_dim:
        c = torch.nn.functional.one_hot(torch.arange(len(z)) % G.c_dim, G.c_dim).float()
        c = c.to(z.device)
    with torch.no_grad():
        images = np.concatenate(
            [
                to_uint8(G(zz, None if c is None else c[i : i + 16], noise_mode="const"))
                for i, zz in zip(range(0, len(z), 16), z.split(16), strict=True)
            ]
        )
    n = int(math.sqrt(len(images)))
    h, w, c = images.shape[1:]
    grid = images[: n * n].reshape(n, n, h, w, c).transpose(0, 2, 1, 3, 4).reshape(n * h, n * w, c)
    save_png(grid, path)


def grid_path(run_dir: Path, nimg: int, initial: bool = False) -> Path:
    """fakes<kimg>.png as NVIDIA names them, fakes_init.png for the untrained generator; a
    second grid within one kimg (short ticks, a snapshot by wall time) is named to the image, as
    snapshots are, instead of replacing it."""
    if initial:
        return run_dir / "fakes_init.png"
    return numbered_path(run_dir, "fakes", nimg, ".png")


class RunRecords:
    """The main process's writer into one run folder."""

    def __init__(self, opts: TrainOptions, run_dir: Path, device: torch.device) -> None:
        self.opts, self.run_dir, self.device = opts, run_dir, device

    def grid(self, G_ema: Generator, path: Path) -> None:
        """G_ema's images of 64 fixed latents; a failed write (a full disk) is logged, and
        training goes on."""
        z = torch.from_numpy(np.random.RandomState(self.opts.seed).randn(64, G_ema.z_dim))
        try:
            save_grid(G_ema, z.float().to(self.device), path)
        except ImageIOError as exc:
            log.warning("sample grid not written: %s", exc)

    def usage(self, G_ema: Generator) -> dict[int, float]:
        """Each resolution's share of the image, over 64 fixed latents."""
        return sampled_resolution_usage(G_ema, 64, self.opts.seed)

    def snapshot(
        self,
        nets: tuple[torch.nn.Module, torch.nn.Module, Generator],
        optimizers: dict[str, torch.optim.Optimizer],
        counters: dict[str, Any],
        pl_mean: torch.Tensor,
        card: dict[str, Any],
        why: str | None = None,
        evaluate: bool = True,
    ) -> Path:
        """Write a snapshot of (G, D, G_ema), prune to --keep, then the metrics when asked."""
        G, D, G_ema = nets
        path = snapshot_path(self.run_dir, int(counters["cur_nimg"]))
        kimg = counters["cur_nimg"] / 1000
        card = {"trained_with": "stylegan2-explorer", "kimg": kimg, **card}
        save_snapshot(path, G, D, G_ema, optimizers, dict(counters), pl_mean, card=card)
        log.info("snapshot %s%s", path.name, f" ({why})" if why else "")
        if self.opts.keep:
            for old in prune_snapshots(self.run_dir, self.opts.keep):
                log.info("removed %s (--keep %d)", old.name, self.opts.keep)
        if self.opts.metrics and evaluate:
            self.evaluate(G_ema, path, kimg)
        return path

    def evaluate(self, G_ema: Generator, snapshot: Path, kimg: float) -> None:
        """Metrics of G_ema at this snapshot, one line per metric in metric-<name>.jsonl."""
        from training.metrics import check_metrics, evaluate

        opts = self.opts
        specs = check_metrics(opts.metrics, opts.inception, opts.vgg16)
        results = evaluate(G_ema, opts.data, specs, opts.inception, opts.vgg16)
        base = {"snapshot": snapshot.name, "kimg": kimg}
        for spec in specs:
            mine = {k: v for k, v in results.items() if k.startswith(spec.name)}
            with open(self.run_dir / f"metric-{spec.name}.jsonl", "a") as f:
                f.write(json.dumps({**base, **mine}) + "\n")
        log.info("%s", "  ".join(f"{k} {v:.4g}" for k, v in results.items()))
