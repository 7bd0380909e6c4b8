"""The kill test of scripts/kill_test.py at small scale: SIGKILLs, resumes, bit-identical end state."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "kill_test.py"


def test_sigkilled_runs_resume_to_a_bit_identical_state(tmp_path):
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--kills", "2", "--steps", "12", "--workdir", str(tmp_path / "k")],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kills over" in r.stdout and "bit-identical to the uninterrupted run: yes" in r.stdout
