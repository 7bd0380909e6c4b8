"""The explorer's HTTP API, apart from any socket: a request (method, target, body) in, a response out.

Routes: ``GET /`` and the page's static files; ``GET /api/model`` (the codes and image shape); ``GET /api/grid``
(a 4x4 grid, PNG) and ``GET /api/traversal?code=NAME`` (one code varied, PNG), both with ``seed`` and a value per
code in the query; ``POST /api/encode?seed=S&invert=0|1`` with a PNG or JPEG body (Q's estimates as JSON). Every
input is checked; a bad one gets a 4xx with a JSON ``{"error": message}``, and a bug a 500 without its traceback.
"""

from __future__ import annotations

import base64
import io
import json
import math
import sys
import traceback
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import torch
from PIL import Image

from ..codes import Latent
from ..encode import estimate, point_values, read_image
from ..errors import ConfigError, DataError
from ..model import InfoGAN
from ..viz import grid, sample_latent

GRID = 4  # the explorer's grid is GRID x GRID samples
ENCODE_SAMPLES = 8  # images the generator draws for an encoded image's codes
STRIP_STEPS = 10  # columns of a continuous code's traversal
SLIDER_RANGE = (-2.0, 2.0)  # what the page's sliders span; the prior is Unif(-1, 1)
VALUE_LIMIT = 10.0  # |value| the API accepts for a continuous code
MAX_SEED = 2**31 - 1
MAX_BODY = 8 * 1024 * 1024  # bytes of an uploaded image
MAX_FIELDS = 64  # query parameters
RESERVED = {"seed", "code", "invert"}  # query parameters that are not code values

STATIC = {  # URL path -> (file in static/, content type); nothing else is served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/backend.js": ("server.js", "text/javascript; charset=utf-8"),
}


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


