"""Network configurations: frozen dataclasses that fully describe an architecture.

A config plus a state dict is a complete network. Configs serialise to plain JSON dicts
(`to_dict` / `from_dict`), which is what our checkpoint format stores and what importers produce.
Parameter names and defaults follow stylegan2-ada-pytorch, so its state dicts load unchanged.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Literal

Architecture = Literal["orig", "skip", "resnet"]
Normalization = Literal["demod", "adain"]

ARCHITECTURES = ("orig", "skip", "resnet")
NORMALIZATIONS = ("demod", "adain")
ACTIVATIONS = ("lrelu", "linear", "relu")


class ConfigError(ValueError):
    """An architecture description that cannot be built."""


# Upper bounds on what a config may ask for, checked before any module is built: a checkpoint's
# config is read from the file, and a number of layers or channels has no other limit. Each is
# far above any published StyleGAN2 (1024 px, 512 channels, 8 mapping layers).
MAX_RESOLUTION = 2048
MAX_CHANNELS = 4096  # channel_max, z_dim, w_dim, hidden and embedding widths
MAX_CHANNEL_BASE = 1 << 24
MAX_IMG_CHANNELS = 16
MAX_C_DIM = 100_000
#: Seeds everywhere (latents, noise, the command line, state files): NumPy's RandomState range.
MAX_SEED = 2**32 - 1
#: Truncation psi within +-MAX_PSI: far past any useful value (psi 2 is already abstract), near
#: enough that w_avg + psi * (w - w_avg) stays a float32 and the image is not all black.
MAX_PSI = 100.0
MAX_MAPPING_LAYERS = 32
MAX_FILTER_TAPS = 16
MAX_FILTER_TAP = 1 << 16


@dataclass(frozen=True)
class MappingConfig:
    """Mapping network z (+ c) -> w."""

    num_layers: int = 8  # number of fully connected layers
    embed_features: int | None = None  # label embedding size; None -> w_dim (0 when c_dim == 0)
    layer_features: int | None = None  # hidden width; None -> w_dim
    activation: str = "lrelu"
    lr_multiplier: float = 0.01  # equalized-lr multiplier of the FC layers
    w_avg_beta: float | None = 0.995  # decay of the tracked w average; None disables tracking


@dataclass(frozen=True)
class SynthesisConfig:
    """Synthesis network ws -> img."""

    channel_base: int = 32768  # channels at resolution r are min(channel_base // r, channel_max)
    channel_max: int = 512
    num_fp16_res: int = 0  # the highest N resolutions run in float16 on CUDA
    conv_clamp: float | None = None  # clamp conv outputs to +-conv_clamp (ada trains with 256)
    architecture: Architecture = "skip"
    normalization: Normalization = "demod"  # 'adain' is the StyleGAN1-style config A layer
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)
    use_noise: bool = True
    activation: str = "lrelu"
    fp16_channels_last: bool = False
    # Multiplies every tRGB output. The AdaIN twin trains with 0.3: its instance-normalised
    # features are about 3x a demodulated layer's, and the skip generator sums one tRGB per
    # resolution, so at 1 its first images have 3x the demod twin's scale and D wins outright.
    # A gain keeps the stored weights at unit scale, so equalized learning rate still holds
    # (shrinking the weights instead makes every Adam step 3.3x larger relative to them).
    torgb_gain: float = 1.0


@dataclass(frozen=True)
class GeneratorConfig:
    z_dim: int = 512
    c_dim: int = 0
    w_dim: int = 512
    img_resolution: int = 1024
    img_channels: int = 3
    mapping: MappingConfig = field(default_factory=MappingConfig)
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)

    def __post_init__(self) -> None:
        _check_resolution(self.img_resolution)
        _int_in("z_dim", self.z_dim, 0, MAX_CHANNELS)
        _int_in("c_dim", self.c_dim, 0, MAX_C_DIM)
        _int_in("w_dim", self.w_dim, 1, MAX_CHANNELS)
        _check_mapping(self.mapping)
        _check_synthesis(self.synthesis)
        _check_common(
            self.img_resolution,
            self.img_channels,
            self.synthesis.channel_base,
            self.synthesis.channel_max,
        )
        if self.z_dim < 0 or self.c_dim < 0 or self.w_dim <= 0:
            raise ConfigError("z_dim and c_dim must be >= 0 and w_dim > 0")
        if self.z_dim == 0 and self.c_dim == 0:
            raise ConfigError("a generator needs z_dim > 0 or c_dim > 0")
        if self.mapping.num_layers < 1:
            raise ConfigError("the mapping network needs at least one layer")
        if self.synthesis.architecture not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture {self.synthesis.architecture!r}")
        if self.synthesis.normalization not in NORMALIZATIONS:
            raise ConfigError(f"unknown normalization {self.synthesis.normalization!r}")
        for act in (self.mapping.activation, self.synthesis.activation):
            if act not in ACTIVATIONS:
                raise ConfigError(f"unknown activation {act!r}")

    # Derived quantities -------------------------------------------------------------------
    @property
    def resolutions(self) -> list[int]:
        """Block resolutions 4, 8, ..., img_resolution."""
        return block_resolutions(self.img_resolution)

    def channels(self, res: int) -> int:
        return channels_at(res, self.synthesis.channel_base, self.synthesis.channel_max)

    @property
    def num_ws(self) -> int:
        """Number of per-layer w vectors: one per conv plus the last block's tRGB."""
        return 2 * int(math.log2(self.img_resolution)) - 2

    def fp16_resolution(self) -> int:
        n = self.synthesis.num_fp16_res
        return max(2 ** (int(math.log2(self.img_resolution)) + 1 - n), 8)

    # Serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorConfig:
        d = dict(d)
        mapping = _build(MappingConfig, d.pop("mapping", {}) or {})
        synthesis = _build(SynthesisConfig, d.pop("synthesis", {}) or {})
        return _build(cls, d, mapping=mapping, synthesis=synthesis)


