"""What each continuous code controls, measured: Morpho-MNIST's shape measures along code traversals.

Morphometry follows Morpho-MNIST (Castro et al., 2019, "Morpho-MNIST: quantitative assessment and diagnostics for
representation learning"): a 28x28 digit is upscaled 4x (bicubic) and thresholded at half intensity, and on that mask

- **thickness**: twice the mean distance to the background along the stroke's medial axis (here the ridge of the
  distance transform, scipy's stand-in for a skeleton), in pixels of the 28x28 image;
- **slant**: the horizontal shear that makes the mask's second moments upright, as an angle in degrees, positive
  when the top of the digit leans right;
- **width** and **height**: the extent of the de-slanted mask across and along the digit's axis (1st to 99th
  percentile of its pixels' coordinates, so a stray speck does not count), in pixels;
- **area**: the mask's pixel count, in pixels of the 28x28 image.

A code's effect is read along traversals: each row fixes z (and every other code; the first categorical code takes
each of its values in turn, over several rows each) and varies one continuous code from -1 to 1. Per row, the
Spearman correlation of the code's value with each measure; the code's rho for a measure is the mean over rows. A
code that controls one factor has one large |rho| and small others. "Identity kept" is the share of traversal
images Q still reads as the row's categorical value, and "digit kept" the share the FD-digits classifier gives the
same digit as the row's middle (c = 0) image: a code that turns a 4 into a 9 scores low on both.

The measures are not independent of each other, so a code's *next* |rho| is a poor test of one code, one factor:
a pure horizontal stretch of real digits also moves their area and stroke thickness (|rho| near 1), and a pure shear
moves their thickness (|rho| 0.5 to 0.7), as :func:`reference_effects` measures. What a pure factor leaves alone is the
other factor's measure, so several codes are judged together by :func:`pair_codes`: each code matched to its own
measure, and the largest |rho| of any code on another code's measure (the *cross* |rho|).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import permutations

import numpy as np
import torch
from scipy import ndimage, stats

from ..codes import Latent
from ..model import InfoGAN
from .digit_classifier import load_classifier
from .sample_quality import applies_to

MEASURES = ("thickness", "slant", "width", "height", "area")
UPSCALE = 4
THRESHOLD = 0.5
_PERCENTILES = (1.0, 99.0)
EXTRAPOLATED_SPAN = 2.0  # the paper varies its continuous codes from -2 to 2, twice the prior's range


def morphometry(images: torch.Tensor | np.ndarray, batch_size: int = 500) -> dict[str, np.ndarray]:
    """Each of :data:`MEASURES` for a batch of grey digits [N, 28, 28] or [N, 1, 28, 28] (uint8, or floats in
    [0, 1]); NaN where an image has less than a pixel of ink, or no background."""
    x = torch.as_tensor(images).detach().cpu()
    x = (x.float() / 255.0 if x.dtype == torch.uint8 else x.float()).reshape(len(x), 1, *x.shape[-2:])
    parts = []
    for batch in x.split(batch_size):
        big = torch.nn.functional.interpolate(batch, scale_factor=UPSCALE, mode="bicubic", align_corners=False)
        parts.append(_measure(big[:, 0].numpy() > THRESHOLD))
    return {name: np.concatenate([p[name] for p in parts]) for name in MEASURES}


def _measure(mask: np.ndarray) -> dict[str, np.ndarray]:
    """The measures of boolean masks [N, H, W]."""
    out = {name: np.full(len(mask), np.nan) for name in MEASURES}
    for i, one in enumerate(mask):
        rows, cols = np.nonzero(one)
        if len(rows) < UPSCALE * UPSCALE or len(rows) == one.size:  # under a pixel of ink, or no background
            continue
        dy, dx = rows - rows.mean(), cols - cols.mean()
        var_y = float((dy * dy).mean())
        # Rows grow downwards, so a digit leaning right has x falling as y grows: shear = -cov(x, y) / var(y).
        shear = -float((dx * dy).mean()) / var_y if var_y > 0 else 0.0
        # The digit's bounding box with a margin of background: the same distances, a third of the pixels.
        box = np.pad(one[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1], 1)
        dist = ndimage.distance_transform_edt(box)
        ridge = box & (dist >= ndimage.maximum_filter(dist, size=3))
        out["thickness"][i] = 2.0 * dist[ridge].mean() / UPSCALE
        out["slant"][i] = np.degrees(np.arctan(shear))
        out["width"][i] = (np.diff(np.percentile(dx + shear * dy, _PERCENTILES))[0] + 1) / UPSCALE
        out["height"][i] = (np.diff(np.percentile(rows, _PERCENTILES))[0] + 1) / UPSCALE
        out["area"][i] = len(rows) / UPSCALE**2
    return out


@dataclass(frozen=True)
class CodeEffect:
    """What one continuous code does to the digits along its traversals."""

    rho: dict[str, float]  # measure -> mean over rows of the Spearman rho of code value and measure
    dominant: str  # the measure with the largest |rho|
    other: float  # the largest |rho| among the other measures
    digit_kept: float  # share of images the digit classifier labels as the row's middle (c = 0) image
    identity_kept: float | None  # share Q reads as the row's categorical value; None without a categorical code
    rows: int
    steps: int
    span: float = 1.0  # the code went from -span to span

    def gap(self, other: CodeEffect) -> float:
        """The largest change of any rho or of the digit kept between this traversal and another of the same code
        (the paper extrapolates to -2..2 a code trained on -1..1: a code that holds its meaning changes little)."""
        changes = [abs(self.rho[m] - other.rho[m]) for m in self.rho if np.isfinite(self.rho[m] - other.rho[m])]
        return max([*changes, abs(self.digit_kept - other.digit_kept)])

    def to_dict(self) -> dict:
        return asdict(self)


def row_spearman(values: np.ndarray) -> float:
    """Mean over rows of the Spearman rho of each row [rows, steps] against its column order (the code's values,
    increasing). A row with NaN is left out; a row that does not change correlates 0."""
    values = values[~np.isnan(values).any(1)]
    if len(values) == 0:
        return float("nan")
    ranks = stats.rankdata(values, axis=1)
    order = np.arange(1, values.shape[1] + 1, dtype=np.float64)
    a = ranks - ranks.mean(1, keepdims=True)
    b = order - order.mean()
    norm = np.sqrt((a * a).sum(1) * (b * b).sum())
    rho = np.divide((a * b).sum(1), norm, out=np.zeros(len(a)), where=norm > 0)
    return float(rho.mean())


def effect_from_traversal(measures: dict[str, np.ndarray], digit_kept: float, identity_kept: float | None,
                          span: float = 1.0) -> CodeEffect:
    """A :class:`CodeEffect` from each measure as [rows, steps] arrays along a code's traversals."""
    rho = {name: row_spearman(v) for name, v in measures.items()}
    finite = {name: abs(r) for name, r in rho.items() if np.isfinite(r)}
    dominant = max(finite, key=finite.get) if finite else MEASURES[0]
    other = max((v for name, v in finite.items() if name != dominant), default=float("nan"))
    rows, steps = next(iter(measures.values())).shape
    return CodeEffect(rho, dominant, other, digit_kept, identity_kept, rows, steps, span)


