"""``report.html``: one self-contained page per run (every image inlined, nothing fetched).

Sections: the evaluation numbers (``evaluation.json``, if the run was evaluated), loss curves and
L_I against the most it can reach (from ``metrics.jsonl``), the sample grids saved over training, a traversal per
code and an animated GIF per continuous code (both drawn from the newest weights), and the config.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from .files import atomic_write_bytes
from .metrics.digit_classifier import describe, load_classifier
from .model import InfoGAN
from .runs import RunDir, load_model
from .viz import (code_animation_gif, grid, l_i_png, loss_curves_png, morphometry_png, png_bytes, read_metrics,
                  scores_png, traversal)

REPORT = "report.html"
MAX_SAMPLE_GRIDS = 12  # evenly spaced over training, the newest always shown

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
figure { display: inline-block; margin: .4em; text-align: center; } figcaption { font-size: .85em; color: #555; }
img { image-rendering: pixelated; } pre { background: #f6f6f6; padding: .8em; overflow-x: auto; }
.note { color: #666; }
"""


def write_report(run_dir: str | Path, out: str | Path | None = None, model: InfoGAN | None = None) -> Path:
    """Write the report of ``run_dir`` (default ``RUN_DIR/report.html``); ``model`` defaults to the newest checkpoint."""
    run = RunDir(Path(run_dir))
    path = Path(out) if out is not None else run.path / REPORT
    atomic_write_bytes(path, render(run, model or load_model(run.path)).encode())
    return path


def render(run: RunDir, model: InfoGAN) -> str:
    evaluation = _read_json(run.path / "evaluation.json")
    rows = read_metrics(run.metrics_path) if run.metrics_path.is_file() else []
    sections = [
        ("evaluation", "Evaluation", _evaluation(evaluation, run)),
        ("losses", "Losses", _img(loss_curves_png(rows), "loss curves") if rows else _note("no metrics.jsonl yet")),
        ("mutual-information", "L_I against the most it can reach",
         _l_i(rows, model) if rows else _note("no metrics.jsonl yet")),
        *_scores(run),
        ("samples", "Samples over training (one fixed latent batch)", _samples(run)),
        ("traversals", "Traversals (rows fix the noise, columns vary one code)", _traversals(model)),
        ("animations", "Continuous codes swept from -2 to 2 and back", _animations(model)),
        ("config", "Config", f"<pre>{html.escape(model.config.to_toml())}</pre>"),
    ]
    body = "\n".join(f'<section id="{sid}">\n<h2>{title}</h2>\n{content}\n</section>' for sid, title, content in sections)
    title = html.escape(f"infogan run {run.path.name}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n"
            f"<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
            f"<p>{html.escape(str(run.path))}: weights at step {model.step:,}.</p>\n{body}\n</body>\n</html>\n")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _img(data: bytes, alt: str, mime: str = "image/png", caption: str | None = None) -> str:
    tag = f'<img src="data:{mime};base64,{base64.b64encode(data).decode()}" alt="{html.escape(alt)}">'
    return f"<figure>{tag}<figcaption>{html.escape(caption)}</figcaption></figure>" if caption else tag


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _evaluation(r: dict[str, Any] | None, run: RunDir) -> str:
    if r is None:
        return _note(f"not evaluated yet: run `infogan evaluate {run.path}` and then `infogan report {run.path}`")
    where = f"evaluation of step {r.get('step', '?')} on {r.get('data', '?')} ({r.get('n_images', '?')} images)"
    parts = [f"<p>{html.escape(where)}</p>"]
    summary = []
    if "accuracy" in r:
        summary += [[f"accuracy of {r['code']} (Hungarian-matched)", f"{r['accuracy'] * 100:.2f}%"], ["NMI", f"{r['nmi']:.3f}"]]
    for name, st in r.get("stability", {}).items():
        summary += [[f"stability of {name}: images keeping their value under small moves (label-free)",
                     f"{st['kept'] * 100:.1f}%"]]
    if "fd_digits" in r:
        summary += [["FD-digits (lower is better; not FID)", f"{r['fd_digits']:.2f}"],
                    ["classifier score of samples (max 10)", f"{r['classifier_score']:.2f}"],
                    ["classifier score of real images", f"{r['classifier_score_real']:.2f}"]]
    if summary:
        parts.append(_table(["measure", "value"], summary))
    if "fd_digits" in r:
        parts.append(_note("FD-digits: the Frechet distance between Gaussian fits of a small digit classifier's pooled "
                           "features on real images and on as many samples (it is not FID: no Inception network). "
                           f"The {describe(load_classifier().meta)}."))
    if "fd_digits_note" in r:
        parts.append(_note(r["fd_digits_note"]))
    if "diagnosis_line" in r:
        parts.append(f"<p>Diagnosis: {html.escape(r['diagnosis_line'])}</p>")
    mi = r.get("mi", {})
    if mi:
        ceiling = r.get("l_i_ceiling", {})  # not in evaluations written before it existed
        parts.append(_table(["code", "L_I (nats)", "at most", "H(c)"],
                            [[n, f"{v:.3f}", f"{ceiling[n]:.3f}" if n in ceiling else "", f"{r['entropy'][n]:.3f}"]
                             for n, v in mi.items()]))
    if "morphometry" in r:
        parts.append(_morphometry(r["morphometry"], r.get("morphometry_pairing")))
    if "confusion" in r:
        conf = r["confusion"]
        parts.append(f"<p>Confusion of {html.escape(r['code'])} values (rows) against labels (columns):</p>")
        parts.append(_table([""] + list(range(len(conf[0]))), [[f"{r['code']}={v}"] + row for v, row in enumerate(conf)]))
    return "\n".join(parts)


