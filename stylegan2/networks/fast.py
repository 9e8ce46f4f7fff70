"""How the networks run fast: every choice that changes speed but not the function computed
(reduced precision changes its rounding).

The layers in this package read as the reference definition; they ask this module how to run.
A `SpeedOptions` is given to a network when it is built (`Generator(cfg, speed=...)`), replaced on
one already built (`set_speed`, `set_cpu_half` in `networks.precision`), or given to one forward
call (`G(z, speed=REFERENCE)`). `REFERENCE` is the layout and modulated-convolution form of the
official implementation's CPU path; the parity tests hold the default to it.

What is in play, all of it measured on oneDNN (PyTorch's CPU convolutions):
- layout: channels-last feature maps, and weights in the layout of the activations;
- the modulated convolution's form: per-sample weights (fused) or scaled activations (not fused);
- reduced precision: the configured fp16 blocks in bfloat16 on CPUs (float16 on CUDA, as NVIDIA);
- a cache of the non-fused path's weight and its sum of squares between frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from stylegan2.ops import is_channels_last

MemoryFormat = Literal["auto", "contiguous", "channels_last"]
MEMORY_FORMATS = ("auto", "contiguous", "channels_last")
#: the reduced-precision dtypes a CPU block may be asked to run in
CPU_HALF_DTYPES = (torch.bfloat16,)


@dataclass(frozen=True)
class SpeedOptions:
    """How a network runs. Frozen: a network's options change only by being replaced whole."""

    # Feature-map layout: 'auto' is channels-last on the CPU (oneDNN's convolutions run up to
    # twice as fast in it) and NCHW elsewhere.
    memory_format: MemoryFormat = "auto"
    # dtype of the blocks the config marks fp16 (`num_fp16_res`) when on the CPU: None keeps them
    # float32, as NVIDIA's CPU path does; bfloat16 for mixed-precision training and previews.
    # On CUDA those blocks run float16 regardless.
    cpu_half: torch.dtype | None = None
    # Form of the modulated convolution: True builds per-sample weights for one grouped conv
    # (NVIDIA's inference form), False scales the activations around one shared weight, None
    # lets each layer take whichever touches less memory (see `layer_fused_modconv`).
    fused_modconv: bool | None = None
    # Keep the non-fused form's weight (in the activations' layout) and its sum of squares
    # between forward calls while the weight is unchanged and takes no gradient.
    cache_weights: bool = True

    def __post_init__(self) -> None:
        if self.memory_format not in MEMORY_FORMATS:
            raise ValueError(f"memory_format must be one of {MEMORY_FORMATS}")
        if self.cpu_half is not None and self.cpu_half not in CPU_HALF_DTYPES:
            raise ValueError(
                f"CPU reduced precision must be one of {CPU_HALF_DTYPES}, got {self.cpu_half}"
            )


DEFAULT = SpeedOptions()
#: NCHW, per-sample (fused) modulated weights, nothing cached: the official CPU path
REFERENCE = SpeedOptions(memory_format="contiguous", fused_modconv=True, cache_weights=False)


def feature_layout(speed: SpeedOptions, device: torch.device) -> torch.memory_format:
    """The memory format feature maps are kept in on `device`."""
    if speed.memory_format == "channels_last" or (
        speed.memory_format == "auto" and device.type == "cpu"
    ):
        return torch.channels_last
    return torch.contiguous_format


def block_dtype(
    use_half: bool, device: torch.device, force_fp32: bool, cpu_half: torch.dtype | None
) -> torch.dtype:
    """The dtype a block runs in: float16 for the configured fp16 blocks on CUDA (as NVIDIA's
    networks), `cpu_half` for them on the CPU when asked for, float32 for everything else."""
    if not use_half or force_fp32:
        return torch.float32
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and cpu_half is not None:
        return cpu_half
    return torch.float32


def block_fused_modconv(
    choice: bool | None, training: bool, dtype: torch.dtype, batch: int
) -> bool | None:
    """The form a block's layers use: training, and reduced precision with a batch, take the
    non-fused form, as NVIDIA's SynthesisBlock does (training/networks.py in
    stylegan2-ada-pytorch); otherwise `choice` stands (None: each layer chooses)."""
    if choice is None and (training or (dtype != torch.float32 and batch > 1)):
        return False
    return choice


def layer_fused_modconv(
    choice: bool | None, weight: torch.Tensor, x: torch.Tensor, out_elems: int
) -> bool:
    """`choice`, or where it is None, the fused form exactly when the weight (built once per
    sample) is smaller than the feature maps the non-fused form would scale: at high resolution
    with few channels. x: [N, C_in, H, W]; out_elems: C_out * H_out * W_out."""
    if choice is not None:
        return choice
    return weight.numel() < x[0].numel() + out_elems


def in_layout_of(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """`w` channels-last when `x` is: oneDNN runs a convolution faster when both agree."""
    return w.contiguous(memory_format=torch.channels_last) if is_channels_last(x) else w


class ModconvWeights:
    """The shared weight of a non-fused modulated conv, in the activations' layout, and
    `sum_k W^2` [C_out, C_in] for its demodulation coefficients, kept while the weight is
    unchanged (its `_version` counts in-place updates) and takes no gradient."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value: tuple[torch.Tensor, torch.Tensor] | None = None
        # The weight the value was made from: holding it keeps its memory from being reused by
        # another tensor, whose address and version could then match the key by chance.
        self._source: torch.Tensor | None = None

    def get(
        self, weight: torch.Tensor, x: torch.Tensor, up: int, fused: bool, speed: SpeedOptions
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(weight, its cached sum of squares or None for the op to compute)."""
        if fused or not speed.cache_weights or (torch.is_grad_enabled() and weight.requires_grad):
            return weight, None
        channels_last = is_channels_last(x)
        key = (weight._version, weight.data_ptr(), weight.device, weight.dtype, channels_last)
        if self._value is None or self._key != key:
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            w = weight.detach()
            if up > 1:
                # The up-sampling conv runs as a transposed conv on W^T: make *that*
                # contiguous, or oneDNN copies the whole weight every frame.
                w = w.transpose(0, 1).contiguous(memory_format=fmt).transpose(0, 1)
            else:
                w = w.contiguous(memory_format=fmt)
            self._key, self._value = key, (w, w.square().sum([2, 3]))
            self._source = weight.detach()
        return self._value

    def __getstate__(self) -> dict:
        # A copy (the EMA generator, a pickle) starts empty: the key names this weight's memory.
        return {"_key": None, "_value": None, "_source": None}
