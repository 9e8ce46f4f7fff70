"""Our own checkpoint format: one `.safetensors` file whose header metadata holds the JSON configs
and the model card.

Tensors are stored as `G_ema.<name>`, `G.<name>` and `D.<name>` under the canonical names, so a
file can hold just the generator people use or a complete training snapshot. Loading runs no code:
safetensors is a plain header plus raw little-endian buffers.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from stylegan2.checkpoints.budget import loads_bounded
from stylegan2.checkpoints.common import (
    MAX_CHECKPOINT_BYTES,
    CheckpointContents,
    CheckpointError,
    NetworkWeights,
)
from stylegan2.config import ConfigError, DiscriminatorConfig, GeneratorConfig
from stylegan2.input_files import utf8_name
from stylegan2.safe_writes import atomic_path, current_umask, remove_stale_temps

FORMAT_NAME = "stylegan2-explorer"
FORMAT_VERSION = 1
_ROLES = ("G_ema", "G", "D")


#: a safetensors header is a JSON table of tensor names; ours hold a few hundred entries
MAX_HEADER_BYTES = 100 * 1024**2


def read_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file, read with bounds: a regular file only (a FIFO
    would block), a length that fits the file, a nesting limit (no RecursionError)."""
    if not path.is_file():
        raise CheckpointError(f"{path} is not a regular file (a pipe or a device?)")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: damaged checkpoint (shorter than a header)")
        (n,) = struct.unpack("<Q", head)
        if n > min(MAX_HEADER_BYTES, size - 8):
            raise CheckpointError(f"{path}: damaged checkpoint (a header longer than the file)")
        try:
            header = loads_bounded(f.read(n), f"{path}: the header")
        except ValueError as exc:  # (also UnicodeDecodeError) another program's broken file
            reason = _first_line(exc)
            raise CheckpointError(f"{path}: damaged checkpoint (the header: {reason})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: damaged checkpoint (the header is not a JSON object)")
    return header


def is_native(path: str | Path) -> bool:
    """True when the file is a safetensors file written by `save_checkpoint`."""
    try:
        meta = read_header(Path(path)).get("__metadata__", {})
    except (OSError, ValueError, UnicodeDecodeError, CheckpointError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT_NAME


def save_checkpoint(
    path: str | Path,
    G_ema: torch.nn.Module,
    G: torch.nn.Module | None = None,
    D: torch.nn.Module | None = None,
    card: dict[str, Any] | None = None,
    dtype: torch.dtype | None = None,
    extra_metadata: dict[str, Any] | None = None,
    extra_tensors: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write networks (each with a `.cfg` config) to `path`, atomically.

    dtype=torch.float16 halves the file for distribution; loading converts back to float32.
    extra_tensors are stored under `state.<name>` (training state: optimizer moments, RNG).
    """
    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, str] = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION)}
    for role, net in (("G_ema", G_ema), ("G", G), ("D", D)):
        if net is None:
            continue
        meta[f"{role}_config"] = json.dumps(net.cfg.to_dict())
        for name, t in net.state_dict().items():
            t = t.detach().cpu()
            if dtype is not None and t.is_floating_point():
                t = _narrowed(t, dtype, f"{role}.{name}")
            tensors[f"{role}.{name}"] = t.clone(memory_format=torch.contiguous_format)
    for name, t in (extra_tensors or {}).items():
        tensors[f"state.{name}"] = t.detach().cpu().clone(memory_format=torch.contiguous_format)
    meta["card"] = json.dumps(card or {})
    meta["extra"] = json.dumps(extra_metadata or {})
    remove_stale_temps(path)  # a write of this file that a kill stopped half-way
    try:
        with atomic_path(path, in_place=False) as tmp:
            save_file(tensors, str(tmp), metadata=meta)
            # safetensors writes through a private temp file (mode 0600): give the file the
            # permissions any new file gets, or shipped models are unreadable to other users.
            os.chmod(tmp, 0o666 & ~current_umask())
    except (OSError, SafetensorError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CheckpointError(f"cannot write {path}: {reason}") from None
    return path


def _narrowed(t: torch.Tensor, dtype: torch.dtype, name: str) -> torch.Tensor:
    """`t` as `dtype`, refused when a finite weight would become infinite (float16 ends at
    65504): the file would hold a network that no longer works, and `info` refuses it."""
    out = t.to(dtype)
    if out.is_floating_point() and torch.isinf(out).any():
        overflow = torch.isinf(out) & torch.isfinite(t)
        if overflow.any():
            peak = float(t[overflow].abs().max())
            raise CheckpointError(
                f"{name} holds weights up to {peak:.4g}, beyond {dtype} "
                f"(largest {torch.finfo(dtype).max:.6g}): not written; keep float32"
            )
    return out


def read_native(path: str | Path) -> CheckpointContents:
    path = Path(path)
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path}: file is larger than the {MAX_CHECKPOINT_BYTES} byte limit")
    try:
        meta = read_header(path).get("__metadata__", {})
        if not isinstance(meta, dict):
            raise ValueError("the metadata is not a JSON object")
        with utf8_name(path) as name:
            tensors = load_file(name, device="cpu")
    except (SafetensorError, OSError, ValueError, struct.error) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint ({_first_line(exc)})") from None
    try:
        version = int(meta.get("format_version", "0"))
    except (TypeError, ValueError):
        raise CheckpointError(
            f"{path}: damaged checkpoint (format_version {meta.get('format_version')!r})"
        ) from None
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: written by a newer version (format {version}); please update this program"
        )
    parts: dict[str, NetworkWeights] = {}
    for role in _ROLES:
        key = f"{role}_config"
        if key not in meta:
            continue
        try:
            cfg_dict = loads_bounded(meta[key], f"{path}: the {role} config")
            if not isinstance(cfg_dict, dict):
                raise ValueError("not a JSON object")
            cfg = (DiscriminatorConfig if role == "D" else GeneratorConfig).from_dict(cfg_dict)
        except (ValueError, TypeError, ConfigError) as exc:
            raise CheckpointError(f"{path}: bad {role} config ({_first_line(exc)})") from None
        prefix = role + "."
        sd = {k[len(prefix) :]: _to_float32(v) for k, v in tensors.items() if k.startswith(prefix)}
        parts[role] = NetworkWeights(cfg, sd)
    if "G_ema" not in parts:
        raise CheckpointError(f"{path}: the checkpoint holds no generator (G_ema)")
    return CheckpointContents(
        format="native",
        G_ema=parts["G_ema"],
        G=parts.get("G"),
        D=parts.get("D"),
        metadata={
            "card": _card(path, meta.get("card", "{}")),
            "extra": _json_object(path, "extra", meta.get("extra", "{}")),
            "state_tensors": {k[6:]: v for k, v in tensors.items() if k.startswith("state.")},
        },
    )


def _json_object(path: Path, key: str, text: str) -> dict:
    try:
        value = loads_bounded(text, f"{path}: the {key} metadata")
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: damaged {key} metadata ({_first_line(exc)})") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: damaged {key} metadata (not a JSON object)")
    return value


def _card(path: Path, text: str) -> dict:
    """The model card is documentation only: a damaged one is reported, not fatal."""
    try:
        return _json_object(path, "card", text)
    except CheckpointError as exc:
        return {"damaged_card": str(exc)}


def _to_float32(t: torch.Tensor) -> torch.Tensor:
    return t.float() if t.is_floating_point() and t.dtype != torch.float32 else t


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