@dataclass(frozen=True)
class Pairing:
    """Several continuous codes matched one-to-one to distinct measures: the match whose weakest code moves its own
    measure most, of those the one whose codes move each other's measures least."""

    measures: dict[str, str]  # code -> its own measure
    own: float  # the smallest |rho| of a code on its own measure
    cross: float  # the largest |rho| of a code on another code's measure

    def to_dict(self) -> dict:
        return asdict(self)


def pair_codes(rho: dict[str, dict[str, float]]) -> Pairing | None:
    """The :class:`Pairing` of codes given each code's rho per measure; None for fewer than two codes, or more codes
    than measures."""
    codes = list(rho)
    measures = sorted({m for r in rho.values() for m in r if np.isfinite(r[m])})
    if not 2 <= len(codes) <= len(measures):
        return None

    def size(code: str, measure: str) -> float:  # |rho|, 0 where the measure failed
        value = rho[code].get(measure, float("nan"))
        return abs(value) if np.isfinite(value) else 0.0

    def score(match: tuple[str, ...]) -> tuple[float, float]:
        own = min(size(c, m) for c, m in zip(codes, match))
        cross = max(size(c, m) for c, mine in zip(codes, match) for m in match if m != mine)
        return own, cross

    def preference(match: tuple[str, ...]) -> tuple[float, float]:
        # Each code's own measure is one it moves: the largest smallest own |rho| (to the 0.01 it is read to: a
        # wider digit's width and area both rise, rho 1.00), then the smallest cross |rho|.
        own, cross = score(match)
        return round(own, 2), -cross

    best = max(permutations(measures, len(codes)), key=preference)
    own, cross = score(best)
    return Pairing(dict(zip(codes, best)), own, cross)


PURE_FACTORS = {"slant": (-0.3, 0.3), "width": (0.8, 1.2)}  # each pure factor's range in reference_effects


