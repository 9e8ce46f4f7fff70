"""Bilinear `grid_sample` whose input gradient is itself differentiable.

R1 differentiates D(augment(x)) with respect to x and then trains D through that gradient, so
the gradient of grid_sample must have a gradient of its own. PyTorch before 2.12 lacks one
("derivative for aten::grid_sampler_2d_backward is not implemented"). The sampling grid here
never needs a gradient (augmentation parameters are drawn, not learned), so the map
input -> output is linear for a fixed grid: its backward is the adjoint map, and the adjoint of
the adjoint is grid_sample again.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_PADDING = {"zeros": 0, "border": 1, "reflection": 2}
_BILINEAR = 0


def grid_sample(
    x: torch.Tensor, grid: torch.Tensor, padding_mode: str = "zeros", align_corners: bool = False
) -> torch.Tensor:
    """F.grid_sample(x, grid, 'bilinear', padding_mode, align_corners); no gradient for grid."""
    return _Sample.apply(x, grid.detach(), padding_mode, align_corners)


class _Sample(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, grid, padding_mode, align_corners):
        ctx.save_for_backward(grid)
        ctx.padding_mode, ctx.align_corners, ctx.shape = padding_mode, align_corners, x.shape
        return F.grid_sample(
            x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=align_corners
        )

    @staticmethod
    def backward(ctx, grad_out):
        (grid,) = ctx.saved_tensors
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = _Adjoint.apply(grad_out, grid, ctx.shape, ctx.padding_mode, ctx.align_corners)
        return grad_x, None, None, None


class _Adjoint(torch.autograd.Function):
    """grad_out -> grad_x of _Sample: linear in grad_out, its own adjoint is grid_sample."""

    @staticmethod
    def forward(ctx, grad_out, grid, shape, padding_mode, align_corners):
        ctx.save_for_backward(grid)
        ctx.padding_mode, ctx.align_corners = padding_mode, align_corners
        # With the grid's gradient masked off, aten reads only the input's shape and dtype.
        dummy = grad_out.new_empty(shape)
        grad_x, _ = torch.ops.aten.grid_sampler_2d_backward(
            grad_out.contiguous(),
            dummy,
            grid,
            _BILINEAR,
            _PADDING[padding_mode],
            align_corners,
            [True, False],
        )
        return grad_x

    @staticmethod
    def backward(ctx, grad2):
        (grid,) = ctx.saved_tensors
        grad_grad_out = None
        if ctx.needs_input_grad[0]:
            grad_grad_out = _Sample.apply(grad2, grid, ctx.padding_mode, ctx.align_corners)
        return grad_grad_out, None, None, None, None