@dataclass(frozen=True)
class DiscriminatorConfig:
    c_dim: int = 0
    img_resolution: int = 1024
    img_channels: int = 3
    architecture: Architecture = "resnet"
    channel_base: int = 32768
    channel_max: int = 512
    num_fp16_res: int = 0
    conv_clamp: float | None = None
    cmap_dim: int | None = None  # conditioning projection size; None -> channels at 4x4
    activation: str = "lrelu"
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)
    mbstd_group_size: int | None = 4  # None -> whole minibatch
    mbstd_num_channels: int = 1
    mapping: MappingConfig = field(
        default_factory=lambda: MappingConfig(w_avg_beta=None)
    )  # used only when c_dim > 0

    def __post_init__(self) -> None:
        _check_resolution(self.img_resolution)
        _int_in("c_dim", self.c_dim, 0, MAX_C_DIM)
        _check_common(self.img_resolution, self.img_channels, self.channel_base, self.channel_max)
        _int_in("num_fp16_res", self.num_fp16_res, 0, 16)
        _positive_or_none("conv_clamp", self.conv_clamp)
        _check_filter(self.resample_filter)
        _check_mapping(self.mapping)
        if self.cmap_dim is not None:
            _int_in("cmap_dim", self.cmap_dim, 1, MAX_CHANNELS)
        if self.mbstd_group_size is not None:
            _int_in("mbstd_group_size", self.mbstd_group_size, 1, 1024)
        _int_in("mbstd_num_channels", self.mbstd_num_channels, 0, 64)
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture {self.architecture!r}")

    @property
    def resolutions(self) -> list[int]:
        return block_resolutions(self.img_resolution)

    def channels(self, res: int) -> int:
        return channels_at(res, self.channel_base, self.channel_max)

    def fp16_resolution(self) -> int:
        return max(2 ** (int(math.log2(self.img_resolution)) + 1 - self.num_fp16_res), 8)

    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DiscriminatorConfig:
        d = dict(d)
        mapping = _build(MappingConfig, d.pop("mapping", {}) or {"w_avg_beta": None})
        return _build(cls, d, mapping=mapping)


def block_resolutions(img_resolution: int) -> list[int]:
    return [2**i for i in range(2, int(math.log2(img_resolution)) + 1)]


