import base64
import contextlib
import functools
import html
import io
import json
import re

import pytest
from PIL import Image

from infogan import api
from infogan.cli import main
from infogan.config import TrainConfig, preset

SECTIONS = ("evaluation", "losses", "mutual-information", "samples", "traversals", "animations", "config")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    cfg = preset("mnist")  # conftest's tiny_config, trained once for the whole module
    cfg.optim.batch_size = 16
    cfg.train = TrainConfig(seed=3, steps=4, log_every=1, sample_every=2, checkpoint_every=2, device="cpu")
    run = tmp_path_factory.mktemp("run")
    api.train(cfg, run, progress=False)
    return run


@pytest.fixture(scope="module")
def evaluated(tiny_run):
    """``infogan evaluate RUN`` (with fewer fresh samples, for speed): its printout and evaluation.json."""
    fast = functools.partial(api.evaluate, mi_samples=200, quality_samples=200, shape_rows=1)
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setattr(api, "evaluate", fast)
        assert main(["evaluate", str(tiny_run)]) == 0
    return out.getvalue(), json.loads((tiny_run / "evaluation.json").read_text())


def _images(page: str) -> list[tuple[str, Image.Image]]:
    found = re.findall(r'src="data:image/(png|gif);base64,([A-Za-z0-9+/=]+)"', page)
    return [(kind, Image.open(io.BytesIO(base64.b64decode(data)))) for kind, data in found]


def test_training_writes_a_self_contained_report(tiny_run):
    page = (tiny_run / "report.html").read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    assert "not evaluated yet" in page and "weights at step 4" in page
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing fetched from elsewhere
    images = _images(page)
    pngs = [img for kind, img in images if kind == "png"]
    gifs = [img for kind, img in images if kind == "gif"]
    assert len(pngs) == 2 + 2 + 3  # loss and L_I curves, samples at steps 2 and 4, a traversal per code
    assert len(gifs) == 2  # one per continuous code
    for img in pngs + gifs:
        img.load()
        assert img.width > 50
    assert all(g.n_frames == 32 and g.info["loop"] == 0 for g in gifs)  # 17 values out, 15 back


def test_l_i_panels_name_the_ceiling_each_code_can_reach(tiny_run):
    """With Q's std fixed at 1 a continuous code's L_I stays below -0.226 nats, far from H(c) = ln 2: the caption
    gives that ceiling (the dashed line), not H(c), for c1 and c2, and ln 10 for cat0."""
    section = re.search(r'<section id="mutual-information">(.*?)</section>', tiny_run.joinpath("report.html").read_text(),
                        re.S).group(1)
    caption = html.unescape(re.search(r"<figcaption>(.*?)</figcaption>", section, re.S).group(1))
    assert "cat0: H(c) = ln 10 = 2.303" in caption
    for code in ("c1", "c2"):
        assert f"{code}: ln 2 - ln(2 pi s^2) / 2 = -0.226 with Q's std fixed at s = 1," in caption


def test_report_shows_the_evaluation_numbers(tiny_run, evaluated, tmp_path, capsys):
    r = evaluated[1]
    out = tmp_path / "r.html"
    assert main(["report", str(tiny_run), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    page = out.read_text()
    assert "not evaluated yet" not in page
    for text in (f"{r['accuracy'] * 100:.2f}%", f"{r['nmi']:.3f}", f"{r['fd_digits']:.2f}", f"{r['mi']['c1']:.3f}",
                 html.escape(r["diagnosis_line"]), "not FID"):
        assert text in page
    assert page.count("<td>cat0=") == 10  # the confusion matrix, a row per code value
    assert f"<td>c1</td><td>{r['mi']['c1']:.3f}</td><td>-0.226</td><td>0.693</td>" in page  # L_I, its ceiling, H(c)
    c1 = r["morphometry"]["c1"]
    assert f"c1: mostly {c1['dominant']} (rho {c1['rho'][c1['dominant']]:+.2f}, the next |rho| {c1['other']:.2f})" \
        in html.unescape(page)
    assert f"from -2 to 2 the rho and digit kept move by at most {c1['extrapolation_gap']:.2f}" in html.unescape(page)
    assert 'alt="code-by-measure heat map"' in page
    p = r["morphometry_pairing"]
    assert (f"Codes paired with measures: c1 {p['measures']['c1']}, c2 {p['measures']['c2']}; each moves its own by "
            f"|rho| at least {p['own']:.2f}, another code's by at most {p['cross']:.2f}") in html.unescape(page)
    assert len(_images(page)) == 10  # the 9 figures and the code-by-measure heat map


def test_evaluate_text_shows_the_confusion_matrix_fd_digits_and_diagnosis(evaluated):
    text, r = evaluated
    assert f"FD-digits {r['fd_digits']:.2f}" in text and "not FID" in text
    rows = [line.split() for line in text.splitlines() if line.strip().startswith("cat0=")]
    assert [[int(v) for v in row[1:]] for row in rows] == r["confusion"]
    assert f"diagnosis: {r['diagnosis_line']}" in text
    assert set(r["morphometry"]) == {"c1", "c2"} and r["morphometry"]["c1"]["rows"] == 10  # 1 row per cat0 value
    for code, e in r["morphometry"].items():
        assert set(e["rho"]) == {"thickness", "slant", "width", "height", "area"}
        assert all(-1 <= v <= 1 for v in e["rho"].values()) and 0 <= e["digit_kept"] <= 1
        line = next(x for x in text.splitlines() if x.strip().startswith(code) and "thickness" not in x
                    and "mostly" not in x)
        assert [float(v) for v in line.split()[1:6]] == pytest.approx([e["rho"][m] for m in e["rho"]], abs=0.006)
        assert f"{code}: mostly {e['dominant']}" in text
        b = e["beyond"]
        assert (f"from -2 to 2: mostly {b['dominant']} (rho {b['rho'][b['dominant']]:+.2f}; next |rho| {b['other']:.2f}), "
                f"digit kept {b['digit_kept'] * 100:.1f}%; the largest change of a rho or the digit kept from -1..1: "
                f"{e['extrapolation_gap']:.2f}") in text
    d = r["code_directions"]["c1/c2"]
    assert 0 <= d["cos2"] <= 1 and d["size_ratio"] > 0
    assert f"c1/c2: the two codes' image changes have cos^2 {d['cos2']:.3f} (0: orthogonal), sizes " \
        f"{d['size_ratio']:.2f} : 1" in text
    p = r["morphometry_pairing"]
    assert set(p["measures"]) == {"c1", "c2"} and p["measures"]["c1"] != p["measures"]["c2"]
    assert p["own"] == pytest.approx(min(abs(r["morphometry"][c]["rho"][m]) for c, m in p["measures"].items()))
    assert (f"codes paired with measures: c1 {p['measures']['c1']}, c2 {p['measures']['c2']}; each moves its own by "
            f"|rho| >= {p['own']:.2f}, another code's by at most {p['cross']:.2f}") in text


def test_report_of_a_run_without_checkpoints_is_a_one_line_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 1
    assert "train first" in capsys.readouterr().err
