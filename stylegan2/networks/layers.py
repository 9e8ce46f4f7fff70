"""Building-block layers with equalized learning rate (SPEC §4.1, §4.4, §4.7).

Parameter names and shapes match stylegan2-ada-pytorch so that its state dicts load as they are.
The constant FIR filter is a non-persistent buffer: importers verify it and leave it out.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from stylegan2 import ops

NoiseMode = Literal["const", "random", "none"]
NOISE_MODES = ("const", "random", "none")


class FullyConnectedLayer(nn.Module):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        # Stored as N(0, 1/lr_mul^2) and scaled at run time: that is what equalizes the lr.
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        x = x.matmul(w.t())
        return ops.bias_act(x, b, act=self.activation, inplace=ops.can_inplace(x))

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, act={self.activation}"


class Conv2dLayer(nn.Module):
    """Equalized-lr convolution with optional FIR resampling (discriminator, G resnet skip)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",
        up: int = 1,
        down: int = 1,
        resample_filter: tuple[int, ...] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__()
        self.activation = activation
        self.up = up
        self.down = down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter), persistent=False)
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.act_gain = ops.activation_gain(activation)
        weight = torch.randn([out_channels, in_channels, kernel_size, kernel_size])
        b = torch.zeros([out_channels]) if bias else None
        if trainable:
            self.weight = nn.Parameter(weight)
            self.bias = nn.Parameter(b) if b is not None else None
        else:
            # Frozen layers (ada's freeze-D) keep the same names, as buffers.
            self.register_buffer("weight", weight)
            self.register_buffer("bias", b)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = (self.weight * self.weight_gain).to(x.dtype)
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            w = w.contiguous(memory_format=torch.channels_last)
        x = ops.conv2d_resample(
            x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding
        )
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(
            x,
            self.bias,
            act=self.activation,
            gain=self.act_gain * gain,
            clamp=clamp,
            inplace=ops.can_inplace(x),
        )


class CircularNoise:
    """'random' noise that moves smoothly: cos(phase) * A + sin(phase) * B, where A and B are the
    noise images drawn from `seed` and `seed + 1`. Every phase is again unit Gaussian noise, and a
    full turn comes back exactly, so a video whose phase runs once around loops without a seam.
    Pass it where a noise generator goes."""

    def __init__(self, seed: int, phase: float) -> None:
        self.phase = phase
        self.generators = (
            torch.Generator().manual_seed(seed),
            torch.Generator().manual_seed(seed + 1),
        )

    def draw(self, shape: tuple[int, ...]) -> torch.Tensor:
        a, b = (torch.randn(shape, generator=g) for g in self.generators)
        return a.mul_(math.cos(self.phase)).add_(b, alpha=math.sin(self.phase))


#: where 'random' noise comes from: a seeded torch generator, a CircularNoise, or None (global RNG)
NoiseSource = torch.Generator | CircularNoise | None


