"""Low-level operations of StyleGAN2 in plain PyTorch: bias + activation, FIR resampling
(upfirdn2d), convolution with FIR resampling, and the modulated convolution.

`upfirdn2d_ref` and the fused form of `modulated_conv2d` are the definitions, step by step, as in
NVIDIA's torch_utils/ops (stylegan2-ada-pytorch) and the paper (Karras et al. 2020, "Analyzing
and Improving the Image Quality of StyleGAN", section 2.2). The other forms give the same numbers
faster, and tests/test_ops.py holds them to the definitions:
- `upfirdn2d` runs as one depthwise (transposed) convolution (`stylegan2.depthwise`) that never
  builds the zero-inserted or padded image; on the CPU it filters bfloat16 in float32 and
  few-channel NCHW images channels-last (oneDNN is several times faster at both);
- the non-fused modulated convolution scales activations instead of building per-sample weights;
- epilogues run in place when autograd does not need their input, and channels-last inputs stay
  channels-last.
The modulated-convolution form and the layout a network uses are chosen in
`stylegan2.networks.fast`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from stylegan2.depthwise import depthwise_filter

_ACT_DEFAULT_GAIN = {"linear": 1.0, "relu": math.sqrt(2.0), "lrelu": math.sqrt(2.0)}
LRELU_ALPHA = 0.2


def activation_gain(act: str) -> float:
    return _ACT_DEFAULT_GAIN[act]


# --------------------------------------------------------------------------------------------
# Bias + activation
# --------------------------------------------------------------------------------------------
def bias_act(
    x: torch.Tensor,
    b: torch.Tensor | None = None,
    act: str = "linear",
    gain: float | None = None,
    clamp: float | None = None,
    inplace: bool = False,
) -> torch.Tensor:
    """`clamp(act(x + b) * gain)`; `b` runs along dim 1. `gain=None` uses the activation's default.

    `inplace=True` overwrites `x` (callers pass `can_inplace(x)` for intermediates): at high
    resolution this saves several full passes of allocation over the feature maps.
    """
    gain = _ACT_DEFAULT_GAIN[act] if gain is None else gain
    if b is not None:
        b = b.to(x.dtype).reshape([1, -1] + [1] * (x.ndim - 2))
        x = x.add_(b) if inplace else x + b
    if act == "lrelu":
        x = F.leaky_relu(x, LRELU_ALPHA, inplace=inplace)
    elif act == "relu":
        x = F.relu(x, inplace=inplace)
    elif act != "linear":
        raise ValueError(f"unknown activation {act!r}")
    if gain != 1:
        x = x.mul_(gain) if inplace else x * gain
    if clamp is not None and clamp >= 0:
        # hardtanh is clamp with a fused backward; clamp's backward is four full passes
        # (ge, le, and, where) - a tenth of a mixed-precision training step on the CPU. Its
        # gradient is 0 at exactly +-clamp (clamp's is 1), as in NVIDIA's bias_act kernel.
        x = F.hardtanh(x, -clamp, clamp, inplace=inplace)
    return x


def can_inplace(x: torch.Tensor) -> bool:
    """True when autograd will not need `x`, so an intermediate may be overwritten."""
    return not (torch.is_grad_enabled() and x.requires_grad)


def is_channels_last(x: torch.Tensor) -> bool:
    """True for a channels-last [N, C, H, W] tensor that is not also plain NCHW (1x1 or C == 1)."""
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


# --------------------------------------------------------------------------------------------
# FIR filtering (upfirdn2d)
# --------------------------------------------------------------------------------------------
def setup_filter(f: Sequence[float] | torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """A 1-D tap list -> the normalised 2-D separable filter [fh, fw] (outer product)."""
    f = torch.as_tensor(f, dtype=torch.float32)
    if f.ndim == 1:
        f = f.ger(f)
    if normalize:
        f = f / f.sum()
    return f


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor,
    up: int = 1,
    down: int = 1,
    padding: Sequence[int] = (0, 0, 0, 0),
    gain: float = 1.0,
) -> torch.Tensor:
    """Upsample by zero insertion, pad (negative = crop), convolve with `f * gain`, decimate.

    x: [N, C, H, W]; f: [fh, fw]; padding: (x0, x1, y0, y1). The common cases run as one
    depthwise (transposed) convolution that never materialises the zero-inserted or padded
    image and keeps the input's memory format; everything else takes `upfirdn2d_ref`.
    """
    if x.dtype == torch.bfloat16 and x.device.type == "cpu":
        # oneDNN's bf16 depthwise convolutions are 4-10x slower than its fp32 ones (forward and
        # backward, measured at 16-64 px): filtering in fp32 is faster even with both casts.
        return upfirdn2d(x.float(), f, up, down, padding, gain).to(torch.bfloat16)
    c = x.shape[1]
    if x.device.type == "cpu" and c <= 4 and not x.is_contiguous(memory_format=torch.channels_last):
        # Images (RGB, RGBA, gray) in NCHW: oneDNN's depthwise convolutions are 2-7x faster on
        # channels-last ones, even counting both copies (ADA's 2x supersampling, the skip
        # generator's image, previews); with many channels the copies cost more than they save.
        y = upfirdn2d(x.contiguous(memory_format=torch.channels_last), f, up, down, padding, gain)
        return y.contiguous()
    fh, fw = f.shape
    px0, px1, py0, py1 = padding
    if up == 1 and px0 == px1 >= 0 and py0 == py1 >= 0:
        # conv2d correlates; the flip makes it a true convolution.
        weight = _depthwise(f.flip([0, 1]), gain, c, x.dtype)
        return depthwise_filter(x, weight, down, (py0, px0), transposed=False)
    if down == 1 and up > 1:
        # A transposed conv is the full convolution of the zero-inserted signal; its symmetric
        # `padding` crops what the reference's padding leaves out.
        h, w = x.shape[2:]
        crop_x0, crop_y0 = fw - 1 - px0, fh - 1 - py0
        crop_x1 = (w - 1) * up + fw - (crop_x0 + up * w + px0 + px1 - fw + 1)
        crop_y1 = (h - 1) * up + fh - (crop_y0 + up * h + py0 + py1 - fh + 1)
        if crop_x0 == crop_x1 >= 0 and crop_y0 == crop_y1 >= 0:
            weight = _depthwise(f, gain, c, x.dtype)
            return depthwise_filter(x, weight, up, (crop_y0, crop_x0), transposed=True)
    return upfirdn2d_ref(x, f, up=up, down=down, padding=padding, gain=gain)


def _depthwise(f: torch.Tensor, gain: float, channels: int, dtype: torch.dtype) -> torch.Tensor:
    return (f * gain).to(dtype)[None, None].expand(channels, 1, *f.shape).contiguous()


def upfirdn2d_ref(
    x: torch.Tensor,
    f: torch.Tensor,
    up: int = 1,
    down: int = 1,
    padding: Sequence[int] = (0, 0, 0, 0),
    gain: float = 1.0,
) -> torch.Tensor:
    """The literal definition of `upfirdn2d`, step by step (the reference the fast forms match)."""
    n, c, h, w = x.shape
    px0, px1, py0, py1 = padding
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[
        :,
        :,
        max(-py0, 0) : x.shape[2] - max(-py1, 0),
        max(-px0, 0) : x.shape[3] - max(-px1, 0),
    ]
    weight = (f * gain).flip([0, 1]).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, weight, groups=c)
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2) -> torch.Tensor:
    fh, fw = f.shape
    p = [(fw + up - 1) // 2, (fw - up) // 2, (fh + up - 1) // 2, (fh - up) // 2]
    return upfirdn2d(x, f, up=up, padding=p, gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2) -> torch.Tensor:
    fh, fw = f.shape
    p = [(fw - down + 1) // 2, (fw - down) // 2, (fh - down + 1) // 2, (fh - down) // 2]
    return upfirdn2d(x, f, down=down, padding=p)


# --------------------------------------------------------------------------------------------
# Convolution with optional FIR up/down-sampling
# --------------------------------------------------------------------------------------------
def conv2d_resample(
    x: torch.Tensor,
    w: torch.Tensor,
    f: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: int = 0,
    groups: int = 1,
) -> torch.Tensor:
    """2-D convolution with StyleGAN2's resampling conventions (NVIDIA's conv2d_resample.py).

    Plain convs correlate with `w` (as `F.conv2d`); the up-sampling conv is a transposed conv, i.e.
    a true convolution with `w`, followed by the FIR filter. w: [C_out, C_in/groups, kh, kw].
    """
    assert not (up > 1 and down > 1), "up and down at once is not used by StyleGAN2"
    _, _, kh, kw = w.shape
    if up == 1 and down == 1:
        return F.conv2d(x, w, padding=padding, groups=groups)
    assert f is not None
    fw = f.shape[1]
    if kh == 1 and kw == 1:
        # Resample on the side with fewer channels.
        if down > 1:
            x = upfirdn2d(
                x,
                f,
                down=down,
                padding=_pad4(padding + (fw - down + 1) // 2, padding + (fw - down) // 2),
            )
            return F.conv2d(x, w, groups=groups)
        x = F.conv2d(x, w, groups=groups)
        return upfirdn2d(
            x,
            f,
            up=up,
            padding=_pad4(padding + (fw + up - 1) // 2, padding + (fw - up) // 2),
            gain=up * up,
        )
    if down > 1:
        p0 = padding + (fw - down + 1) // 2
        p1 = padding + (fw - down) // 2
        x = upfirdn2d(x, f, padding=_pad4(p0, p1))
        return F.conv2d(x, w, stride=down, groups=groups)
    # Up-sampling conv: transposed conv (true convolution), then FIR with the remaining padding.
    p0 = padding + (fw + up - 1) // 2 - (kw - 1)
    p1 = padding + (fw - up) // 2 - (kw - up)
    assert p0 >= 0 and p1 >= 0, "padding too small for this kernel"
    if groups == 1:
        wt = w.transpose(0, 1)
    else:
        c_out, c_in_g = w.shape[0], w.shape[1]
        wt = w.reshape(groups, c_out // groups, c_in_g, kh, kw).transpose(1, 2)
        wt = wt.reshape(groups * c_in_g, c_out // groups, kh, kw)
    x = F.conv_transpose2d(x, wt, stride=up, groups=groups)
    return upfirdn2d(x, f, padding=_pad4(p0, p1), gain=up * up)


def _pad4(p0: int, p1: int) -> list[int]:
    return [p0, p1, p0, p1]


# --------------------------------------------------------------------------------------------
# Modulated convolution
# --------------------------------------------------------------------------------------------
def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    noise: torch.Tensor | None = None,
    up: int = 1,
    padding: int = 0,
    resample_filter: torch.Tensor | None = None,
    demodulate: bool = True,
    fused_modconv: bool = True,
    out_gain: float = 1.0,
    weight_sq: torch.Tensor | None = None,
) -> torch.Tensor:
    """Convolve each sample with the weight scaled by its own styles (Karras et al. 2020, eq. 1-3).

    x: [N, C_in, H, W]; weight: [C_out, C_in, kh, kw]; styles: [N, C_in];
    noise: broadcastable to the output, added after the conv (and demodulation).
    out_gain scales the conv result (not the noise) for free by folding into the weights; callers
    use it to move a positive activation gain ahead of a (positively homogeneous) activation.
    weight_sq: optional cached `weight.square().sum([2, 3])` for the non-fused path.

    Fused: modulate and demodulate the weight per sample, one grouped conv. Non-fused: scale the
    input by the styles, convolve with the shared weight, scale the output by the demodulation
    coefficients `rsqrt(sum_i s_i^2 sum_k W_oik^2)`; no per-sample weight is ever built, which is
    what makes it the cheaper choice when the weight is larger than the feature maps.
    """
    n = x.shape[0]
    c_in, kh, kw = weight.shape[1:]

    # Pre-normalise in reduced precision to avoid overflow; demodulation cancels it.
    if x.dtype == torch.float16 and demodulate:
        weight = weight * (
            1 / math.sqrt(c_in * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True)
        )
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
        weight_sq = None

    if not fused_modconv:
        dcoefs = None
        if demodulate:
            wsq = weight.square().sum(dim=[2, 3]) if weight_sq is None else weight_sq  # [O, I]
            dcoefs = (styles.square() @ wsq.t() + 1e-8).rsqrt()  # [N, O]
            if out_gain != 1:
                dcoefs = dcoefs * out_gain
        elif out_gain != 1:
            styles = styles * out_gain
        x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
        x = conv2d_resample(x, weight.to(x.dtype), resample_filter, up=up, padding=padding)
        inplace = can_inplace(x)
        if dcoefs is not None:
            d = dcoefs.to(x.dtype).reshape(n, -1, 1, 1)
            x = x.mul_(d) if inplace else x * d
        if noise is not None:
            x = x.add_(noise.to(x.dtype)) if inplace else x + noise.to(x.dtype)
        return x

    wm = weight.unsqueeze(0) * styles.reshape(n, 1, -1, 1, 1)  # [N, O, I, kh, kw]
    if demodulate:
        dcoefs = (wm.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]
        if out_gain != 1:
            dcoefs = dcoefs * out_gain
        wm = wm * dcoefs.reshape(n, -1, 1, 1, 1)
    elif out_gain != 1:
        wm = wm * out_gain

    if kh == 1 and kw == 1 and up == 1 and padding == 0:
        # A 1x1 conv is a batched matmul; oneDNN handles 3-channel outputs poorly.
        x = _batched_1x1(x, wm.reshape(n, -1, c_in).to(x.dtype))
        if noise is not None:
            x = x.add_(noise.to(x.dtype)) if can_inplace(x) else x + noise.to(x.dtype)
        return x

    # Fused: one grouped convolution over the batch.
    channels_last = is_channels_last(x)
    if n > 1:  # (for n == 1 the reshape would leave a batch stride oneDNN reads as NCHW)
        x = x.reshape(1, -1, *x.shape[2:])
    wm = wm.reshape(-1, c_in, kh, kw).to(x.dtype)
    if channels_last:
        # oneDNN runs up to twice as fast when the weight is channels-last too.
        x = x.contiguous(memory_format=torch.channels_last)
        wm = wm.contiguous(memory_format=torch.channels_last)
    x = conv2d_resample(x, wm, resample_filter, up=up, padding=padding, groups=n)
    if n > 1:
        x = x.reshape(n, -1, *x.shape[2:])
    if noise is not None:
        x = x.add_(noise.to(x.dtype)) if can_inplace(x) else x + noise.to(x.dtype)
    return x


def _batched_1x1(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """x: [N, I, H, W], w: [N, O, I] -> [N, O, H, W], keeping channels-last inputs channels-last."""
    n, i, h, wd = x.shape
    if is_channels_last(x):
        y = torch.matmul(x.permute(0, 2, 3, 1).reshape(n, h * wd, i), w.transpose(1, 2))
        return y.reshape(n, h, wd, -1).permute(0, 3, 1, 2)
    return torch.matmul(w, x.reshape(n, i, h * wd)).reshape(n, -1, h, wd)
