"""Q as an encoder of real images: each code's estimate for image files (a label-free classifier for a categorical code).

Images are PNG or JPEG files of any size and colour mode, converted to the model's channels (grey or RGB) and resized
to its height and width (the aspect ratio is not kept).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError

from .errors import DataError
from .model import InfoGAN

IMAGE_FORMATS = ("PNG", "JPEG")
# Checked on the header, before decoding: a small file can claim a huge canvas (a decompression bomb).
MAX_PIXELS = 8192 * 8192

# One code's estimate: {"class": i, "probs": [...]} for a categorical code, {"mean": m, "std": s} for a continuous one.
Estimates = dict[str, dict[str, Any]]


def read_image(data: bytes, shape: tuple[int, int, int], name: str, invert: bool = False) -> torch.Tensor:
    """A PNG or JPEG file's bytes as uint8 [C, H, W] of ``shape``; ``invert`` for dark strokes on light paper."""
    c, h, w = shape
    try:
        img = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        if img.width * img.height > MAX_PIXELS:
            raise DataError(f"image {name} is {img.width}x{img.height} pixels, more than the {MAX_PIXELS:,} allowed")
        img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.Resampling.LANCZOS)
    except UnidentifiedImageError:
        raise DataError(f"image {name} is not a PNG or JPEG file") from None
    except Image.DecompressionBombError:  # PIL's own, higher limit, checked while opening
        raise DataError(f"image {name} has more than the {MAX_PIXELS:,} pixels allowed") from None
    except (OSError, ValueError) as e:
        raise DataError(f"image {name} is truncated or corrupt ({str(e)[:100]})") from None
    pixels = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(h, w, c).permute(2, 0, 1)
    return 255 - pixels if invert else pixels.contiguous()


def estimate(model: InfoGAN, images_u8: torch.Tensor) -> list[Estimates]:
    """Q's estimate of every code for each uint8 image [N, C, H, W]."""
    stats = model.spec.split_q(model.encode(images_u8))
    columns: dict[str, dict[str, list]] = {}
    for code in model.spec.codes:
        s = stats[code.name]
        if code.categorical:
            probs = torch.softmax(s.logits.double(), dim=1)
            columns[code.name] = {"class": probs.argmax(dim=1).tolist(), "probs": probs.float().tolist()}
        else:
            columns[code.name] = {"mean": s.mean.tolist(), "std": s.std.tolist()}
    return [
        {name: {key: values[i] for key, values in cols.items()} for name, cols in columns.items()}
        for i in range(len(images_u8))
    ]


def point_values(model: InfoGAN, estimates: Estimates) -> dict[str, float | int]:
    """The most likely value of each code (the class, or the mean), to pin codes when generating."""
    return {c.name: estimates[c.name]["class" if c.categorical else "mean"] for c in model.spec.codes}


def to_csv(rows: list[dict[str, Any]]) -> str:
    """``api.encode``'s rows as CSV: the file, then per code its class and probability, or its mean and std."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["file"]
    for name, est in rows[0]["codes"].items():
        header += [name, f"{name}_prob"] if "class" in est else [f"{name}_mean", f"{name}_std"]
    writer.writerow(header)
    for row in rows:
        line = [row["file"]]
        for est in row["codes"].values():
            line += [est["class"], f"{max(est['probs']):.4f}"] if "class" in est else [f"{est['mean']:.4f}", f"{est['std']:.4f}"]
        writer.writerow(line)
    return buf.getvalue()
