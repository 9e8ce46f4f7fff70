"""The layers of the networks, each with an equalized learning rate: weights are stored N(0, 1)
and scaled by He's constant at run time (Karras et al. 2018, "Progressive Growing of GANs",
section 4.1).

Parameter names and shapes match NVIDIA's training/networks.py (stylegan2-ada-pytorch), so that
its state dicts load as they are. The constant FIR filter is a non-persistent buffer: importers
verify it and leave it out. How a layer runs fast is asked of `networks.fast`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from stylegan2 import ops
from stylegan2.networks import fast
from stylegan2.networks.fast import SpeedOptions
from stylegan2.networks.noise import NOISE_MODES as NOISE_MODES
from stylegan2.networks.noise import NoiseMode, NoiseSource, make_noise

Filter = tuple[int, ...]


class FullyConnectedLayer(nn.Module):
    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "linear",  # 'linear' | 'relu' | 'lrelu'
        lr_multiplier: float = 1.0,  # learning-rate scale (0.01 in the mapping network)
        bias_init: float = 0.0,  # initial bias (1 for the style affines: styles start at 1)
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
        """x: [N, in_features] -> [N, out_features]."""
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
    """Convolution with optional FIR resampling (the discriminator, the resnet generator's skip)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",  # 'linear' | 'relu' | 'lrelu'
        up: int = 1,  # 2: up-sample 2x (transposed conv, then the FIR filter)
        down: int = 1,  # 2: down-sample 2x (the FIR filter, then a strided conv)
        resample_filter: Filter = (1, 3, 3, 1),  # 1-D taps of the separable FIR filter
        conv_clamp: float | None = None,  # clamp the output to +-this (mixed precision)
        trainable: bool = True,  # False: weight and bias are buffers (ADA's frozen D layers)
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
            self.register_buffer("weight", weight)
            self.register_buffer("bias", b)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        """x: [N, C_in, H, W] -> [N, C_out, H * up / down, W * up / down]; `gain` scales the
        output (and the clamp), e.g. sqrt(1/2) on both branches of a resnet block."""
        w = fast.in_layout_of((self.weight * self.weight_gain).to(x.dtype), x)
        x = ops.conv2d_resample(
            x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding
        )
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        inplace = ops.can_inplace(x)
        g = self.act_gain * gain
        return ops.bias_act(x, self.bias, self.activation, gain=g, clamp=clamp, inplace=inplace)


class StyleLayer(nn.Module):
    """What the two synthesis layers share: a convolution (with 2x FIR up-sampling in the first
    layer of a block), an affine map from w to styles, per-pixel noise, a bias and an activation.
    The subclasses say how the styles act: `SynthesisLayer` modulates the weights (StyleGAN2),
    `AdaINLayer` normalizes the activations (StyleGAN1)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,  # dimension of w, the affine's input
        resolution: int,  # output resolution; the stored noise image is this size
        style_features: int,  # number of styles the affine makes from w
        style_bias_init: float,  # initial bias of the affine
        noise_per_channel: bool,  # one learned noise strength per output channel, or one in all
        up: int = 1,  # 2 in a block's first layer: up-sample 2x
        use_noise: bool = True,  # add per-pixel noise
        activation: str = "lrelu",  # 'linear' | 'relu' | 'lrelu'
        resample_filter: Filter = (1, 3, 3, 1),  # 1-D taps of the separable FIR filter
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.padding = kernel_size // 2
        self.register_buffer("resample_filter", ops.setup_filter(resample_filter), persistent=False)
        self.affine = FullyConnectedLayer(w_dim, style_features, bias_init=style_bias_init)
        self.weight = nn.Parameter(
            torch.randn([out_channels, in_channels, kernel_size, kernel_size])
        )
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(
                torch.zeros([out_channels] if noise_per_channel else [])
            )
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def noise(
        self, batch: int, mode: NoiseMode, gain: float, generator: NoiseSource
    ) -> torch.Tensor | None:
        """The noise this layer adds, broadcastable to [N, C_out, R, R], or None."""
        if not self.use_noise:
            return None
        shape = (batch, 1, self.resolution, self.resolution)
        return make_noise(mode, shape, self.noise_const, self.noise_strength, gain, generator)


class SynthesisLayer(StyleLayer):
    """Modulated convolution with weight demodulation, then noise, bias and activation
    (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN", eq. 1-3)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        conv_clamp: float | None = None,  # clamp the output to +-this (mixed precision)
        **kwargs: Any,  # up, use_noise, activation, resample_filter, kernel_size: see StyleLayer
    ) -> None:
        # One style per input channel, starting at 1: the scales s_i of eq. 1.
        super().__init__(
            in_channels,
            out_channels,
            w_dim,
            resolution,
            style_features=in_channels,
            style_bias_init=1.0,
            noise_per_channel=False,
            **kwargs,
        )
        self.conv_clamp = conv_clamp
        self.act_gain = ops.activation_gain(self.activation)
        self.weight_cache = fast.ModconvWeights()

    def forward(
        self,
        x: torch.Tensor,  # [N, C_in, H, W]
        w: torch.Tensor,  # [N, w_dim]
        noise_mode: NoiseMode = "random",
        noise_gain: float = 1.0,  # multiplies the learned noise strength; 0 turns noise off
        noise_generator: NoiseSource = None,
        fused_modconv: bool | None = True,  # see SpeedOptions.fused_modconv
        gain: float = 1.0,  # scales the output (and the clamp)
        speed: SpeedOptions = fast.DEFAULT,
    ) -> torch.Tensor:
        """-> [N, C_out, R, R]"""
        styles = self.affine(w)  # [N, C_in]
        noise = self.noise(x.shape[0], noise_mode, noise_gain, noise_generator)
        fused = fast.layer_fused_modconv(
            fused_modconv, self.weight, x, self.out_channels * self.resolution**2
        )
        weight, weight_sq = self.weight_cache.get(self.weight, x, self.up, fused, speed)
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
            fused_modconv=fused,
            out_gain=g,
        )  # [N, C_out, R, R]
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return ops.bias_act(
            x, self.bias * g, act=self.activation, gain=1.0, clamp=clamp, inplace=ops.can_inplace(x)
        )


