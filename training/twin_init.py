"""How the AdaIN twin's generator starts: its tRGB outputs above 4x4 begin at zero.

Instance normalisation holds every AdaIN feature map at unit scale, so in a skip generator each
resolution's tRGB adds an image of full strength from the first step: the sum is saturated
high-frequency colour, D rejects it at once (fake scores -10 after 3 kimg on the procedural faces,
measured) and G does not recover. A demodulated generator shrinks its high-resolution features by
itself (b64 features at std 0.02 after 2 kimg, against 1.4 for AdaIN), so it starts from the coarse
image and adds detail, as the StyleGAN2 paper's resolution-usage figure shows. Starting the twin's
higher tRGB weights at zero gives it the same coarse-to-fine start that progressive growing's
fade-in gave StyleGAN1; Adam then grows them at the usual equalized-lr pace. A resumed run loads
its weights over these."""

from __future__ import annotations

import torch

from stylegan2.networks import Generator


@torch.no_grad()
def zero_high_res_torgb(G: Generator) -> None:
    """Zero the tRGB weights of every block above the first (the 4x4 one keeps its init)."""
    for name, p in G.named_parameters():
        if name.endswith("torgb.weight") and not name.startswith("synthesis.b4."):
            p.zero_()
