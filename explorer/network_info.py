"""What the explorer knows of an open network, as one typed record (no Qt): built by the worker
when a checkpoint loads, read by every controller and panel that needs a shape or a name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from stylegan2.checkpoints import LoadedCheckpoint
from stylegan2.checkpoints.common import format_label
from stylegan2.downloads import resolve_cache_dir
from stylegan2.info import describe
from stylegan2.model_card import top_share
from stylegan2.render import LayerInfo


@dataclass(frozen=True)
class NetworkInfo:
    path: str
    format: str  # the checkpoint format, e.g. 'native' or 'stylegan2-ada-pytorch'
    resolution: int
    img_channels: int
    num_ws: int
    w_dim: int
    c_dim: int
    architecture: str  # 'orig' | 'skip' | 'resnet'
    normalization: str  # 'demod' | 'adain'
    device: str
    layers: tuple[LayerInfo, ...]
    card: dict | None = None  # the model card, when the file carries one
    # everything `stylegan2 info` says of it but the card: dims, channels, parameters, ...
    facts: dict = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, ckpt: LoadedCheckpoint, path: str) -> NetworkInfo:
        d = describe(ckpt)
        return cls(
            path=path,
            format=d["format"],
            resolution=d["resolution"],
            img_channels=d["img_channels"],
            num_ws=d["num_ws"],
            w_dim=d["w_dim"],
            c_dim=d["c_dim"],
            architecture=d["architecture"],
            normalization=d["normalization"],
            device=str(ckpt.G_ema.device),
            layers=tuple(ckpt.G_ema.layers()),
            card=d.pop("card", None),
            facts=d,
        )

    @property
    def name(self) -> str:
        return file_label(self.path)

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    def summary(self) -> str:
        """The status bar's line for this network."""
        return (
            f"{self.name} — {format_label(self.format)}, {self.resolution} px, {self.num_ws} ws, "
            f"{self.normalization}, {self.architecture}"
        )

    def layer_resolution(self, name: str) -> int | None:
        return next((x.resolution for x in self.layers if x.name == name), None)

    def top_share(self) -> float | None:
        """From the model card's resolution usage: the share of the image its top resolution
        makes (None without a card that says)."""
        return top_share(self.card, self.resolution)


def file_label(path: str) -> str:
    """A file's name; a download's as published (without the cache's URL-hash prefix)."""
    p = Path(path)
    if p.parent == resolve_cache_dir() and re.match(r"[0-9a-f]{12}-.", p.name):
        return p.name[13:]
    return p.name
