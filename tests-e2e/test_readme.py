"""The README's hand-run trip flow, run as written (its bash block, unchanged) against the test stack."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[1] / "README.md"


def hand_run_block() -> str:
    text = README.read_text()
    section = text[text.index("### Try a whole trip flow by hand"):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_the_readme_trip_flow_runs_as_written_from_customer_to_feedback(stack, readme_agency, tmp_path):
    # The stack's own description, with the key of an agency of its own: the other tests' customers are not Mei's
    # duplicates, and the flow can run twice.
    described = json.loads((stack.var_dir / "stack.json").read_text())
    (tmp_path / "stack.json").write_text(json.dumps({**described, "api_key": readme_agency}))
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", hand_run_block()], cwd=tmp_path, text=True,
                            capture_output=True, timeout=180, env={**os.environ, "STACK": str(tmp_path / "stack.json")})
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    lines = result.stdout.splitlines()
    assert lines[0] == "Chen"
    assert "30 min" in lines[2], lines  # the tight connection after landing
    assert lines[3] == "feasibility-errors"
    assert lines[4:] == ["确认此方案", "approved", "2027-10-01T19:00", "Fri 01 Oct 2027, 19:00 (Europe/London)",
                         "number BA-7KQ2", "booked", "2", "5"], lines
    assert (tmp_path / "trip.pdf").read_bytes().startswith(b"%PDF-")
