"""Tiny generated image data for trainer tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def make_images(folder, n: int = 24, res: int = 16, seed: int = 0) -> None:
    rs = np.random.RandomState(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.zeros((res, res, 3), np.uint8) + rs.randint(0, 255, 3).astype(np.uint8)
        x, y = rs.randint(0, res - 6, 2)
        img[y : y + 6, x : x + 6] = rs.randint(0, 255, 3)
        Image.fromarray(img).save(folder / f"{i:03d}.png")


def tiny_opts(data, out, **kw):
    """TrainOptions of a tiny, fast run (16 px data, 16-channel nets, batch 4) on the CPU."""
    from training.options import TrainOptions

    base = dict(
        data=str(data),
        outdir=str(out),
        cfg="small",
        batch=4,
        kimg=1,
        tick_kimg=0.008,
        snap=1000,
        channel_max=16,
        map_layers=1,
        num_workers=0,
        device="cpu",
    )
    base.update(kw)
    return TrainOptions(**base)


@pytest.fixture
def tiny_data(tmp_path):
    folder = tmp_path / "data"
    make_images(folder)
    return folder
