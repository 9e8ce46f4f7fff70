"""Checkpoints: our safetensors format and safe importers for the files people already own.

`load_network(path)` sniffs the format (ours, NVIDIA stylegan2-ada-pytorch `.pkl`, TensorFlow
StyleGAN2 `.pkl`, rosinality `.pt`) and returns the generator. No file's stored code is ever run.
"""

from stylegan2.checkpoints.common import CheckpointContents, CheckpointError, NetworkWeights
from stylegan2.checkpoints.loader import (
    LoadedCheckpoint,
    build_network,
    load_checkpoint,
    load_network,
    read_checkpoint_any,
)
from stylegan2.checkpoints.native import save_checkpoint

__all__ = [
    "CheckpointContents",
    "CheckpointError",
    "LoadedCheckpoint",
    "NetworkWeights",
    "build_network",
    "load_checkpoint",
    "load_network",
    "read_checkpoint_any",
    "save_checkpoint",
]
