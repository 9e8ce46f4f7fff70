"""Importer for rosinality/stylegan2-pytorch `.pt` checkpoints (its model.py and train.py).

These are `torch.save` files: training checkpoints (`g`, `d`, `g_ema`, optimisers, `args`) or
converted official nets (`g_ema`, `latent_avg`). They are read with `torch.load(weights_only=True)`
with only `argparse.Namespace` added to torch's allow-list. The architecture is inferred from tensor
shapes (channels from the conv weights, never from `channel_multiplier`), and names are mapped to
ours. Rosinality has no conv clamping, so `conv_clamp` is None.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from typing import Any

import torch

from stylegan2.checkpoints.common import CheckpointContents, CheckpointError, NetworkWeights
from stylegan2.checkpoints.restricted import CORRUPT_DATA_ERRORS
from stylegan2.checkpoints.safe_unpickle import check_file, first_line, torch_refusal
from stylegan2.checkpoints.tensor_checks import (
    as_float_tensor,
    build_discriminator_config,
    build_generator_config,
    check_filter,
    jsonable,
    report_nonfinite,
    unexpected_content,
)
from stylegan2.checkpoints.torch_scan import scan_torch_file
from stylegan2.config import DiscriminatorConfig, channels_at

log = logging.getLogger(__name__)

RESAMPLE_FILTER = (1, 3, 3, 1)  # rosinality's blur_kernel default; verified against the buffers
_PREFERRED_BASES = (32768, 16384)
_LAYER_PARTS = {
    "conv.weight": "weight",
    "conv.modulation.weight": "affine.weight",
    "conv.modulation.bias": "affine.bias",
    "noise.weight": "noise_strength",
    "activate.bias": "bias",
}
_TORGB_PARTS = {
    "conv.weight": "weight",
    "conv.modulation.weight": "affine.weight",
    "conv.modulation.bias": "affine.bias",
    "bias": "bias",
}


def _load(path: str | os.PathLike[str]) -> Any:
    p = check_file(path)
    scan_torch_file(p)  # sizes against the file, before torch allocates anything
    try:
        with torch.serialization.safe_globals([argparse.Namespace]), warnings.catch_warnings():
            # torch warns about unusual pickle protocols before refusing them; we report instead.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise torch_refusal(exc, str(p)) from None
    except (*CORRUPT_DATA_ERRORS, AssertionError, OSError, zipfile.BadZipFile) as exc:
        raise CheckpointError(
            f"{p}: not a readable torch checkpoint (truncated or corrupt: "
            f"{type(exc).__name__}: {first_line(exc)})"
        ) from None


def channel_params(channels: Mapping[int, int]) -> tuple[int, int]:
    """(channel_base, channel_max) with min(channel_base // r, channel_max) == channels[r] for
    every r; standard bases are preferred when several fit."""
    top = max(channels.values())
    lo, hi = 1, float("inf")
    for r, c in channels.items():
        if c == top:
            lo = max(lo, c * r)
        else:
            lo, hi = max(lo, c * r), min(hi, (c + 1) * r - 1)
    candidates = [b for b in _PREFERRED_BASES if lo <= b <= hi]
    power = 1 << max(lo - 1, 0).bit_length()  # smallest power of two >= lo
    candidates += [power, lo] if power <= hi else [lo]
    for base in candidates:
        if base <= hi and all(channels_at(r, base, top) == c for r, c in channels.items()):
            return int(base), top
    listing = ", ".join(f"{r}: {c}" for r, c in sorted(channels.items()))
    raise CheckpointError(
        f"the per-resolution channel counts ({listing}) do not follow "
        "min(channel_base // r, channel_max) for any channel_base and channel_max"
    )


def _shape(sd: Mapping[str, Any], key: str, dims: int, label: str) -> tuple[int, ...]:
    t = sd.get(key)
    if not isinstance(t, torch.Tensor) or t.dim() != dims:
        raise CheckpointError(f"{label}: {key} is missing or not a {dims}-d tensor")
    return tuple(t.shape)


def _indices(sd: Mapping[str, Any], pattern: str) -> list[int]:
    found = sorted({int(m[1]) for k in sd if (m := re.fullmatch(pattern, k))})
    return found


def _generator_target(key: str, value: torch.Tensor) -> tuple[str, Any] | None:
    """Our name and value for one rosinality generator entry; ('', None) for dropped constants."""
    if m := re.fullmatch(r"style\.(\d+)\.(weight|bias)", key):
        return f"mapping.fc{int(m[1]) - 1}.{m[2]}", value
    if key == "input.input":
        return "synthesis.b4.const", value[0]
    if m := re.fullmatch(r"noises\.noise_(\d+)", key):
        j = int(m[1])
        res, conv = 2 ** ((j + 5) // 2), ("conv0" if j % 2 else "conv1")
        return f"synthesis.b{res}.{conv}.noise_const", value[0, 0]
    if m := re.fullmatch(r"(conv1|convs\.(\d+))\.(.+)", key):
        idx = -1 if m[2] is None else int(m[2])
        res, conv = (4, "conv1") if idx < 0 else (2 ** (idx // 2 + 3), f"conv{idx % 2}")
        if m[3] == "conv.blur.kernel" and idx >= 0 and idx % 2 == 0:
            check_filter(key, value, RESAMPLE_FILTER, gain=4.0)
            return "", None
        part = _LAYER_PARTS.get(m[3])
        if part is None:
            return None
        if part == "weight":
            value = value[0]
        elif part == "noise_strength":
            value = value.reshape([])
        return f"synthesis.b{res}.{conv}.{part}", value
    if m := re.fullmatch(r"(to_rgb1|to_rgbs\.(\d+))\.(.+)", key):
        res = 4 if m[2] is None else 2 ** (int(m[2]) + 3)
        if m[3] == "upsample.kernel" and m[2] is not None:
            check_filter(key, value, RESAMPLE_FILTER, gain=4.0)
            return "", None
        part = _TORGB_PARTS.get(m[3])
        if part is None:
            return None
        value = value[0] if part == "weight" else value.reshape(-1) if part == "bias" else value
        return f"synthesis.b{res}.torgb.{part}", value
    return None


def convert_generator(sd: Any, latent_avg: Any, label: str) -> tuple[NetworkWeights, bool]:
    """A rosinality Generator state dict -> our config and names; also whether w_avg is missing."""
    if not isinstance(sd, Mapping):
        raise CheckpointError(f"{label} is not a state dict")
    w_dim, z_dim = _shape(sd, "style.1.weight", 2, label)
    n_mlp = len(_indices(sd, r"style\.(\d+)\.weight"))
    log_size = len(_indices(sd, r"to_rgbs\.(\d+)\.conv\.weight")) + 2
    res = 2**log_size
    channels = {4: _shape(sd, "conv1.conv.weight", 5, label)[1]}
    for k in range(log_size - 2):
        channels[2 ** (k + 3)] = _shape(sd, f"convs.{2 * k}.conv.weight", 5, label)[1]
    img_channels = _shape(sd, "to_rgb1.conv.weight", 5, label)[1]
    base, cmax = channel_params(channels)
    cfg = build_generator_config(
        {"num_layers": n_mlp, "lr_multiplier": 0.01},
        {
            "channel_base": base,
            "channel_max": cmax,
            "conv_clamp": None,
            "architecture": "skip",
            "resample_filter": RESAMPLE_FILTER,
        },
        z_dim=z_dim,
        c_dim=0,
        w_dim=w_dim,
        img_resolution=res,
        img_channels=img_channels,
    )
    state: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, value in sd.items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{label}: {key} is a {type(value).__name__}, not a tensor")
        try:
            target = _generator_target(str(key), value)
        except (IndexError, RuntimeError) as exc:
            raise CheckpointError(f"{label}: {key} has an unexpected shape") from exc
        if target is None:
            unknown.append(str(key))
        elif target[0]:
            state[target[0]] = as_float_tensor(f"{label}.{key}", target[1])
    if unknown:
        raise CheckpointError(f"{label}: entries this reader does not understand: {unknown[:5]}")
    missing = latent_avg is None
    w_avg = torch.zeros(w_dim) if missing else as_float_tensor("latent_avg", latent_avg).flatten()
    if w_avg.shape != (w_dim,):
        raise CheckpointError(f"latent_avg has shape {tuple(w_avg.shape)}, expected ({w_dim},)")
    state["mapping.w_avg"] = w_avg
    _fill_missing_noise(state, cfg.resolutions, label)
    report_nonfinite(state, label)
    return NetworkWeights(cfg, state), missing


def _fill_missing_noise(state: dict[str, torch.Tensor], resolutions: list[int], label: str) -> None:
    """Early rosinality versions drew all noise at run time and saved no `noises.*` buffers.
    The constant noise maps are random draws anyway, so seeded ones stand in for them."""
    gen = torch.Generator().manual_seed(0)
    names = [(4, "conv1")] + [(r, c) for r in resolutions[1:] for c in ("conv0", "conv1")]
    made = []
    for res, conv in names:
        key = f"synthesis.b{res}.{conv}.noise_const"
        if key not in state:
            state[key] = torch.randn([res, res], generator=gen)
            made.append(key)
    if made:
        log.warning("%s: no stored noise maps; drew %d constant ones (seed 0)", label, len(made))


def _discriminator_target(key: str, value: torch.Tensor, res: int) -> tuple[str, Any] | None:
    if m := re.fullmatch(r"convs\.0\.([01])\.(weight|bias)", key):
        return f"b{res}.fromrgb.{m[2]}", value
    if m := re.fullmatch(r"convs\.(\d+)\.(conv1|conv2|skip)\.(\d)\.(weight|bias|kernel)", key):
        r = res >> (int(m[1]) - 1)
        if m[4] == "kernel":
            check_filter(key, value, RESAMPLE_FILTER)
            return "", None
        dst = {"conv1": "conv0", "conv2": "conv1", "skip": "skip"}[m[2]]
        return f"b{r}.{dst}.{m[4]}", value
    if m := re.fullmatch(r"final_conv\.[01]\.(weight|bias)", key):
        return f"b4.conv.{m[1]}", value
    if m := re.fullmatch(r"final_linear\.([01])\.(weight|bias)", key):
        return f"b4.{'fc' if m[1] == '0' else 'out'}.{m[2]}", value
    return None


def convert_discriminator(sd: Any, label: str) -> NetworkWeights:
    if not isinstance(sd, Mapping):
        raise CheckpointError(f"{label} is not a state dict")
    blocks = _indices(sd, r"convs\.(\d+)\.conv1\.0\.weight")
    res = 2 ** (len(blocks) + 2)
    c_top, img_channels = _shape(sd, "convs.0.0.weight", 4, label)[:2]
    channels = {res: c_top, 4: _shape(sd, "final_conv.0.weight", 4, label)[0]}
    for j in blocks:
        channels[res >> (j - 1)] = _shape(sd, f"convs.{j}.conv1.0.weight", 4, label)[0]
    base, cmax = channel_params(channels)
    cfg: DiscriminatorConfig = build_discriminator_config(
        {},
        c_dim=0,
        img_resolution=res,
        img_channels=img_channels,
        architecture="resnet",
        channel_base=base,
        channel_max=cmax,
        conv_clamp=None,
        resample_filter=RESAMPLE_FILTER,
        mbstd_group_size=4,
        mbstd_num_channels=1,
    )
    state: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, value in sd.items():
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{label}: {key} is a {type(value).__name__}, not a tensor")
        target = _discriminator_target(str(key), value, res)
        if target is None:
            unknown.append(str(key))
        elif target[0]:
            state[target[0]] = as_float_tensor(f"{label}.{key}", target[1])
    if unknown:
        raise CheckpointError(f"{label}: entries this reader does not understand: {unknown[:5]}")
    report_nonfinite(state, label)
    return NetworkWeights(cfg, state)


def _is_generator_state(obj: Any) -> bool:
    return isinstance(obj, Mapping) and {"style.1.weight", "input.input", "conv1.conv.weight"} <= {
        str(k) for k in obj
    }


def read_rosinality(path: str | os.PathLike[str]) -> CheckpointContents:
    """Read a rosinality/stylegan2-pytorch checkpoint (or a bare generator state dict)."""
    ckpt = _load(path)
    if _is_generator_state(ckpt):
        ckpt = {"g_ema": ckpt}
    if not isinstance(ckpt, Mapping) or "g_ema" not in ckpt:
        raise CheckpointError(
            f"{path} is a torch file but not a rosinality StyleGAN2 checkpoint "
            "(expected a dict with 'g_ema', or a rosinality generator state dict)"
        )
    latent_avg = ckpt.get("latent_avg")
    with unexpected_content(path):
        g_ema, missing = convert_generator(ckpt["g_ema"], latent_avg, "g_ema")
        g = convert_generator(ckpt["g"], latent_avg, "g")[0] if "g" in ckpt else None
        d = convert_discriminator(ckpt["d"], "d") if "d" in ckpt else None
    args = ckpt.get("args")
    meta: dict[str, Any] = {"keys": sorted(str(k) for k in ckpt)}
    if isinstance(args, argparse.Namespace):
        meta["args"] = jsonable(vars(args))
    log.info("read %s (rosinality checkpoint)%s", path, ", no latent_avg" if missing else "")
    return CheckpointContents(
        format="rosinality-pt", G_ema=g_ema, G=g, D=d, w_avg_missing=missing, metadata=meta
    )
