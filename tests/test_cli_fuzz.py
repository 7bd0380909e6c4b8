"""Property tests over the command line: any argument list exits 0, 1 or 2, and every failure is one line.

The flags come from the real parser, so a new flag is fuzzed as soon as it exists. Training itself
is replaced by a no-op (everything before it runs: parsing, config checks, data, run directory), and
evaluation draws fewer fresh samples."""

import argparse
import itertools
from contextlib import chdir, redirect_stderr, redirect_stdout
from io import StringIO
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infogan.cli import build_parser, main
from infogan.data import ImageData
from infogan.metrics import evaluate as evaluate_model
from infogan.metrics.stability import stability_images

# Subcommands that finish quickly on a tiny run; servers and multi-run jobs are tested elsewhere.
FUZZED = ("train", "traverse", "sample", "evaluate", "export")


def _flags(command: str) -> dict[str, argparse.Action]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {a.option_strings[-1]: a for a in sub.choices[command]._actions if a.option_strings}


def values(action: argparse.Action):
    junk = st.one_of(
        st.integers(-3, 12).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(max_size=6),
        st.sampled_from(["", "-", "--", "cat0=3", "c1=1e9", "nope=1", "cat0=x", "cpu", "cuda:7", "mnist",
                         "train.steps=2", "loss.lambda_cat=-1", "optim.lr_d=x", "train.nope=1", "data.name=svhn"]),
    )
    return st.one_of(st.sampled_from(sorted(action.choices)), junk) if action.choices else junk


@st.composite
def argv(draw, places):
    command = draw(st.sampled_from(FUZZED + ("bogus",)))
    if command == "bogus":
        return [draw(st.text(max_size=8))]
    flags = _flags(command)
    args = [command]
    if command != "train":
        args.append(draw(st.sampled_from(places["run_dirs"])))
    for flag in draw(st.lists(st.sampled_from(sorted(flags)), max_size=5)):
        action = flags[flag]
        if flag == "--out":
            args += [flag, draw(st.sampled_from(places["outs"]))()]
        elif action.nargs == 0:
            args.append(flag)
        else:
            args += [flag] + [draw(values(action)) for _ in range(action.nargs if isinstance(action.nargs, int) else 1)]
    return args


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    run = root / "run"
    assert main(["train", "--steps", "2", "--batch-size", "16", "--out", str(run), "--quiet", "--device", "cpu"]) == 0
    assert main(["export", str(run), "--format", "safetensors", "--out", str(root / "model.safetensors")]) == 0
    (root / "junk.safetensors").write_bytes(b"\x00" * 100)
    fresh = itertools.count()
    return {
        "root": root,  # the working directory: a train without --out writes its run under runs/ there
        "run_dirs": [str(run), str(root / "model.safetensors"), str(root / "junk.safetensors"), str(root / "missing")],
        "outs": [
            lambda: str(root / f"new-{next(fresh)}"),
            lambda: str(root / f"new-{next(fresh)}.png"),
            lambda: str(root / f"new-{next(fresh)}.safetensors"),
            lambda: str(run),  # an existing run: training into it must be refused
            lambda: str(root / "junk.safetensors" / "under-a-file.png"),
        ],
    }


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_command_line_exits_cleanly(places, data):
    args = data.draw(argv(places), label="argv")
    out, err = StringIO(), StringIO()
    # Keep the process-wide torch settings of other tests intact, and skip the training itself; score starts and
    # evaluate on a few hundred images (the command lines are under test here, not the metrics).
    def fewer(model, data, code, *_):
        if data.factors is None:
            data = ImageData(data.name, data.images[:500], None if data.labels is None else data.labels[:500])
        return evaluate_model(model, data, code, mi_samples=500, quality_samples=500, shape_rows=1)

    with mock.patch("infogan.train.Trainer.fit"), mock.patch("torch.set_num_threads"), \
            mock.patch("torch.use_deterministic_algorithms"), mock.patch("infogan.api.evaluate_model", fewer), \
            mock.patch("infogan.starts.stability_images", lambda data: stability_images(data, 300)), \
            redirect_stdout(out), redirect_stderr(err), chdir(places["root"]):
        try:
            code = main(args)
        except SystemExit as e:  # argparse: usage errors (2), --help and --version (0)
            code = e.code
    assert code in (0, 1, 2), (args, code, err.getvalue())
    if code != 0:
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("infogan") and "error" in lines[0], (args, err.getvalue())
