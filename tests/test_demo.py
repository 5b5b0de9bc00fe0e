"""The README's main command on the bundled clip: curves, plot and scores come out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lipsync_train import demo


def test_demo_writes_curves_plot_and_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--out", str(tmp_path), "--fps", "29.97"]) == 0
    curves = json.loads((tmp_path / "demo_curves.json").read_text())
    assert curves["fps"] == 29.97 and len(curves["channel_values"]) == int(3.7965 * 29.97) + 1
    assert (tmp_path / "demo.png").stat().st_size > 20_000
    rows = {
        line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line[:1].isalpha()
    }
    assert rows["teacher"][1:6] == ["1.000", "1.000", "0.000", "1.000", "0.000"]
    assert float(rows["energy"][2]) < 0.5  # the baseline's viseme accuracy is far below the teacher's
    assert float(rows["model"][1]) > float(rows["energy"][2])  # the shipped model beats the baseline
