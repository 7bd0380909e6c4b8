import json
import subprocess
import sys

import pytest
from PIL import Image

from infogan.cli import main
from infogan.config import Config


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 3-step run on the bundled digits, shared by the read-only commands below."""
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--steps", "3", "--batch-size", "16", "--out", str(out), "--quiet", "--device", "cpu"]) == 0
    return out


def test_train_writes_a_complete_run(trained):
    assert (trained / "config.toml").is_file()
    assert [json.loads(r)["step"] for r in (trained / "metrics.jsonl").read_text().splitlines()] == [3]
    assert [p.name for p in (trained / "checkpoints").iterdir()] == ["step-0000003.safetensors"]
    assert {p.name for p in (trained / "figures").iterdir()} == {"traverse-cat0.png", "traverse-c1.png", "traverse-c2.png"}


def test_resume_continues_and_refuses_new_maths(trained, capsys):
    code, out, _ = run(capsys, "train", "--resume", "--out", str(trained), "--steps", "5", "--quiet")
    assert code == 0 and "step 5" in out
    code, _, err = run(capsys, "train", "--resume", "--out", str(trained), "--steps", "6", "--lambda-cat", "2")
    assert code == 1 and "cannot change when resuming" in err and len(err.strip().splitlines()) == 1


def test_set_reaches_any_config_key_after_the_flags(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--steps", "1", "--batch-size", "32", "--out", str(tmp_path / "r"), "--quiet",
                       "--set", "optim.batch_size=16", "--set", "loss.real_info=0", "--set", "train.log_every=7",
                       "--set", "train.on_divergence=rollback", "--set", "optim.beta2=0.99")
    assert code == 0, err
    cfg = Config.load(tmp_path / "r" / "config.toml")
    assert (cfg.optim.batch_size, cfg.loss.real_info, cfg.train.log_every, cfg.train.on_divergence, cfg.optim.beta2) == (
        16, 0.0, 7, "rollback", 0.99)
    assert cfg.loss.consistency == 1.0 and cfg.train.steps == 1  # the rest: the preset's and the flags'


def test_training_into_an_existing_run_is_refused(trained, capsys):
    code, _, err = run(capsys, "train", "--steps", "1", "--out", str(trained))
    assert code == 1 and "already holds a run" in err


def test_traverse_sample_evaluate(trained, tmp_path, capsys):
    code, _, _ = run(capsys, "traverse", str(trained), "--code", "c1", "--steps", "7", "--rows", "3", "--out", str(tmp_path / "t.png"))
    assert code == 0 and Image.open(tmp_path / "t.png").size[0] > Image.open(tmp_path / "t.png").size[1]
    code, _, _ = run(capsys, "sample", str(trained), "--n", "16", "--set", "cat0=3", "--set", "c1=0.5", "--out", str(tmp_path / "s.png"))
    assert code == 0 and (tmp_path / "s.png").is_file()
    code, out, _ = run(capsys, "evaluate", str(trained), "--json")
    r = json.loads(out)
    assert code == 0 and r["n_images"] == 10000 and 0 <= r["accuracy"] <= 1 and set(r["mi"]) == {"cat0", "c1", "c2"}
    assert set(r["morphometry"]) == {"c1", "c2"} and r["morphometry"]["c1"]["rows"] == 100
    assert r["morphometry"]["c1"]["beyond"]["span"] == 2 and 0 <= r["morphometry"]["c1"]["extrapolation_gap"] <= 2
    assert (trained / "evaluation.json").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--steps", "0"], "must be > 0"),
        (["train", "--steps", "2", "--minutes", "1"], "not allowed with argument"),
        (["train", "--lambda-cat", "-1"], "must be >= 0"),
        (["train", "--bogus"], "unrecognized arguments"),
        (["train", "--preset", "cifar"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["traverse", "somewhere"], "required: --out"),
    ],
)
def test_usage_errors_are_one_line_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_user_errors_are_one_line_exit_1(trained, tmp_path, capsys):
    cases = [
        (["train", "--data", "mnist", "--data-dir", str(tmp_path / "nodata"), "--out", str(tmp_path / "r1")], "nodata"),
        (["train", "--data", "mnist", "--out", str(tmp_path / "r2")], "needs --data-dir"),
        (["train", "--config", str(tmp_path / "none.toml")], "cannot read config"),
        (["evaluate", str(tmp_path / "missing-run")], "does not exist"),
        (["sample", str(trained), "--set", "cat0=12", "--out", str(tmp_path / "x.png")], "takes 0..9"),
        (["traverse", str(trained), "--code", "c7", "--out", str(tmp_path / "x.png")], "no code named"),
        (["train", "--resume"], "--resume needs --out"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, (argv, err)


def test_corrupt_checkpoint_is_one_line(trained, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    for ck in (broken / "checkpoints").iterdir():
        ck.write_bytes(ck.read_bytes()[:500])
    code, _, err = run(capsys, "evaluate", str(broken))
    assert code == 1 and "corrupt" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "train", "--resume", "--out", str(broken))
    assert code == 1 and "corrupt" in err


def test_module_entry_point_and_help():
    r = subprocess.run([sys.executable, "-m", "infogan", "train", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--lambda-cat" in r.stdout
    r = subprocess.run([sys.executable, "-m", "infogan", "evaluate"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_sigterm_stops_after_a_step_saves_and_resumes(tmp_path):
    """A long run killed politely keeps its work: exit 0, a checkpoint, and --resume continues it."""
    import signal
    import time

    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "infogan", "train", "--steps", "100000", "--batch-size", "16", "--out", str(out), "--quiet",
           "--set", "train.log_every=1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    # A step has run once a metrics line is written (the first start's, under starts/), on a loaded machine too.
    while not any(m.stat().st_size for m in out.rglob("metrics.jsonl")) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "stopped by signal" in stdout and "--resume" in stdout
    (ck,) = (out / "checkpoints").iterdir()
    step = int(ck.stem.split("-")[1])
    assert step > 0
    assert main(["train", "--resume", "--out", str(out), "--steps", str(step + 2), "--quiet"]) == 0
    assert (out / "checkpoints" / f"step-{step + 2:07d}.safetensors").is_file()


def test_a_config_without_budget_is_refused(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[train]\nminutes = 0.0\n")
    code, _, err = run(capsys, "train", "--config", str(cfg), "--out", str(tmp_path / "r"))
    assert code == 1 and "no training budget" in err
    assert not (tmp_path / "r" / "config.toml").exists()


def test_resume_skips_a_torn_checkpoint_with_a_one_line_warning(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--batch-size", "16", "--out", str(out), "--quiet"]) == 0
    assert main(["train", "--resume", "--steps", "4", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    newest = out / "checkpoints" / "step-0000004.safetensors"
    newest.write_bytes(newest.read_bytes()[:1000])
    code, stdout, err = run(capsys, "train", "--resume", "--steps", "5", "--out", str(out), "--quiet")
    assert code == 0 and "step 5" in stdout
    assert "warning:" in err and "step-0000002" in err and len(err.strip().splitlines()) == 1


def test_a_full_disk_while_saving_is_one_line_and_keeps_older_checkpoints(tmp_path):
    """RLIMIT_FSIZE makes any file over 50 MB fail to write, as a full disk would."""
    import resource
    import signal as sig

    out = tmp_path / "run"
    base = [sys.executable, "-m", "infogan", "train", "--batch-size", "16", "--out", str(out), "--quiet"]
    assert subprocess.run(base + ["--steps", "2"], capture_output=True).returncode == 0

    def limit():
        sig.signal(sig.SIGXFSZ, sig.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000_000, 50_000_000))

    r = subprocess.run(base + ["--steps", "4", "--resume"], capture_output=True, text=True, preexec_fn=limit)
    assert r.returncode == 1 and "step-0000004.safetensors: File too large" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-0000002.safetensors"]  # no temp left
    from infogan.runs import load_model

    assert load_model(out).step == 2  # the older checkpoint still loads and verifies
