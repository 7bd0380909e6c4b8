"""The InfoGAN objective: the GAN game plus the variational bound L_I on the codes' mutual information.

The paper's objective (Chen et al. 2016, section 5), and the method that computes each symbol::

    min_{G,Q} max_D  V(D, G) - λ L_I(G, Q)

    V(D, G)  = E_x[log D(x)] + E_{z,c}[log(1 - D(G(z, c)))]        the GAN game
    L_I(G, Q) = H(c) + E_{z,c}[log Q(c | G(z, c))]  <=  I(c; G(z, c))  per code: ``LatentSpec.mi_lower_bound``
    log Q(c | x)   Q's log-likelihood of the code's sampled value      ``LatentSpec.log_q``
    H(c)           the prior's entropy (ln k; ln 2 for Unif(-1, 1))   ``CodeSpec.entropy``

H(c) is a constant, so maximising L_I is minimising -E[log Q]. Each code i has its own λ_i (``loss.lambda_cat``
for categorical codes, ``loss.lambda_cont`` for continuous ones). The two steps minimise, with BCE the binary
cross-entropy of D's logit against a label (BCE(d, 1) = -log D, BCE(d, 0) = -log(1 - D))::

    D/Q step  (``discriminator_loss``; updates D's head, Q's head and the body they share):
      BCE(D(x), 1) + BCE(D(G(z, c)), 0)  -  Σ_i w_i E[log Q(c_i | G(z, c))]  +  γ_c C  -  γ_r R
    G step    (``generator_loss``; only G is stepped, its gradient flows through D and Q):
      BCE(D(G(z, c)), 1)  -  Σ_i λ_i E[log Q(c_i | G(z, c))]  +  α CE(H(G(z, c), G(z', c')), I)  +  β P
    H step    (``contrastive``; InfoGAN-CR only; updates H):
      CE(H(G(z, c), G(z', c')), I)

* The first two terms are -V(D, G) (``Terms.gan``); G's is the non-saturating -E[log D(G(z, c))] in place of
  E[log(1 - D(G(z, c)))] (Goodfellow et al. 2014), for gradients while D still tells fakes apart easily.
* w_i = λ_i, or 1 where λ_i = 0 (``lambdas_or_probe``; G's weights are ``lambdas``). Q fits a code whose λ is 0
  as a probe: G gets no gradient from it, and with every λ = 0 (the plain-GAN baseline) Q reads a detached body,
  so D is exactly a plain GAN discriminator and the baseline's L_I can be plotted beside InfoGAN's (the paper's
  Figure 1).
* C, weight γ_c = ``loss.consistency`` (``consistency``; not in the paper, 0 gives its objective):
  Σ over categorical codes of E_x[CE(Q(c | x), Q(c | T(x)))], Q's posterior on a real image moved by a small random
  affine map T (``infogan.augment``) against its posterior on the original, held fixed.
* R, weight γ_r = ``loss.real_info`` (``real_info``; not in the paper either): Σ over categorical codes of
  H(E_x Q(c | x)) - E_x H(Q(c | x)), on the real batch (its first ``loss.consistency_batch`` images when set).

* The contrastive regulariser, weight α = ``loss.contrastive`` (InfoGAN-CR, Lin et al. 2020; 0 gives the paper's
  objective): pairs of images from independent draws (z, c) and (z', c') that share the value of one code I, chosen
  uniformly (``LatentSpec.sample_pairs``); a network H of its own (``nets.PairClassifier``) learns to tell I from the
  pair, and G is trained to make that easy, so that changing one code changes the image in a way no other code does.

* The Hessian penalty P, weight β = ``loss.hessian`` (Peebles et al. 2020; 0 gives the paper's objective): the mean
  square, over pixels, of G's mixed second derivative d2 G / dc_a dc_b for each pair of continuous codes, by central
  differences on the first ``loss.hessian_batch`` latents. Nothing in L_I tells two continuous codes from a rotation
  of them (c1 moving slant and width together, c2 slant against width); P is 0 where each code's effect on the
  image does not depend on the others' values (G = f(a) + g(b) pixel by pixel), and a rotation of two such codes
  has P > 0 unless both bend the image alike (d2 G / du dv = (f'' - g'') / 2 for u, v at 45 degrees).

* The orthogonality penalty O, weight δ = ``loss.orthogonal`` (0 gives the paper's objective): the mean, over pairs
  of continuous codes and latents, of cos^2 between G's image changes dG/dc_a and dG/dc_b, from the same central
  differences. A code rotated between two factors whose image changes s and w are orthogonal moves the image along
  cos(t) s + sin(t) w, the other along -sin(t) s + cos(t) w; their inner product sin(t) cos(t) (|w|^2 - |s|^2) is 0
  only at t = 0 or 90 degrees unless |s| = |w| (as in OroJaR, Wei et al. 2021). The cosine, unlike the Hessian
  penalty's square, does not shrink when a code stops acting, so it cannot be met by silencing one; it can be met
  by changes of equal size, or by orthogonal directions other than the factors' (``infogan.metrics.directions``).

Why the added terms. Nothing in L_I prefers a code that names the digit to one that splits two similar digits (4
and 9) by slant instead: both carry the same information. Slant, size and position change under small affine maps
while the digit does not, so C breaks that tie without labels; the continuous codes, which should follow slant and
width, are left out of it. R is the mutual information between a real image and its code value under Q (as in
IMSAT, Hu et al. 2017). L_I asks Q to recover c from G's images only; a seed whose G draws 4 for two values of c and
9 for none leaves Q unsure between those two values on real 4s and 9s (high H(c|x)), and R makes that costly: real
images must be told apart confidently, with every value in use. It ties Q's reading of the real data to the same
code that G is asked to express. It assumes classes of similar size. Both stay 0 when every λ is 0 or there is no
categorical code.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import torch
import torch.nn.functional as F

from .codes import Latent, LatentSpec


@dataclass(frozen=True)
class Terms:
    """One step's losses as tensors; read them (``.item()``) only at logging ticks."""

    loss: torch.Tensor
    gan: torch.Tensor
    l_i: dict[str, torch.Tensor]  # L_I per code (nats): the bound, not the mutual information I(c; G(z, c)) itself
    consistency: torch.Tensor | None = None  # the consistency term, when it is on
    real_info: torch.Tensor | None = None  # H(c) - H(c|x) on the real batch (nats), when its term is on
    hessian: torch.Tensor | None = None  # the Hessian penalty (G's step), when its term is on
    orthogonal: torch.Tensor | None = None  # the orthogonality penalty (G's step), when its term is on


