"""ModelCentrality (Lin et al., ICML 2020, "InfoGAN-CR and ModelCentrality: Self-supervised Model Training and
Selection for Disentangling GANs"): among several models with the same codes, the one whose codes agree best with
the other models' codes, without labels.

Agreement of model i with model j: model i's generator is taken as a data set whose factors are its own codes, and
model j's Q is scored as an encoder of it by the FactorVAE score (Kim & Mnih, 2018), with the vote and the
majority-vote classifier of :mod:`infogan.metrics.disentanglement`. A vote draws ``batch`` latents of model i with
one code fixed at a value drawn from its prior and the other codes and the noise drawn afresh; Q_j reads G_i's
images (as uint8, as it reads a data set) and the vote goes to the code of Q_j whose variance over the batch,
divided by its variance over all of model i's vote images, is the least (codes whose standard deviation there is
below 0.05 are left out, as in the FactorVAE score: a Q that reads nothing scores 0). The fixed code cycles through
model i's codes, so each gets the same number of votes. Each code of Q_j stands for the code of model i it got most
votes for, and the score is the share of votes that this classifier gets right, on the votes it was fitted to, as
InfoGAN-CR's code scores it: it has one entry per code, too few to fit the noise of a hundred votes.

s(i, j) = (score of Q_j on G_i + score of Q_i on G_j) / 2; the centrality of model i is the mean of s(i, j) over the
other models. The score ignores which output stands for which code, so two models that found the same factors in
another order agree fully; a model whose codes mean nothing agrees with none.

Representation: a continuous code's mean, and a categorical code's k softmax probabilities (the expected one-hot,
as :func:`~infogan.metrics.disentanglement.q_representation` gives them) taken together, the code's variance being
the sum of theirs: not its argmax class, whose variance depends on the arbitrary order of the values, and not k
dimensions of their own, since a batch of 16 images often misses a value altogether and leaves its probability
still without the code being fixed (on the test seeds' models, k dimensions scored each model 0.74-0.84 with itself,
one variance per code 1.00).

Settings: InfoGAN-CR's code draws 500 votes of 100 images per model on a GPU, and the package's FactorVAE score
15,000 votes of 64. Here a model costs a G pass and each pair a Q pass over ``n_votes * batch`` images, about
0.5 ms per image and pass for the mnist networks on a busy 2-core CPU, so the defaults are 96 votes of 16
images (1,536 per model): 3 models take about 7 s, 5 about 20 s. Fewer images make the scores noisier: on 3 test
seeds' models and a plain GAN the centralities moved by up to 0.03 between two seeds of the votes, and agreed with
300 votes of 32 to 0.03, while the GAN stood 0.2-0.3 below the others. Every model draws the same latents (common
random numbers), so part of the noise is shared by the scores being compared.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..codes import Latent
from ..errors import ConfigError
from ..model import InfoGAN
from .disentanglement import active_dims, least_variance_dim, majority_vote_accuracy, q_representation

CENTRALITY_VOTES = 96
CENTRALITY_BATCH = 16
CHUNK = 1024  # images per pass of G and Q


def pairwise_similarity(models: Sequence[InfoGAN], n_votes: int = CENTRALITY_VOTES, batch: int = CENTRALITY_BATCH,
                        seed: int = 0, diagonal: bool = True) -> np.ndarray:
    """s(i, j) for every pair of ``models`` [M, M], symmetric; ``diagonal = False`` leaves each model's agreement
    with itself out (NaN), which :func:`centrality` does not need: M fewer Q passes."""
    _check(models, n_votes, batch)
    m = len(models)
    scores = np.full((m, m), np.nan)  # [i, j]: Q_j on G_i's images
    for i, maker in enumerate(models):
        readers = [j for j in range(m) if diagonal or j != i]
        for j, rep in zip(readers, _vote_representations(maker, [models[j] for j in readers], n_votes, batch, seed)):
            scores[i, j] = _score(rep, models[j], len(maker.spec.codes))
    return (scores + scores.T) / 2


def centrality(models: Sequence[InfoGAN], n_votes: int = CENTRALITY_VOTES, batch: int = CENTRALITY_BATCH,
               seed: int = 0) -> list[float]:
    """Each model's mean similarity with the other models (0 for a model alone)."""
    if len(models) < 2:
        return [0.0] * len(models)
    s = pairwise_similarity(models, n_votes, batch, seed, diagonal=False)
    return [float(np.nanmean(row)) for row in s]


def _check(models: Sequence[InfoGAN], n_votes: int, batch: int) -> None:
    if batch < 2 or n_votes < 1:
        raise ConfigError(f"centrality needs votes of 2 or more images, and 1 or more votes; got {n_votes} of {batch}")
    kinds = {(m.image_shape, tuple((c.kind, c.k) for c in m.spec.codes)) for m in models}
    if len(kinds) > 1:
        raise ConfigError("centrality compares models with the same image shape and the same kinds of codes")
    if models and not models[0].spec.codes:
        raise ConfigError("centrality compares the models' codes, and these models have none")


def _vote_latents(model: InfoGAN, n_votes: int, batch: int, seed: int) -> Latent:
    """``n_votes`` batches of latents in a row, vote v's code v % (number of codes) fixed at its first draw."""
    latent = model.spec.sample(n_votes * batch, torch.Generator().manual_seed(seed))
    fixed = torch.arange(n_votes) % len(model.spec.codes)
    for f, code in enumerate(model.spec.codes):
        values = latent.codes[code.name].view(n_votes, batch)  # a view: writes go into the latent
        values[fixed == f] = values[fixed == f][:, :1].expand(-1, batch)
    return latent


def _vote_representations(maker: InfoGAN, readers: list[InfoGAN], n_votes: int, batch: int,
                          seed: int) -> list[np.ndarray]:
    """Each reader's representation [n_votes, batch, D] of the maker's vote images, generated once for all."""
    latent = _vote_latents(maker, n_votes, batch, seed)
    parts: list[list[np.ndarray]] = [[] for _ in readers]
    for start in range(0, n_votes * batch, CHUNK):
        chunk = latent[start : start + CHUNK]
        images = (maker.generate(chunk) * 255).round().to(torch.uint8)
        for part, reader in zip(parts, readers):
            part.append(q_representation(reader, images).values)
    return [np.concatenate(part).reshape(n_votes, batch, -1) for part in parts]


def _score(rep: np.ndarray, reader: InfoGAN, n_codes: int) -> float:
    """The FactorVAE score of ``reader``'s Q on a maker's votes ``rep`` [n_votes, batch, D] (vote v fixed the
    maker's code v % ``n_codes``), with one variance per code of the reader: the sum of its columns' variances."""
    widths = [code.k if code.categorical else 1 for code in reader.spec.codes]  # q_representation's columns
    member = np.repeat(np.eye(len(widths)), widths, axis=0)  # [D, codes]
    global_var = rep.reshape(-1, rep.shape[2]).var(axis=0, ddof=1) @ member  # each code follows its prior over all votes
    local_var = rep.var(axis=1, ddof=1) @ member  # [n_votes, codes]
    active = active_dims(global_var)
    if active.size == 0:
        return 0.0
    table = np.zeros((n_codes, len(widths)), dtype=np.int64)
    for v in range(len(rep)):
        table[v % n_codes, least_variance_dim(local_var[v], global_var, active)] += 1
    return majority_vote_accuracy(table, table)[0]  # scored on the votes it was fitted to, as InfoGAN-CR does
