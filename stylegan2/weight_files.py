"""Reading detector weight files the user supplies (VGG16 for LPIPS and precision/recall,
Inception for FID) as plain tensors, never running code stored in them: a TorchScript archive
is read as data (stylegan2.torchscript), anything else must be a plain state dict that loads with
`weights_only`."""

from __future__ import annotations

import zipfile
from pathlib import Path

import torch

from stylegan2.checkpoints.common import CheckpointError
from stylegan2.checkpoints.torch_scan import scan_torch_file
from stylegan2.downloads import refetch_hint
from stylegan2.input_files import file_problem


def read_weight_file(path: str | Path, what: str) -> tuple[str, dict[str, torch.Tensor]]:
    """('torchscript' | 'state_dict', name -> tensor). `what` names the expected contents in
    the one-line ValueError raised for a missing, foreign or damaged file (with how to fetch it
    again when it is a cached download)."""
    try:
        return _read_weight_file(Path(path), what)
    except ValueError as exc:
        hint = refetch_hint(path)
        if hint:
            raise ValueError(f"{exc}{hint}") from None
        raise


def _read_weight_file(path: Path, what: str) -> tuple[str, dict[str, torch.Tensor]]:
    problem = file_problem(path)
    if problem:
        raise ValueError(f"{path}: {problem}")
    if zipfile.is_zipfile(path):  # torch.save files are zips too: only archives with code/
        from stylegan2.torchscript import read_torchscript_tensors

        try:
            return "torchscript", read_torchscript_tensors(path)
        except ValueError as exc:
            if "not a TorchScript" not in str(exc):
                raise ValueError(f"{path}: {exc}") from None
    try:
        scan_torch_file(path)  # sizes against the file, before torch allocates anything
    except CheckpointError as exc:
        raise ValueError(f"{path}: not {what} ({exc})") from None
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign files
        raise ValueError(f"{path}: not {what} ({type(exc).__name__})") from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"{path}: not {what}")
    return "state_dict", {k.removeprefix("module."): v for k, v in sd.items()}
