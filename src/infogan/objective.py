"""The InfoGAN objective: the GAN game plus the variational MI bound L_I.

Which parameters each term updates (the paper's min_{G,Q} max_D V(D,G) - lambda L_I(G,Q)):

* D step  ``discriminator_loss``: the GAN loss on real and (detached) fake images, plus
  ``lambda * -log Q(c|G(z,c))``. It updates D's head, Q's head and the body they share.
* G step  ``generator_loss``: the non-saturating GAN loss plus ``lambda * -log Q(c|G(z,c))``.
  Its gradient flows through D and Q into G; only G's parameters are stepped.

With every lambda = 0 (the plain-GAN baseline) G gets no MI gradient, and Q is still fitted
on the fakes as a probe on the detached body, so D is exactly a plain GAN discriminator and
the baseline's L_I can be plotted beside InfoGAN's (the paper's Figure 1). A code whose
lambda is 0 next to codes with lambda > 0 is likewise fitted by Q with weight 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .codes import LatentSpec


@dataclass(frozen=True)
class Terms:
    """One step's losses as tensors; read them (``.item()``) only at logging ticks."""

    loss: torch.Tensor
    gan: torch.Tensor
    mi: dict[str, torch.Tensor]  # L_I per code (nats), a lower bound of I(c; G(z, c))


class InfoGANObjective:
    def __init__(self, spec: LatentSpec, lambda_cat: float, lambda_cont: float):
        self.spec = spec
        self.lambdas = {c.name: lambda_cat if c.categorical else lambda_cont for c in spec.codes}
        self.plain_gan = all(v == 0 for v in self.lambdas.values())
        # Q is always fitted: a code without MI weight is fitted with weight 1 as a probe.
        self.q_weights = {n: (v if v > 0 else 1.0) for n, v in self.lambdas.items()}

    def _mi(self, q_out: torch.Tensor, targets: dict[str, torch.Tensor], weights: dict[str, float]):
        log_q = self.spec.log_q(q_out, targets)
        loss = sum((-weights[n] * lq.mean() for n, lq in log_q.items()), q_out.new_zeros(()))
        bound = {n: b.detach() for n, b in self.spec.mi_lower_bound(log_q).items()}
        return loss, bound

    def discriminator_loss(
        self, d_real: torch.Tensor, d_fake: torch.Tensor, q_fake: torch.Tensor, targets: dict[str, torch.Tensor]
    ) -> Terms:
        gan = F.binary_cross_entropy_with_logits(
            d_real.float(), torch.ones_like(d_real, dtype=torch.float)
        ) + F.binary_cross_entropy_with_logits(d_fake.float(), torch.zeros_like(d_fake, dtype=torch.float))
        mi_loss, bound = self._mi(q_fake, targets, self.q_weights)
        return Terms(gan + mi_loss, gan.detach(), bound)

    def generator_loss(self, d_fake: torch.Tensor, q_fake: torch.Tensor, targets: dict[str, torch.Tensor]) -> Terms:
        # Non-saturating: G maximises log D(G(z, c)) rather than minimising log(1 - D).
        gan = F.binary_cross_entropy_with_logits(d_fake.float(), torch.ones_like(d_fake, dtype=torch.float))
        mi_loss, bound = self._mi(q_fake, targets, self.lambdas)
        return Terms(gan + mi_loss, gan.detach(), bound)