def make_noise(
    mode: NoiseMode,
    shape: tuple[int, int, int, int],
    const: torch.Tensor,
    strength: torch.Tensor,
    gain: float,
    generator: NoiseSource,
) -> torch.Tensor | None:
    """The noise image of one layer, or None. Seeded random noise is drawn on the CPU, so that a
    seeded generator gives the same noise on every device. Unseeded noise (training, metrics) is
    drawn where it is used: a CPU draw and copy per layer stalls a GPU at every layer (a blocking
    copy waits for all queued work). On the CPU both give the same numbers."""
    if mode == "none" or gain == 0:
        return None
    if mode == "random":
        if isinstance(generator, CircularNoise):
            noise = generator.draw(shape).to(const.device)
        elif generator is None:
            noise = torch.randn(shape, device=const.device)
        else:
            noise = torch.randn(shape, generator=generator).to(const.device)
    elif mode == "const":
        noise = const
    else:
        raise ValueError(f"unknown noise mode {mode!r}; expected one of {NOISE_MODES}")
    s = strength if strength.ndim == 0 else strength.reshape(1, -1, 1, 1)
    return noise * (s * gain)


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution with weight demodulation, noise, bias and activation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        up: int = 1,
        use_noise: bool = True,
        activation: str = "lrelu",
        resample_filter: tuple[int, ...] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.conv_clamp = conv_clamp
        self.padding = kernel_size // 2
        self.act_gain = ops.activation_gain(activation)
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter), persistent=False)
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(
            torch.randn([out_channels, in_channels, kernel_size, kernel_size])
        )
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: NoiseMode = "random",
        noise_gain: float = 1.0,
        noise_generator: NoiseSource = None,
        fused_modconv: bool | None = True,
        gain: float = 1.0,
    ) -> torch.Tensor:
        styles = self.affine(w)
        noise = None
        if self.use_noise:
            shape = (x.shape[0], 1, self.resolution, self.resolution)
            noise = make_noise(
                noise_mode,
                shape,
                self.noise_const,
                self.noise_strength,
                noise_gain,
                noise_generator,
            )
        out_res = self.resolution
        if fused_modconv is None:
            # Build per-sample weights only when they are smaller than the feature maps they
            # would save touching (high resolutions); otherwise scale the activations.
            acts = self.in_channels * x.shape[2] * x.shape[3] + self.out_channels * out_res**2
            fused_modconv = self.weight.numel() < acts
        weight, weight_sq = self._weights(x, fused_modconv)
        # act(y) * g == act(y * g) for g > 0 (lrelu, relu, linear), so the activation gain rides
        # on the demodulation coefficients instead of costing a pass over the feature maps.
        g = self.act_gain * gain
        x = ops.modulated_conv2d(
            x,
            weight,
            styles,
            weight_sq=weight_sq,
            noise=noise * g if noise is not None else None,
            up=self.up,
            padding=self.padding,
            resample_filter=self.resample_filter,
            fused_modconv=fused_modconv,
            out_gain=g,
        )
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(
            x, self.bias * g, act=self.activation, gain=1.0, clamp=clamp, inplace=ops.can_inplace(x)
        )

    def _weights(self, x: torch.Tensor, fused: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The raw weight for the non-fused path, in x's memory format, and sum_k W^2; cached
        across frames while the weight is unchanged and no gradient is needed."""
        w = self.weight
        if fused or (torch.is_grad_enabled() and w.requires_grad):
            return w, None
        channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        key = (w._version, w.data_ptr(), w.device, w.dtype, channels_last)
        cache = getattr(self, "_weight_cache", None)
        if cache is None or cache[0] != key:
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            wd = w.detach()
            if self.up > 1:
                # The up-sampling conv runs as a transposed conv on W^T: make *that* contiguous,
                # or oneDNN copies the whole weight every frame.
                wd = wd.transpose(0, 1).contiguous(memory_format=fmt).transpose(0, 1)
            else:
                wd = wd.contiguous(memory_format=fmt)
            cache = (key, wd, wd.square().sum([2, 3]))
            self._weight_cache = cache
        return cache[1], cache[2]


class AdaINLayer(nn.Module):
    """StyleGAN1-style layer ("config A"): conv, per-channel noise, bias, activation, instance
    normalization, then the style's per-channel scale and shift (SPEC §2.7, §4.7).

    Shares the StyleGAN2 skeleton (same FIR up-sampling conv) so that a comparison isolates
    normalization versus demodulation. No clamp is applied: clamping before the instance norm
    would cut exactly the spikes the normalization provokes.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        up: int = 1,
        use_noise: bool = True,
        activation: str = "lrelu",
        resample_filter: tuple[int, ...] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        del conv_clamp  # see the class docstring
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.padding = kernel_size // 2
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter), persistent=False)
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.affine = FullyConnectedLayer(w_dim, 2 * out_channels, bias_init=0)
        self.weight = nn.Parameter(
            torch.randn([out_channels, in_channels, kernel_size, kernel_size])
        )
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([out_channels]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: NoiseMode = "random",
        noise_gain: float = 1.0,
        noise_generator: NoiseSource = None,
        fused_modconv: bool | None = True,
        gain: float = 1.0,
    ) -> torch.Tensor:
        del fused_modconv  # nothing to fuse: the weight is shared by the whole batch
        weight = (self.weight * self.weight_gain).to(x.dtype)
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            weight = weight.contiguous(memory_format=torch.channels_last)
        x = ops.conv2d_resample(x, weight, self.resample_filter, up=self.up, padding=self.padding)
        if self.use_noise:
            shape = (x.shape[0], 1, self.resolution, self.resolution)
            noise = make_noise(
                noise_mode,
                shape,
                self.noise_const,
                self.noise_strength,
                noise_gain,
                noise_generator,
            )
            if noise is not None:
                x = x + noise.to(x.dtype)
        x = ops.bias_act(x, self.bias, act=self.activation, inplace=ops.can_inplace(x))
        dtype = x.dtype
        x = x.float()  # instance statistics in fp32 even for fp16 / bf16 blocks
        x = x - x.mean(dim=[2, 3], keepdim=True)
        x = x * (x.square().mean(dim=[2, 3], keepdim=True) + 1e-8).rsqrt()
        style = self.affine(w.float()).reshape(-1, 2, self.out_channels, 1, 1)
        x = torch.addcmul(style[:, 1], x, style[:, 0] + 1)
        x = x * gain if gain != 1 else x
        # Back to the block's dtype, or every later layer of a reduced-precision block runs fp32.
        return x.to(dtype)


class ToRGBLayer(nn.Module):
    """Modulated 1x1 convolution without demodulation (the tRGB outputs of the skip generator)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        conv_clamp: float | None = None,
        gain: float = 1.0,  # run-time output scale (SynthesisConfig.torgb_gain)
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = gain / math.sqrt(in_channels)

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool | None = True
    ) -> torch.Tensor:
        if fused_modconv is None:
            fused_modconv = True  # a 1x1 weight is always smaller than the feature maps
        styles = self.affine(w) * self.weight_gain
        x = ops.modulated_conv2d(
            x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv
        )
        return ops.bias_act(x, self.bias, clamp=self.conv_clamp, inplace=ops.can_inplace(x))


class MinibatchStdLayer(nn.Module):
    """Appends the standard deviation of features across groups of samples (SPEC §4.5)."""

    def __init__(self, group_size: int | None, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = n if self.group_size is None else min(self.group_size, n)
        if n % g != 0:
            raise ValueError(f"batch size {n} is not divisible by the mbstd group size {g}")
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w).float()  # [G, n/G, F, c/F, H, W]
        y = y - y.mean(dim=0)
        y = (y.square().mean(dim=0) + 1e-8).sqrt()  # [n/G, F, c/F, H, W]
        y = y.mean(dim=[2, 3, 4]).to(x.dtype)  # [n/G, F]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)  # [N, F, H, W]
        return torch.cat([x, y], dim=1)
