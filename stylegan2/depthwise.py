"""A depthwise (transposed) convolution with a constant filter that is differentiable to any
order through itself: the form `ops.upfirdn2d` runs FIR filtering as.

PyTorch's own double backward of a grouped convolution loops over the groups, one small
convolution per channel, which makes R1 and path-length regularization several times slower than
needed; here the gradient of each direction is the other direction with the same filter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def depthwise_filter(
    x: torch.Tensor,
    weight: torch.Tensor,
    stride: int,
    padding: tuple[int, int],
    transposed: bool,
) -> torch.Tensor:
    """A depthwise (transposed) convolution with a constant filter `weight` [C, 1, kh, kw].

    The same numbers as `F.conv2d` / `F.conv_transpose2d` with `groups=C`. The filter takes no
    gradient (FIR filters are fixed buffers).
    """
    if not (torch.is_grad_enabled() and x.requires_grad):
        return _depthwise_conv(x, weight, stride, padding, transposed, (0, 0))
    return _DepthwiseFilter.apply(x, weight, stride, padding, transposed, (0, 0))


def _depthwise_conv(
    x: torch.Tensor,
    weight: torch.Tensor,
    stride: int,
    padding: tuple[int, int],
    transposed: bool,
    output_padding: tuple[int, int],
) -> torch.Tensor:
    c = x.shape[1]
    if transposed:
        return F.conv_transpose2d(
            x, weight, stride=stride, padding=padding, output_padding=output_padding, groups=c
        )
    return F.conv2d(x, weight, stride=stride, padding=padding, groups=c)


class _DepthwiseFilter(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, stride, padding, transposed, output_padding):
        ctx.save_for_backward(weight)
        ctx.conf = (stride, padding, transposed, tuple(x.shape[2:]))
        return _depthwise_conv(x, weight, stride, padding, transposed, output_padding)

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        weight = weight.to(grad.dtype)  # under autocast the gradient may differ from the input
        stride, padding, transposed, in_size = ctx.conf
        if transposed:
            # The adjoint of a transposed conv is the plain conv; sizes come back exactly.
            out_pad = (0, 0)
        else:
            # The plain conv drops up to stride-1 trailing rows/columns; give them back.
            kh, kw = weight.shape[2:]
            out_pad = tuple(
                in_size[i] - ((grad.shape[2 + i] - 1) * stride - 2 * padding[i] + k)
                for i, k in enumerate((kh, kw))
            )
        if not grad.requires_grad:
            return _depthwise_conv(grad, weight, stride, padding, not transposed, out_pad), *(
                [None] * 5
            )
        gx = _DepthwiseFilter.apply(grad, weight, stride, padding, not transposed, out_pad)
        return gx, None, None, None, None, None