def channels_at(res: int, channel_base: int, channel_max: int) -> int:
    return min(channel_base // res, channel_max)


def _int_in(name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be within {lo}-{hi}, got {value}")


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive_or_none(name: str, value: Any) -> None:
    if value is not None and _finite(name, value) <= 0:
        raise ConfigError(f"{name} must be above 0 (or None), got {value}")


def _check_resolution(res: Any) -> None:
    if isinstance(res, bool) or not isinstance(res, int):
        raise ConfigError(f"img_resolution must be an integer, got {res!r}")
    if res < 4 or res > MAX_RESOLUTION or res & (res - 1) != 0:
        raise ConfigError(
            f"img_resolution must be a power of two from 4 to {MAX_RESOLUTION}, got {res}"
        )


def _check_common(res: int, img_channels: Any, channel_base: Any, channel_max: Any) -> None:
    _int_in("img_channels", img_channels, 1, MAX_IMG_CHANNELS)
    _int_in("channel_base", channel_base, 1, MAX_CHANNEL_BASE)
    _int_in("channel_max", channel_max, 1, MAX_CHANNELS)
    if channel_base < res:  # channel_base // res channels at the top: none at all
        raise ConfigError(
            f"channel_base {channel_base} is below img_resolution {res}: no channels at {res} px"
        )


def _check_filter(taps: Any) -> None:
    if not isinstance(taps, (tuple, list)) or not 1 <= len(taps) <= MAX_FILTER_TAPS:
        raise ConfigError(f"resample_filter must hold 1-{MAX_FILTER_TAPS} taps, got {taps!r}")
    for v in taps:
        _int_in("a resample_filter tap", v, -MAX_FILTER_TAP, MAX_FILTER_TAP)
    if sum(taps) == 0:  # the filter is normalised by its sum
        raise ConfigError(f"resample_filter {list(taps)} sums to zero")


def _check_mapping(m: MappingConfig) -> None:
    _int_in("mapping num_layers", m.num_layers, 1, MAX_MAPPING_LAYERS)
    for name in ("embed_features", "layer_features"):
        value = getattr(m, name)
        if value is not None:
            _int_in(f"mapping {name}", value, 0, MAX_CHANNELS)
    if _finite("lr_multiplier", m.lr_multiplier) <= 0:
        raise ConfigError(f"lr_multiplier must be above 0, got {m.lr_multiplier}")
    if m.w_avg_beta is not None and not 0 <= _finite("w_avg_beta", m.w_avg_beta) <= 1:
        raise ConfigError(f"w_avg_beta must be within 0-1, got {m.w_avg_beta}")


def _check_synthesis(s: SynthesisConfig) -> None:
    _int_in("num_fp16_res", s.num_fp16_res, 0, 16)
    _positive_or_none("conv_clamp", s.conv_clamp)
    _check_filter(s.resample_filter)
    if not isinstance(s.use_noise, bool):
        raise ConfigError(f"use_noise must be true or false, got {s.use_noise!r}")
    if _finite("torgb_gain", s.torgb_gain) <= 0:
        raise ConfigError(f"torgb_gain must be above 0, got {s.torgb_gain}")


def filter_taps(value: Any) -> tuple[int, ...]:
    """Resample-filter taps read from a file (JSON, a pickle's list or numpy numbers): whole
    numbers only (1.0 from a float-writing tool is 1); Infinity, NaN, 1.5, null or "3" is a
    ConfigError."""
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_FILTER_TAPS:
        raise ConfigError(f"resample_filter must hold 1-{MAX_FILTER_TAPS} taps, got {value!r}")
    taps = []
    for v in value:
        if isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral):
            v = float(v)
            if not (math.isfinite(v) and v.is_integer()):
                raise ConfigError(f"a resample_filter tap must be a whole number, got {v!r}")
        elif isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ConfigError(f"a resample_filter tap must be a whole number, got {v!r}")
        taps.append(int(v))
    return tuple(taps)


def _build(cls: type, d: dict[str, Any], **extra: Any) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown keys {unknown}")
    taps = d.get("resample_filter")
    if taps is not None:
        d = {**d, "resample_filter": filter_taps(taps)}
    return cls(**d, **extra)


def _to_jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    return obj
