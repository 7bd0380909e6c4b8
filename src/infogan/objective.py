"""The InfoGAN objective: the GAN game plus the variational MI bound L_I.

Which parameters each term updates (the paper's min_{G,Q} max_D V(D,G) - lambda L_I(G,Q)):

* D step  ``discriminator_loss``: the GAN loss on real and (detached) fake images, plus
  ``lambda * -log Q(c|G(z,c))``, and with a consistency weight > 0 the consistency term on real
  images (below). It updates D's head, Q's head and the body they share.
* G step  ``generator_loss``: the non-saturating GAN loss plus ``lambda * -log Q(c|G(z,c))``.
  Its gradient flows through D and Q into G; only G's parameters are stepped.

With every lambda = 0 (the plain-GAN baseline) G gets no MI gradient, and Q is still fitted
on the fakes as a probe on the detached body, so D is exactly a plain GAN discriminator and
the baseline's L_I can be plotted beside InfoGAN's (the paper's Figure 1). A code whose
lambda is 0 next to codes with lambda > 0 is likewise fitted by Q with weight 1.

The consistency term (not in the paper; weight 0 gives the paper's objective) asks Q's posterior
over each categorical code to stay the same when a real image is moved by a small random affine
map (``infogan.augment``). Nothing in L_I prefers a code that names the digit to one that splits
two similar digits (4 and 9) by slant instead: both carry the same information. Slant, size and
position change under such maps while the digit does not, so the term breaks that tie without
labels; the continuous codes, which should follow slant and width, are left out of it.

The real-information term (not in the paper either; weight 0 gives the paper's objective) raises
H(c) - H(c|x) of Q's categorical posteriors over each batch of real images, the mutual information
between a real image and its code value under Q (as in IMSAT, Hu et al. 2017). L_I asks Q to recover
c from G's images only; a seed whose G draws 4 for two values of c and 9 for none leaves Q unsure
between those two values on real 4s and 9s (high H(c|x)), and the term makes that costly: real
images must be told apart confidently, with every value in use. It ties Q's reading of the real
data to the same code that G is asked to express. It assumes classes of similar size.
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
    consistency: torch.Tensor | None = None  # the consistency term, when it is on
    real_info: torch.Tensor | None = None  # H(c) - H(c|x) on the real batch (nats), when its term is on


class InfoGANObjective:
    def __init__(self, spec: LatentSpec, lambda_cat: float, lambda_cont: float, consistency: float = 0.0,
                 real_info: float = 0.0):
        self.spec = spec
        self.lambdas = {c.name: lambda_cat if c.categorical else lambda_cont for c in spec.codes}
        self.plain_gan = all(v == 0 for v in self.lambdas.values())
        # The plain GAN keeps Q a probe that cannot shape D, so it has no consistency term either.
        useful = any(c.categorical for c in spec.codes) and not self.plain_gan
        self.consistency_weight = consistency if useful else 0.0
        self.real_info_weight = real_info if useful else 0.0
        # Q is always fitted: a code without MI weight is fitted with weight 1 as a probe.
        self.q_weights = {n: (v if v > 0 else 1.0) for n, v in self.lambdas.items()}

    def _mi(self, q_out: torch.Tensor, targets: dict[str, torch.Tensor], weights: dict[str, float]):
        log_q = self.spec.log_q(q_out, targets)
        loss = sum((-weights[n] * lq.mean() for n, lq in log_q.items()), q_out.new_zeros(()))
        bound = {n: b.detach() for n, b in self.spec.mi_lower_bound(log_q).items()}
        return loss, bound

    def consistency(self, q_real: torch.Tensor, q_moved: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of Q's categorical posteriors on moved real images against its posteriors on the
        originals (held fixed as targets), summed over categorical codes, mean over the batch."""
        real, moved = self.spec.split_q(q_real), self.spec.split_q(q_moved)
        total = q_real.new_zeros((), dtype=torch.float)
        for c in self.spec.codes:
            if c.categorical:
                target = real[c.name].logits.detach().float().softmax(1)
                total = total - (target * moved[c.name].logits.float().log_softmax(1)).sum(1).mean()
        return total

    def real_info(self, q_real: torch.Tensor) -> torch.Tensor:
        """H(c) - H(c|x) of Q's posteriors on a batch of real images, summed over categorical codes: the information
        Q's code carries about the images, large when each image gets one value confidently (low H(c|x)) and
        the values are used equally often over the batch (high H(c))."""
        real = self.spec.split_q(q_real)
        total = q_real.new_zeros((), dtype=torch.float)
        for c in self.spec.codes:
            if c.categorical:
                log_p = real[c.name].logits.float().log_softmax(1)
                p = log_p.exp()
                marginal = p.mean(0)
                total = total - (marginal * marginal.clamp_min(1e-12).log()).sum() + (p * log_p).sum(1).mean()
        return total

    def discriminator_loss(
        self, d_real: torch.Tensor, d_fake: torch.Tensor, q_fake: torch.Tensor, targets: dict[str, torch.Tensor],
        q_real: torch.Tensor | None = None, q_moved: torch.Tensor | None = None,
    ) -> Terms:
        """``q_real`` and ``q_moved`` (Q on real images and on the same images moved) add the consistency term;
        ``q_real`` alone the real-information term, when its weight is > 0."""
        gan = F.binary_cross_entropy_with_logits(
            d_real.float(), torch.ones_like(d_real, dtype=torch.float)
        ) + F.binary_cross_entropy_with_logits(d_fake.float(), torch.zeros_like(d_fake, dtype=torch.float))
        loss, bound = self._mi(q_fake, targets, self.q_weights)
        loss, consistency, real_info = gan + loss, None, None
        if q_moved is not None:
            consistency = self.consistency(q_real, q_moved)
            loss, consistency = loss + self.consistency_weight * consistency, consistency.detach()
        if self.real_info_weight and q_real is not None:
            real_info = self.real_info(q_real)
            loss, real_info = loss - self.real_info_weight * real_info, real_info.detach()
        return Terms(loss, gan.detach(), bound, consistency, real_info)

    def generator_loss(self, d_fake: torch.Tensor, q_fake: torch.Tensor, targets: dict[str, torch.Tensor]) -> Terms:
        # Non-saturating: G maximises log D(G(z, c)) rather than minimising log(1 - D).
        gan = F.binary_cross_entropy_with_logits(d_fake.float(), torch.ones_like(d_fake, dtype=torch.float))
        mi_loss, bound = self._mi(q_fake, targets, self.lambdas)
        return Terms(gan + mi_loss, gan.detach(), bound)
