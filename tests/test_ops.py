"""The fast forms of the ops match their reference definitions."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from stylegan2 import ops


@pytest.mark.parametrize("up,down", [(1, 1), (2, 1), (1, 2)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_upfirdn2d_fast_forms_match_reference(up, down, channels_last):
    f = ops.setup_filter([1, 3, 3, 1])
    x = torch.randn(2, 5, 9, 9)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    tried = 0
    for p0, p1 in itertools.product(range(-1, 4), repeat=2):
        pad = [p0, p1, p0 + 1 if up == 1 else p0, p1]  # also asymmetric y padding
        try:
            ref = ops.upfirdn2d_ref(x, f, up, down, pad, gain=up * up)
        except RuntimeError:
            continue  # crops larger than the image
        torch.testing.assert_close(
            ops.upfirdn2d(x, f, up, down, pad, gain=up * up), ref, atol=1e-6, rtol=1e-6
        )
        tried += 1
    assert tried > 10


def test_upsample_and_downsample_shapes():
    f = ops.setup_filter([1, 3, 3, 1])
    x = torch.randn(1, 3, 8, 8)
    assert ops.upsample2d(x, f).shape == (1, 3, 16, 16)
    assert ops.downsample2d(x, f).shape == (1, 3, 4, 4)
    # A constant image stays constant away from the borders (the filter is normalised).
    up = ops.upsample2d(torch.ones(1, 1, 8, 8), f)
    torch.testing.assert_close(up[..., 3:-3, 3:-3], torch.ones_like(up[..., 3:-3, 3:-3]))


def test_upsampling_conv_is_zero_insertion_then_true_convolution_then_filter():
    """conv2d_resample(up=2) = insert zeros, convolve with the flipped-correlation weight, FIR."""
    f = ops.setup_filter([1, 3, 3, 1])
    x, w = torch.randn(1, 4, 5, 5), torch.randn(6, 4, 3, 3)
    got = ops.conv2d_resample(x, w, f, up=2, padding=1)
    z = torch.zeros(1, 4, 10, 10)
    z[:, :, ::2, ::2] = x
    y = F.conv2d(F.pad(z, [2, 1, 2, 1]), w.flip([2, 3]))  # true convolution, 'full' minus 1
    ref = ops.upfirdn2d_ref(y, f, padding=[1, 1, 1, 1], gain=4)
    assert got.shape == (1, 6, 10, 10)
    torch.testing.assert_close(got, ref[..., : got.shape[2], : got.shape[3]], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("up", [1, 2])
@pytest.mark.parametrize("k", [1, 3])
def test_modulated_conv_fused_nonfused_and_cached_weight_sq(up, k):
    if up == 2 and k == 1:
        pytest.skip("no 1x1 up-sampling modulated conv in StyleGAN2")
    f = ops.setup_filter([1, 3, 3, 1])
    x, w, s = torch.randn(3, 6, 8, 8), torch.randn(5, 6, k, k), torch.randn(3, 6)
    noise = torch.randn(3, 1, 8 * up, 8 * up)
    kw = dict(noise=noise, up=up, padding=k // 2, resample_filter=f, out_gain=1.7)
    fused = ops.modulated_conv2d(x, w, s, fused_modconv=True, **kw)
    nonfused = ops.modulated_conv2d(x, w, s, fused_modconv=False, **kw)
    cached = ops.modulated_conv2d(
        x, w, s, fused_modconv=False, weight_sq=w.square().sum([2, 3]), **kw
    )
    torch.testing.assert_close(fused, nonfused, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(cached, nonfused, atol=1e-5, rtol=1e-5)
    # The definition: per-sample weights W * s, demodulated, times the gain, plus noise.
    for n in range(3):
        wm = w * s[n].reshape(1, -1, 1, 1)
        wm = wm * (wm.square().sum([1, 2, 3], keepdim=True) + 1e-8).rsqrt() * 1.7
        ref = ops.conv2d_resample(x[n : n + 1], wm, f, up=up, padding=k // 2) + noise[n : n + 1]
        torch.testing.assert_close(fused[n : n + 1], ref, atol=1e-4, rtol=1e-4)


def test_bias_act_inplace_matches_out_of_place():
    x = torch.randn(2, 4, 5, 5)
    b = torch.randn(4)
    ref = ops.bias_act(x, b, act="lrelu", gain=1.5, clamp=0.7)
    got = ops.bias_act(x.clone(), b, act="lrelu", gain=1.5, clamp=0.7, inplace=True)
    torch.testing.assert_close(got, ref)
    manual = (F.leaky_relu(x + b.reshape(1, -1, 1, 1), 0.2) * 1.5).clamp(-0.7, 0.7)
    torch.testing.assert_close(ref, manual)


@pytest.mark.parametrize(
    "up,down,size,pad",
    [
        (1, 2, (8, 8), [1, 1, 1, 1]),
        (1, 2, (9, 7), [1, 1, 1, 1]),
        (1, 2, (8, 8), [2, 2, 1, 1]),
        (2, 1, (5, 6), [2, 1, 2, 1]),
        (1, 1, (6, 6), [1, 1, 2, 2]),
    ],
)
@pytest.mark.parametrize("c", [3, 5])  # up to 4 channels go through channels-last
def test_fir_filter_grads_to_second_order_match_grouped_conv(up, down, size, pad, c):
    """The FIR filter's own backward (used so R1 / path-length double backward does not loop over
    channels) gives the same first and second derivatives as autograd through F.conv2d."""
    f = ops.setup_filter([1, 3, 3, 1]).double()
    x = torch.randn(1, c, *size, dtype=torch.double, requires_grad=True)

    def fast(x):
        return ops.upfirdn2d(x, f, up=up, down=down, padding=pad, gain=up * up)

    def ref(x):  # the literal definition, autograd through F.pad / F.conv2d / slicing
        return ops.upfirdn2d_ref(x, f, up=up, down=down, padding=pad, gain=up * up)

    assert "DepthwiseFilter" in _graph_nodes(fast(x).grad_fn)  # the fast form is under test
    assert torch.autograd.gradcheck(fast, (x,))
    assert torch.autograd.gradgradcheck(fast, (x,))
    # A penalty on the input gradient (as R1 is), differentiated again.
    g = torch.randn_like(ref(x))
    grads = []
    for fn in (fast, ref):
        (gx,) = torch.autograd.grad((fn(x) ** 2 * g).sum(), x, create_graph=True)
        (ggx,) = torch.autograd.grad(gx.square().sum(), x)
        grads.append((gx.detach(), ggx))
    torch.testing.assert_close(grads[0], grads[1])


def _graph_nodes(fn, seen=None) -> str:
    """Names of every autograd node reachable from fn, joined."""
    seen = set() if seen is None else seen
    if fn is None or fn in seen:
        return ""
    seen.add(fn)
    return type(fn).__name__ + " " + "".join(_graph_nodes(n, seen) for n, _ in fn.next_functions)


def test_few_channel_images_filter_through_channels_last_and_keep_their_layout():
    f = ops.setup_filter([1, 3, 3, 1])
    x = torch.randn(2, 3, 16, 16)
    up = ops.upsample2d(x, f)
    assert up.is_contiguous()  # NCHW in, NCHW out
    torch.testing.assert_close(up, ops.upfirdn2d_ref(x, f, up=2, padding=[2, 1, 2, 1], gain=4))
    xc = x.contiguous(memory_format=torch.channels_last)
    assert ops.downsample2d(xc, f).is_contiguous(memory_format=torch.channels_last)


def test_clamp_in_bias_act_passes_gradient_only_inside_the_range():
    x = torch.tensor([[-2.0, -0.5, 0.3, 1.9]]).reshape(1, 4, 1, 1).requires_grad_()
    y = ops.bias_act(x, act="linear", clamp=1.0)
    y.sum().backward()
    assert y.flatten().tolist() == [-1.0, -0.5, 0.30000001192092896, 1.0]
    assert x.grad.flatten().tolist() == [0.0, 1.0, 1.0, 0.0]


def test_fir_filter_backward_under_autocast():
    f = ops.setup_filter([1, 3, 3, 1])
    x = torch.randn(1, 8, 8, 8, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = ops.upfirdn2d(x, f, down=2, padding=[1, 1, 1, 1])
    y.float().sum().backward()  # the gradient arrives in bf16, the filter was saved in fp32
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_is_channels_last_means_laid_out_channels_last_and_not_also_nchw():
    x = torch.randn(2, 5, 4, 4)
    assert not ops.is_channels_last(x)
    assert ops.is_channels_last(x.contiguous(memory_format=torch.channels_last))
    # A 1x1 map (or one channel) is both layouts at once: it counts as NCHW.
    assert not ops.is_channels_last(
        torch.randn(2, 5, 1, 1).contiguous(memory_format=torch.channels_last)
    )
