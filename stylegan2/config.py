"""Network configurations: frozen dataclasses that fully describe an architecture.

A config plus a state dict is a complete network. Configs serialise to plain JSON dicts
(`to_dict` / `from_dict`), which is what our checkpoint format stores and what importers produce.
Parameter names and defaults follow stylegan2-ada-pytorch, so its state dicts load unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

Architecture = Literal["orig", "skip", "resnet"]
Normalization = Literal["demod", "adain"]

ARCHITECTURES = ("orig", "skip", "resnet")
NORMALIZATIONS = ("demod", "adain")
ACTIVATIONS = ("lrelu", "linear", "relu")


class ConfigError(ValueError):
    """An architecture description that cannot be built."""


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
        _check_common(self.img_channels, self.synthesis.channel_base, self.synthesis.channel_max)
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
        _check_common(self.img_channels, self.channel_base, self.channel_max)
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


def _check_resolution(res: int) -> None:
    if res < 4 or res & (res - 1) != 0:
        raise ConfigError(f"img_resolution must be a power of two >= 4, got {res}")


def _check_common(img_channels: int, channel_base: int, channel_max: int) -> None:
    if img_channels < 1:
        raise ConfigError("img_channels must be >= 1")
    if channel_base < 1 or channel_max < 1:
        raise ConfigError("channel_base and channel_max must be positive")


def _build(cls: type, d: dict[str, Any], **extra: Any) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown keys {unknown}")
    if "resample_filter" in d and d["resample_filter"] is not None:
        d = {**d, "resample_filter": tuple(int(v) for v in d["resample_filter"])}
    return cls(**d, **extra)


def _to_jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    return obj
