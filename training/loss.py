"""StyleGAN2 losses (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN",
sections 3.1-3.2; NVIDIA's training/loss.py): non-saturating logistic loss, lazy R1 on reals
(Mescheder et al. 2018), path-length regularization, and style-mixing regularization.

`accumulate_gradients(phase, ...)` runs one phase of the loop ('Gmain', 'Greg', 'Dmain', 'Dreg')
and calls backward with `gain` (the lazy-regularization interval for reg phases). It returns the
detached statistics for logging.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from stylegan2.networks import Discriminator, Generator


@dataclass(frozen=True)
class LossConfig:
    r1_gamma: float = 10.0
    pl_weight: float = 2.0
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    style_mixing_prob: float = 0.9


def _f(t: torch.Tensor) -> torch.Tensor:
    """A statistic, left on the device: the tick reads them all at once (no stall per step)."""
    return t.detach().mean()


#: Style-mixing draws shared by all ranks: (uniform u, cutoff layer, second z batch).
MixRand = tuple[float, int, torch.Tensor]


class StyleGAN2Loss:
    def __init__(
        self,
        G: Generator,
        D: Discriminator,
        cfg: LossConfig,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        all_reduce_mean: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        """all_reduce_mean averages a tensor over DDP ranks (identity on one process)."""
        self.G = G
        self.D = D
        self.cfg = cfg
        self.augment = augment
        self.all_reduce_mean = all_reduce_mean or (lambda t: t)
        self.pl_mean = torch.zeros([], device=G.device)

    def run_G(
        self, z: torch.Tensor, c: torch.Tensor | None, mix_rand: MixRand
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generate with style-mixing regularization; the caller draws `mix_rand` from the shared
        RNG so that every DDP rank mixes at the same layer."""
        ws = self.G.mapping(z, c)
        num_ws = ws.shape[1]
        u, cutoff, z2 = mix_rand
        if self.cfg.style_mixing_prob > 0 and float(u) < self.cfg.style_mixing_prob:
            k = int(cutoff)
            mixed = self.G.mapping(z2, c, update_w_avg=False)
            ws = torch.cat([ws[:, :k], mixed[:, k:]], dim=1) if k < num_ws else ws
        img = self.G.synthesis(ws, noise_mode="random")
        return img, ws

    def run_D(self, img: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if self.augment is not None:
            img = self.augment(img)
        return self.D(img, c)

    def accumulate_gradients(
        self,
        phase: str,
        real_img: torch.Tensor,
        real_c: torch.Tensor | None,
        gen_z: torch.Tensor,
        gen_c: torch.Tensor | None,
        mix_rand: MixRand,
        gain: float,
    ) -> dict[str, torch.Tensor]:
        stats: dict[str, torch.Tensor] = {}
        if phase == "Gmain":
            gen_img, _ = self.run_G(gen_z, gen_c, mix_rand)
            logits = self.run_D(gen_img, gen_c)
            loss = F.softplus(-logits)  # -log(sigmoid(logits))
            loss.mean().mul(gain).backward()
            stats["Loss/G/loss"] = _f(loss.mean())
            stats["Loss/scores/fake"] = _f(logits.mean())

        elif phase == "Greg":
            n = max(gen_z.shape[0] // self.cfg.pl_batch_shrink, 1)
            z2 = mix_rand[2][:n]
            gen_img, ws = self.run_G(
                gen_z[:n], gen_c[:n] if gen_c is not None else None, (mix_rand[0], mix_rand[1], z2)
            )
            h, w = gen_img.shape[2:]
            pl_noise = torch.randn_like(gen_img) / math.sqrt(h * w)
            (grads,) = torch.autograd.grad(
                outputs=[(gen_img * pl_noise).sum()], inputs=[ws], create_graph=True
            )
            pl_lengths = grads.square().sum(2).mean(1).sqrt()  # [N]
            # The running mean is synchronised over ranks (and detached), so that N ranks give the
            # single-process result.
            batch_mean = self.all_reduce_mean(pl_lengths.mean().detach())
            self.pl_mean.copy_(self.pl_mean.lerp(batch_mean, self.cfg.pl_decay))
            penalty = (pl_lengths - self.pl_mean).square()
            loss = penalty * self.cfg.pl_weight
            (gen_img[:, 0, 0, 0] * 0 + loss).mean().mul(gain).backward()
            stats["Loss/pl_penalty"] = _f(penalty.mean())
            stats["Loss/G/reg"] = _f(loss.mean())
            stats["pl_mean"] = _f(self.pl_mean)

        elif phase in ("Dmain", "Dreg"):
            do_main = phase == "Dmain"
            do_r1 = phase == "Dreg"
            total = 0
            if do_main:
                with torch.no_grad():
                    gen_img, _ = self.run_G(gen_z, gen_c, mix_rand)
                gen_logits = self.run_D(gen_img, gen_c)
                loss_gen = F.softplus(gen_logits)  # -log(1 - sigmoid(gen_logits))
                loss_gen.mean().mul(gain).backward()
                stats["Loss/scores/fake"] = _f(gen_logits.mean())
                stats["Loss/D/loss_fake"] = _f(loss_gen.mean())
            real = real_img.detach().requires_grad_(do_r1)
            real_logits = self.run_D(real, real_c)
            if do_main:
                loss_real = F.softplus(-real_logits)
                total = total + loss_real
                stats["Loss/scores/real"] = _f(real_logits.mean())
                stats["Loss/signs/real"] = _f(real_logits.sign())
                stats["Loss/D/loss_real"] = _f(loss_real.mean())
            if do_r1:
                (r1_grads,) = torch.autograd.grad(
                    outputs=[real_logits.sum()], inputs=[real], create_graph=True
                )
                r1_penalty = r1_grads.square().sum([1, 2, 3])
                total = total + r1_penalty * (self.cfg.r1_gamma / 2)
                stats["Loss/r1_penalty"] = _f(r1_penalty.mean())
            (real_logits * 0 + total).mean().mul(gain).backward()
        else:
            raise ValueError(f"unknown phase {phase!r}")
        return stats
