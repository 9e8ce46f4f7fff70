"""What every checkpoint reader returns, and the one error type they raise.

Importers turn a file into plain data: a config dataclass plus a state dict whose keys are our
canonical parameter names (stylegan2-ada-pytorch's `named_parameters()` / persistent buffers,
minus the constant `resample_filter` buffers, which importers verify and drop). Nothing here builds
a network; `stylegan2.checkpoints.load_network` does that once the data is complete and checked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from stylegan2.config import DiscriminatorConfig, GeneratorConfig

#: Files larger than this are refused before they are parsed (the largest official pickle,
#: stylegan2-ffhq-config-f with G, D and Gs, is about 380 MB).
MAX_CHECKPOINT_BYTES = 4 * 1024**3


class CheckpointError(Exception):
    """A checkpoint that cannot be loaded. The message is one line meant for the user."""


def named_path(path: str | os.PathLike[str]) -> Path:
    """`path` as a Path; CheckpointError for an empty one, which Path would turn into "." and
    every later check would report as a folder."""
    if not os.fspath(path):
        raise CheckpointError("no file named: the path is empty")
    return Path(path)


@dataclass
class NetworkWeights:
    """An architecture and the tensors that fill it (canonical names, float tensors, CPU)."""

    config: GeneratorConfig | DiscriminatorConfig
    state_dict: dict[str, torch.Tensor]


#: each checkpoint format's name (CheckpointContents.format) in words, for people
FORMAT_LABELS = {
    "native": "safetensors, this program's own format",
    "ada-pkl": "NVIDIA stylegan2-ada-pytorch pickle",
    "tf-pkl": "NVIDIA TensorFlow StyleGAN2 pickle",
    "rosinality-pt": "rosinality stylegan2-pytorch .pt",
}


def format_label(name: str) -> str:
    """A checkpoint format in words (the name itself for one this table does not know)."""
    return FORMAT_LABELS.get(name, name)


@dataclass
class CheckpointContents:
    """Everything a checkpoint file holds that we understand.

    `format` is one of: 'native', 'ada-pkl', 'tf-pkl', 'rosinality-pt'.
    `G_ema` is what the explorer and `generate` use; `G`/`D` are present in training snapshots.
    `w_avg_missing` is set when the file carries no w average (rosinality training checkpoints);
    the loader then estimates it from mapping outputs the way rosinality's `mean_latent` does.
    """

    format: str
    G_ema: NetworkWeights
    G: NetworkWeights | None = None
    D: NetworkWeights | None = None
    w_avg_missing: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
