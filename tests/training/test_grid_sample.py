"""grid_sample with a differentiable input gradient: same values and gradients as PyTorch's."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from training.grid_sample import grid_sample


def _inputs():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    grid = (torch.rand(2, 4, 7, 2, generator=g, dtype=torch.float64) * 2.4 - 1.2).requires_grad_()
    return x, grid


def test_forward_and_gradient_match_pytorch():
    x, grid = _inputs()
    for padding in ("zeros", "border", "reflection"):
        ref = F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=False)
        ours = grid_sample(x, grid, padding_mode=padding)
        assert torch.allclose(ours, ref)
        w = torch.randn_like(ref)
        (g_ref,) = torch.autograd.grad((ref * w).sum(), x)
        (g_ours,) = torch.autograd.grad((ours * w).sum(), x)
        assert torch.allclose(g_ours, g_ref)


def test_double_backward_is_exact():
    """gradcheck/gradgradcheck in float64: the R1 path (gradient of a gradient) through x."""
    x, grid = _inputs()
    grid = grid.detach()
    for padding in ("zeros", "reflection"):
        f = lambda t, p=padding: grid_sample(t, grid, padding_mode=p).square()  # noqa: E731
        assert torch.autograd.gradcheck(f, (x,))
        assert torch.autograd.gradgradcheck(f, (x,))


def test_r1_style_penalty_trains_through_it():
    """Parameters behind the sampled image get a gradient from a penalty on d out / d x."""
    x, grid = _inputs()
    weight = torch.randn(3, dtype=torch.float64, requires_grad=True)
    x = x.detach().requires_grad_()
    out = grid_sample(x, grid.detach(), padding_mode="reflection")
    logits = (out.square() * weight[None, :, None, None]).sum()
    (gx,) = torch.autograd.grad(logits, x, create_graph=True)
    gx.square().sum().backward()
    assert weight.grad is not None and weight.grad.abs().sum() > 0
    ref_x = x.detach().requires_grad_()
    ref_w = weight.detach().requires_grad_()
    ref = F.grid_sample(
        ref_x, grid.detach(), mode="bilinear", padding_mode="reflection", align_corners=False
    )
    (rgx,) = torch.autograd.grad(
        (ref.square() * ref_w[None, :, None, None]).sum(), ref_x, create_graph=True
    )
    rgx.square().sum().backward()
    assert torch.allclose(weight.grad, ref_w.grad)