class InfoGANObjective:
    def __init__(self, spec: LatentSpec, lambda_cat: float, lambda_cont: float, consistency: float = 0.0,
                 real_info: float = 0.0, contrastive: float = 0.0, hessian: float = 0.0, orthogonal: float = 0.0):
        self.spec = spec
        self.contrastive_weight = contrastive
        self.hessian_weight = hessian
        self.orthogonal_weight = orthogonal
        self.lambdas = {c.name: lambda_cat if c.categorical else lambda_cont for c in spec.codes}  # λ_i: G's weights
        self.plain_gan = all(v == 0 for v in self.lambdas.values())
        # The plain GAN keeps Q a probe that cannot shape D, so it has no consistency term either.
        useful = any(c.categorical for c in spec.codes) and not self.plain_gan
        self.consistency_weight = consistency if useful else 0.0
        self.real_info_weight = real_info if useful else 0.0
        # w_i, the D/Q step's: Q is always fitted, a code without weight in G's loss with weight 1 as a probe.
        self.lambdas_or_probe = {n: (v if v > 0 else 1.0) for n, v in self.lambdas.items()}

    def _info_loss(self, q_out: torch.Tensor, targets: dict[str, torch.Tensor], weights: dict[str, float]):
        """-Σ_i weights_i E[log Q(c_i | x)], and L_I per code (detached, for the log)."""
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
        loss, bound = self._info_loss(q_fake, targets, self.lambdas_or_probe)
        loss, consistency, real_info = gan + loss, None, None
        if q_moved is not None:
            consistency = self.consistency(q_real, q_moved)
            loss, consistency = loss + self.consistency_weight * consistency, consistency.detach()
        if self.real_info_weight and q_real is not None:
            real_info = self.real_info(q_real)
            loss, real_info = loss - self.real_info_weight * real_info, real_info.detach()
        return Terms(loss, gan.detach(), bound, consistency, real_info)

    def mixed_partials(self, latent: Latent, eps: float) -> list[Latent]:
        """For each pair (a, b) of continuous codes, ``latent`` moved by (+eps, +eps), (+eps, -eps), (-eps, +eps)
        and (-eps, -eps) in (a, b): what :meth:`hessian` and :meth:`orthogonality` take G's images of, in that
        order."""
        names = [c.name for c in self.spec.codes if not c.categorical]
        moved = []
        for a, b in combinations(names, 2):
            for da, db in ((eps, eps), (eps, -eps), (-eps, eps), (-eps, -eps)):
                moved.append(Latent(latent.z, latent.codes | {a: latent.codes[a] + da, b: latent.codes[b] + db}))
        return moved

    @staticmethod
    def _corners(images: torch.Tensor, n: int) -> tuple[torch.Tensor, ...]:
        """G's images of :meth:`mixed_partials`' latents (``n`` of them), stacked in order, as the images at
        (+eps, +eps), (+eps, -eps), (-eps, +eps) and (-eps, -eps), each [pairs, n, pixels] in fp32."""
        return images.float().flatten(1).unflatten(0, (-1, 4, n)).unbind(1)

    @staticmethod
    def code_changes(images: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """G's image changes along a and along b (central differences, unscaled), each [pairs, n, pixels], from its
        images of :meth:`mixed_partials`' latents (``n`` of them), stacked in order."""
        pp, pm, mp, mm = InfoGANObjective._corners(images, n)
        return pp + pm - mp - mm, pp - pm + mp - mm

    @staticmethod
    def hessian(images: torch.Tensor, n: int, eps: float) -> torch.Tensor:
        """The Hessian penalty from G's images of :meth:`mixed_partials`' latents (``n`` of them), stacked in order:
        the mean square of the central-difference mixed derivative d2 G / da db, over pairs, latents and pixels."""
        pp, pm, mp, mm = InfoGANObjective._corners(images, n)
        return ((pp - pm - mp + mm) / (4 * eps * eps)).pow(2).mean()

    @staticmethod
    def orthogonality(images: torch.Tensor, n: int) -> torch.Tensor:
        """The orthogonality penalty from G's images of :meth:`mixed_partials`' latents (``n`` of them), stacked in
        order: the mean over pairs and latents of cos^2 between the image changes along a and along b."""
        along_a, along_b = InfoGANObjective.code_changes(images, n)
        return F.cosine_similarity(along_a, along_b, dim=-1, eps=1e-8).pow(2).mean()

    @staticmethod
    def contrastive(pair_logits: torch.Tensor, shared: torch.Tensor) -> torch.Tensor:
        """H's cross-entropy: how badly it names the code each pair shares (``shared``, an index into the codes)."""
        return F.cross_entropy(pair_logits.float(), shared)

    def generator_loss(self, d_fake: torch.Tensor, q_fake: torch.Tensor, targets: dict[str, torch.Tensor],
                       pair_logits: torch.Tensor | None = None, shared: torch.Tensor | None = None,
                       hessian: torch.Tensor | None = None, orthogonal: torch.Tensor | None = None) -> Terms:
        """``pair_logits`` (H on the step's pairs) and ``shared`` add the contrastive term, ``hessian``
        (:meth:`hessian`) the Hessian penalty, ``orthogonal`` (:meth:`orthogonality`) the orthogonality penalty."""
        # Non-saturating: G maximises log D(G(z, c)) rather than minimising log(1 - D).
        gan = F.binary_cross_entropy_with_logits(d_fake.float(), torch.ones_like(d_fake, dtype=torch.float))
        loss, bound = self._info_loss(q_fake, targets, self.lambdas)
        loss = gan + loss
        if pair_logits is not None:
            loss = loss + self.contrastive_weight * self.contrastive(pair_logits, shared)
        if hessian is not None:
            loss = loss + self.hessian_weight * hessian
        if orthogonal is not None:
            loss = loss + self.orthogonal_weight * orthogonal
        return Terms(loss, gan.detach(), bound, hessian=None if hessian is None else hessian.detach(),
                     orthogonal=None if orthogonal is None else orthogonal.detach())