def _morphometry(effects: dict[str, dict], pairing: dict | None) -> str:
    first = next(iter(effects.values()))
    caption = (f"What each continuous code does to the digits: along {first['rows']} traversal rows (z and the other "
               "codes fixed, the code from -1 to 1), the mean Spearman rho of the code with Morpho-MNIST's "
               "measures; digit kept: the share of the rows' images the digit classifier labels as the row's middle "
               "image. One large |rho| per code, small others and the digit kept: a disentangled code.")
    lines = [f"{n}: mostly {e['dominant']} (rho {e['rho'][e['dominant']]:+.2f}, the next |rho| {e['other']:.2f})"
             + ("" if e["identity_kept"] is None else f"; Q reads the row's value in {e['identity_kept'] * 100:.1f}%")
             + ("" if "beyond" not in e else f"; from -{e['beyond']['span']:g} to {e['beyond']['span']:g} the rho and "
                f"digit kept move by at most {e['extrapolation_gap']:.2f}")
             for n, e in effects.items()]
    if pairing is not None:  # the measures move together, so the test of one code, one factor is across codes
        lines.append(f"Codes paired with measures: {', '.join(f'{c} {m}' for c, m in pairing['measures'].items())}; "
                     f"each moves its own by |rho| at least {pairing['own']:.2f}, another code's by at most "
                     f"{pairing['cross']:.2f}. The measures move together (a wider digit has more ink), so a code's own factor "
                     "shows in what it leaves alone: the other codes' measures.")
    return (_img(morphometry_png(effects), "code-by-measure heat map", caption=caption)
            + "".join(f"<p>{html.escape(line)}</p>" for line in lines))


def _l_i(rows: list[dict[str, Any]], model: InfoGAN) -> str:
    """L_I per code with its ceiling, and a caption that says where each ceiling comes from."""
    ceilings = {c.name: c.l_i_ceiling for c in model.spec.codes}
    why = []
    for c in model.spec.codes:
        if c.categorical:
            why.append(f"{c.name}: H(c) = ln {c.k} = {c.l_i_ceiling:.3f}, reached when Q is sure of every value")
        elif c.std == "fixed":
            why.append(f"{c.name}: ln 2 - ln(2 pi s^2) / 2 = {c.l_i_ceiling:.3f} with Q's std fixed at "
                       f"s = {c.fixed_std:g}, below H(c) = ln 2 = {c.entropy:.3f} however well Q reads the code: "
                       "a Gaussian of std s has log-density at most -ln(2 pi s^2) / 2, even at its mean")
        else:
            why.append(f"{c.name}: {c.l_i_ceiling:.3f}, set only by the smallest std Q may learn; a continuous code's "
                       f"L_I can pass H(c) = ln 2 = {c.entropy:.3f}")
    caption = "Dashed: the most L_I can reach with this Q. " + "; ".join(why) + "."
    return _img(l_i_png(rows, ceilings), "L_I per code", caption=caption)


def _scores(run: RunDir) -> list[tuple[str, str, str]]:
    """The section of disentanglement scores over training, when the run scored them (``train.score_every``)."""
    rows = read_metrics(run.scores_path) if run.scores_path.is_file() else []
    if not rows:
        return []
    return [("scores", "Disentanglement over training (FactorVAE, MIG, SAP, DCI of Q on the data's factors)",
             _img(scores_png(rows), "disentanglement scores over training"))]


def _samples(run: RunDir) -> str:
    files = sorted((run.path / "samples").glob("step-*.png"))
    if not files:
        return _note("no sample grids saved yet")
    if len(files) > MAX_SAMPLE_GRIDS:
        picks = {round(i * (len(files) - 1) / (MAX_SAMPLE_GRIDS - 1)) for i in range(MAX_SAMPLE_GRIDS)}
        files = [files[i] for i in sorted(picks)]
    return "\n".join(_img(f.read_bytes(), f.stem, caption=f"step {int(f.stem.split('-')[1]):,}") for f in files)


def _traversals(model: InfoGAN) -> str:
    figures = []
    for code in model.spec.codes:
        images = traversal(model, code.name)
        ncol = code.k if code.categorical else 10
        what = f"{code.name} = 0 .. {code.k - 1}" if code.categorical else f"{code.name} from -2 to 2"
        figures.append(_img(png_bytes(grid(images, ncol, scale=2)), f"traversal of {code.name}", caption=what))
    return "\n".join(figures) or _note("this model has no latent codes")


def _animations(model: InfoGAN) -> str:
    gifs = [_img(code_animation_gif(model, c.name), f"{c.name} animation", "image/gif", c.name)
            for c in model.spec.codes if not c.categorical]
    return "\n".join(gifs) or _note("this model has no continuous codes")