class RequestError(Exception):
    """A request the client got wrong: answered with ``status`` and the message as JSON."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def json_response(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload).encode(), "application/json", {"Cache-Control": "no-store"})


def error_response(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def static_file(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def model_info(model: InfoGAN) -> dict[str, Any]:
    """What the page needs to build its controls and draw images."""
    return {
        "step": model.step,
        "noise_dim": model.spec.noise_dim,
        "noise": model.spec.noise,
        "codes": [{"name": c.name, "kind": c.kind, "k": c.k} for c in model.spec.codes],
        "image_shape": list(model.image_shape),
        "grid": GRID,
        "encode_samples": ENCODE_SAMPLES,
        "strip_steps": STRIP_STEPS,
        "range": list(SLIDER_RANGE),
    }


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # tiny images: speed matters more than bytes
    return buf.getvalue()


class Explorer:
    """Answers the explorer's requests for one model; safe to call from many threads at once (inference in eval mode
    only reads the weights), so with one torch thread each, parallel requests use parallel cores."""

    def __init__(self, model: InfoGAN):
        self.model = model
        self.codes = {c.name: c for c in model.spec.codes}
        clash = sorted(RESERVED & set(self.codes))
        if clash:
            raise ConfigError(f"code name {clash[0]!r} clashes with the explorer's query parameter; rename the code")

    def handle(self, method: str, target: str, body: bytes = b"") -> Response:
        try:
            return self._route(method, target, body)
        except RequestError as e:
            return error_response(e.status, str(e))
        except DataError as e:
            return error_response(415, str(e))
        except Exception:  # noqa: BLE001 - a bug must still answer, as JSON
            traceback.print_exc(file=sys.stderr)  # for the operator; the client gets no internals
            return error_response(500, "internal error")

    def _route(self, method: str, target: str, body: bytes) -> Response:
        parts = urlsplit(target)
        path = parts.path
        routes = {"/api/model": "GET", "/api/grid": "GET", "/api/traversal": "GET", "/api/encode": "POST"}
        allowed = routes.get(path, "GET" if path in STATIC else None)
        if allowed is None:
            raise RequestError(404, f"no such page: {path[:100]!r}")
        if method != allowed:
            raise RequestError(405, f"{path} takes {allowed}, not {method[:20]!r}")
        if path in STATIC:
            name, content_type = STATIC[path]
            return Response(200, static_file(name), content_type)
        query = self._query(parts.query)
        if path == "/api/model":
            self._check_keys(query, set())
            return json_response(200, model_info(self.model))
        if path == "/api/grid":
            self._check_keys(query, {"seed", *self.codes})
            return self._png_response(self._grid(query))
        if path == "/api/traversal":
            self._check_keys(query, {"seed", "code", *self.codes})
            return self._png_response(self._traversal(query))
        self._check_keys(query, {"seed", "invert"})
        return json_response(200, self._encode(query, body))

    # ---- parsing ------------------------------------------------------------------
    @staticmethod
    def _query(text: str) -> dict[str, str]:
        try:
            pairs = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise RequestError(400, f"bad query string (more than {MAX_FIELDS} fields, or not UTF-8)") from None
        for key, values in pairs.items():
            if len(values) > 1:
                raise RequestError(400, f"parameter {key[:40]!r} given {len(values)} times")
        return {key: values[0] for key, values in pairs.items()}

    @staticmethod
    def _check_keys(query: dict[str, str], allowed: set[str]) -> None:
        unknown = sorted(set(query) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed)) or "none"
            raise RequestError(400, f"unknown parameter {unknown[0][:40]!r}; this route takes: {known}")

    @staticmethod
    def _int(query: dict[str, str], key: str, lo: int, hi: int, default: int) -> int:
        raw = query.get(key)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise RequestError(400, f"{key} must be an integer in {lo}..{hi}, got {raw[:40]!r}")
        return value

    def _codes(self, query: dict[str, str]) -> dict[str, float | int]:
        """Each code's value from the query: class 0 or value 0 when absent."""
        values: dict[str, float | int] = {}
        for name, code in self.codes.items():
            if code.categorical:
                values[name] = self._int(query, name, 0, code.k - 1, 0)
                continue
            raw = query.get(name, "0")
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not abs(value) <= VALUE_LIMIT:  # also refuses nan
                raise RequestError(400, f"{name} must be a number in [-{VALUE_LIMIT:g}, {VALUE_LIMIT:g}], got {raw[:40]!r}")
            values[name] = value
        return values

    # ---- images -------------------------------------------------------------------
    def _png_response(self, images: tuple[torch.Tensor, int]) -> Response:
        batch, ncol = images
        return Response(200, png(grid(batch, ncol=ncol)), "image/png", {"Cache-Control": "no-store"})

    def _grid(self, query: dict[str, str]) -> tuple[torch.Tensor, int]:
        seed = self._int(query, "seed", 0, MAX_SEED, 0)
        return self.model.generate(sample_latent(self.model, GRID * GRID, seed, self._codes(query))), GRID

    def _traversal(self, query: dict[str, str]) -> tuple[torch.Tensor, int]:
        """The grid's first sample (its noise, the codes as set) with one code varied over its values or the range."""
        name = query.get("code", "")
        if name not in self.codes:
            raise RequestError(400, f"code must be one of: {', '.join(self.codes)}; got {name[:40]!r}")
        code = self.codes[name]
        values = torch.arange(code.k) if code.categorical else torch.linspace(*SLIDER_RANGE, STRIP_STEPS)
        base = sample_latent(self.model, 1, self._int(query, "seed", 0, MAX_SEED, 0), self._codes(query))
        n = len(values)
        latent = Latent(base.z.expand(n, -1), {k: v.expand(n) for k, v in base.codes.items()} | {name: values})
        return self.model.generate(latent), n

    def _encode(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        if not body:
            raise RequestError(400, "send a PNG or JPEG image as the request body")
        if len(body) > MAX_BODY:
            raise RequestError(413, f"image is {len(body):,} bytes, more than the {MAX_BODY:,} allowed")
        invert = bool(self._int(query, "invert", 0, 1, 0))
        seed = self._int(query, "seed", 0, MAX_SEED, 0)
        image = read_image(body, self.model.image_shape, "in the request body", invert)
        codes = estimate(self.model, image[None])[0]
        samples = self.model.generate(sample_latent(self.model, ENCODE_SAMPLES, seed, point_values(self.model, codes)))
        return {
            "codes": codes,
            "input": _data_url(png(grid(image[None].float() / 255, ncol=1, pad=0))),
            "images": _data_url(png(grid(samples, ncol=ENCODE_SAMPLES))),
        }


def _data_url(png_bytes: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode()