def pure_factor(image: np.ndarray, factor: str, amount: float, tangent: float) -> np.ndarray:
    """A digit [28, 28] (floats) changed by one of the paper's factors alone. ``slant``: a horizontal shear adding
    ``amount`` to the tangent of its slant; ``width``: stretched ``amount`` times across its own axis (its slant,
    ``tangent``, undone, then redone), which leaves the slant."""

    def shear(t: float) -> np.ndarray:  # output (row, col) <- input (row, col + t * row): the top leans right
        return np.array([[1.0, 0.0], [t, 1.0]])

    matrix = shear(amount) if factor == "slant" else shear(-tangent) @ np.diag([1.0, 1.0 / amount]) @ shear(tangent)
    centre = np.array([13.5, 13.5])
    return ndimage.affine_transform(image, matrix, centre - matrix @ centre, order=1)


def slant_tangents(digits: np.ndarray) -> np.ndarray:
    """The tangent of each digit's slant (0 where it cannot be measured), for :func:`pure_factor`."""
    return np.tan(np.radians(np.nan_to_num(morphometry(digits)["slant"])))


def reference_effects(digits: np.ndarray, steps: int = 9) -> dict[str, CodeEffect]:
    """What a code that *is* one factor would score: :class:`CodeEffect` of each :func:`pure_factor` over its
    :data:`PURE_FACTORS` range, on real digits [N, 28, 28] (uint8, or floats in [0, 1]), each row one digit. Digit
    and identity kept are not measured (1.0 and None)."""
    x = np.asarray(digits, np.float32).reshape(-1, 28, 28)
    x = x / 255.0 if np.asarray(digits).dtype == np.uint8 else x
    tangents = slant_tangents(x)
    effects = {}
    for factor, (low, high) in PURE_FACTORS.items():
        images = np.stack([pure_factor(image, factor, a, t) for image, t in zip(x, tangents)
                           for a in np.linspace(low, high, steps)])
        measured = {k: v.reshape(len(x), steps) for k, v in morphometry(images).items()}
        effects[factor] = effect_from_traversal(measured, digit_kept=1.0, identity_kept=None)
    return effects


def applies(model: InfoGAN) -> bool:
    """Morphometry reads 28x28 grey digits, and needs a continuous code to traverse."""
    return applies_to(model.image_shape) and any(not c.categorical for c in model.spec.codes)


@torch.no_grad()
def code_effects(model: InfoGAN, rows_per_value: int = 10, steps: int = 9, seed: int = 0,
                 span: float = 1.0) -> dict[str, CodeEffect]:
    """:class:`CodeEffect` of every continuous code of a 28x28 grey model, over ``rows_per_value`` rows for each value
    of the first categorical code (or as many rows in all without one), the code going from -span to span in ``steps``
    (the same rows, z and codes for every span)."""
    if not applies(model):
        return {}
    spec = model.spec
    cats = [c for c in spec.codes if c.categorical]
    first = cats[0] if cats else None
    n_rows = rows_per_value * (first.k if first else 1)
    values = torch.linspace(-span, span, steps)
    base = spec.sample(n_rows, torch.Generator().manual_seed(seed))
    if first is not None:  # every value of the first categorical code, over rows_per_value rows each
        base.codes[first.name] = torch.arange(n_rows) % first.k
    classifier = load_classifier()
    model.generator.eval()
    model.discriminator.eval()
    effects = {}
    for code in (c for c in spec.codes if not c.categorical):
        codes = {}
        for other in spec.codes:
            if other.name == code.name:
                codes[other.name] = values.repeat(n_rows)
            elif other.categorical:
                codes[other.name] = base.codes[other.name].repeat_interleave(steps)
            else:  # the other continuous codes sit at 0, as in the paper's Figure 2
                codes[other.name] = torch.zeros(n_rows * steps)
        latent = Latent(base.z.repeat_interleave(steps, 0), codes)
        raw = torch.cat([model.generator(spec.generator_input(part).to(model.device)) for part in _parts(latent)])
        images = model.to_unit(raw).clamp(0, 1).float().cpu()
        digits = classifier.embed(images).probs.argmax(1).reshape(n_rows, steps)
        digit_kept = float((digits == digits[:, steps // 2 : steps // 2 + 1]).mean())
        identity_kept = None
        if first is not None:
            q = torch.cat([model.discriminator.q(part).float().cpu() for part in raw.split(1000)])
            read = spec.point_estimate(q)[first.name].numpy()
            identity_kept = float((read == codes[first.name].numpy()).mean())
        measured = {name: v.reshape(n_rows, steps) for name, v in morphometry(images).items()}
        effects[code.name] = effect_from_traversal(measured, digit_kept, identity_kept, span)
    return effects


def _parts(latent: Latent, size: int = 1000) -> list[Latent]:
    return [latent[i : i + size] for i in range(0, len(latent.z), size)]