class AdaINLayer(StyleLayer):
    """StyleGAN1's layer (the StyleGAN2 paper's "config A"): convolution, per-channel noise, bias,
    activation, instance normalization, then the style's per-channel scale and shift (Karras et
    al. 2019, "A Style-Based Generator Architecture for GANs", eq. 1).

    Built on the StyleGAN2 skeleton (the same FIR up-sampling conv), so that a comparison isolates
    normalization against demodulation. No clamp: clamping before the instance norm would cut
    exactly the spikes the normalization provokes.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        conv_clamp: float | None = None,  # ignored, see the class docstring
        **kwargs: Any,  # up, use_noise, activation, resample_filter, kernel_size: see StyleLayer
    ) -> None:
        # A scale and a shift per output channel, starting at 0 (the scale is applied as 1 + s).
        super().__init__(
            in_channels,
            out_channels,
            w_dim,
            resolution,
            style_features=2 * out_channels,
            style_bias_init=0.0,
            noise_per_channel=True,
            **kwargs,
        )
        kernel_size = self.weight.shape[-1]
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)

    def forward(
        self,
        x: torch.Tensor,  # [N, C_in, H, W]
        w: torch.Tensor,  # [N, w_dim]
        noise_mode: NoiseMode = "random",
        noise_gain: float = 1.0,  # multiplies the learned noise strength; 0 turns noise off
        noise_generator: NoiseSource = None,
        fused_modconv: bool | None = True,  # unused: one weight serves the whole batch
        gain: float = 1.0,  # scales the output
        speed: SpeedOptions = fast.DEFAULT,
    ) -> torch.Tensor:
        """-> [N, C_out, R, R]"""
        weight = fast.in_layout_of((self.weight * self.weight_gain).to(x.dtype), x)
        x = ops.conv2d_resample(x, weight, self.resample_filter, up=self.up, padding=self.padding)
        noise = self.noise(x.shape[0], noise_mode, noise_gain, noise_generator)
        if noise is not None:
            x = x + noise.to(x.dtype)
        x = ops.bias_act(x, self.bias, act=self.activation, inplace=ops.can_inplace(x))
        dtype = x.dtype
        x = x.float()  # instance statistics in fp32 even for fp16 / bf16 blocks
        x = x - x.mean(dim=[2, 3], keepdim=True)
        x = x * (x.square().mean(dim=[2, 3], keepdim=True) + 1e-8).rsqrt()
        style = self.affine(w.float()).reshape(-1, 2, self.out_channels, 1, 1)  # [N, 2, C, 1, 1]
        x = torch.addcmul(style[:, 1], x, style[:, 0] + 1)
        x = x * gain if gain != 1 else x
        # Back to the block's dtype, or every later layer of a reduced-precision block runs fp32.
        return x.to(dtype)


class ToRGBLayer(nn.Module):
    """Modulated 1x1 convolution without demodulation: a block's image output (tRGB)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,  # image channels
        w_dim: int,
        conv_clamp: float | None = None,  # clamp the output to +-this (mixed precision)
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
        """x: [N, C, R, R], w: [N, w_dim] -> [N, img_channels, R, R]"""
        if fused_modconv is None:
            fused_modconv = True  # a 1x1 weight is always smaller than the feature maps
        styles = self.affine(w) * self.weight_gain  # [N, C]
        x = ops.modulated_conv2d(
            x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv
        )
        return ops.bias_act(x, self.bias, clamp=self.conv_clamp, inplace=ops.can_inplace(x))


class MinibatchStdLayer(nn.Module):
    """Appends the standard deviation of features across groups of samples, so that D sees the
    variety of a batch (Karras et al. 2018, "Progressive Growing of GANs", section 3)."""

    def __init__(
        self,
        group_size: int | None,  # samples per group (None: the whole batch)
        num_channels: int = 1,  # feature groups, one appended channel each
    ) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] -> [N, C + num_channels, H, W]"""
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
