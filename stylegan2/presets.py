"""Named configurations: the network widths and the training hyper-parameters that go with them.

One table for `stylegan2 bench --config NAME` (which builds the generator at the preset's
resolution) and `stylegan2-train --cfg NAME` (which takes the widths and hyper-parameters and the
dataset's resolution). The paper presets are NVIDIA's `cfg_specs` in stylegan2-ada-pytorch's
train.py (fmaps 0.5 / 1 there are channel_base 16384 / 32768 here); `small` is this project's.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylegan2.config import GeneratorConfig, MappingConfig, SynthesisConfig


@dataclass(frozen=True)
class Preset:
    resolution: int  # what `stylegan2 bench` builds; the trainer uses the dataset's resolution
    channel_base: int  # a block at resolution r has min(channel_base // r, channel_max) channels
    channel_max: int
    map_layers: int  # depth of the mapping network
    batch: int  # images per step, over all processes together
    mbstd_group: int  # minibatch-standard-deviation group size in D
    lr: float  # Adam learning rate of G and D (before the lazy-regularization correction)
    gamma: float  # R1 weight
    ema_kimg: float  # half-life of G_ema, in thousands of images
    ema_rampup: float | None  # half-life at most this fraction of the images seen (None: none)


PRESETS: dict[str, Preset] = {
    # The 64 px net of the speed targets: G 5.5 M parameters.
    "small": Preset(64, 4096, 256, 2, 16, 4, 0.0025, 0.05, 5.0, 0.05),
    "paper256": Preset(256, 16384, 512, 8, 64, 8, 0.0025, 1.0, 20.0, None),
    "paper512": Preset(512, 32768, 512, 8, 64, 8, 0.0025, 0.5, 20.0, None),
    "paper1024": Preset(1024, 32768, 512, 8, 32, 4, 0.002, 2.0, 10.0, None),
    "stylegan2": Preset(1024, 32768, 512, 8, 32, 4, 0.002, 10.0, 10.0, None),  # config F
}


def generator_preset(
    name: str,
    resolution: int | None = None,
    normalization: str = "demod",
    architecture: str = "skip",
    z_dim: int = 512,
    w_dim: int = 512,
    c_dim: int = 0,
    img_channels: int = 3,
    conv_clamp: float | None = None,
    num_fp16_res: int = 0,
) -> GeneratorConfig:
    """The generator of preset `name`, at `resolution` (default: the preset's)."""
    if name not in PRESETS:
        raise ValueError(f"unknown config {name!r}; choose from {', '.join(PRESETS)}")
    p = PRESETS[name]
    return GeneratorConfig(
        z_dim=z_dim,
        c_dim=c_dim,
        w_dim=w_dim,
        img_resolution=resolution or p.resolution,
        img_channels=img_channels,
        mapping=MappingConfig(num_layers=p.map_layers),
        synthesis=SynthesisConfig(
            channel_base=p.channel_base,
            channel_max=p.channel_max,
            architecture=architecture,  # type: ignore[arg-type]
            normalization=normalization,  # type: ignore[arg-type]
            conv_clamp=conv_clamp,
            num_fp16_res=num_fp16_res,
        ),
    )
