"""Weight averaging of fine-tuned models (``build.py soup``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from blender_lipsync.core.inference import TorchBackend, load_model_folder, save_model_folder
from blender_lipsync.core.model import LipSyncModel
from lipsync_train.soup import average_weights, main, soup
from tests.small_model import SMALL


def _model_folder(path: Path, seed: int, config=SMALL) -> Path:
    torch.manual_seed(seed)
    return save_model_folder(LipSyncModel(config).eval(), path)


def test_soup_is_the_elementwise_mean(tmp_path: Path) -> None:
    a, b = _model_folder(tmp_path / "a", 1), _model_folder(tmp_path / "b", 2)
    out = soup([a, b], tmp_path / "soup")
    wa, wb, ws = (load_file(f / "model.safetensors") for f in (a, b, out))
    assert any(not torch.equal(wa[k], wb[k]) for k in ws if ws[k].is_floating_point())
    for k in ws:
        if ws[k].is_floating_point():
            torch.testing.assert_close(ws[k], (wa[k] + wb[k]) / 2)
    assert load_model_folder(out)[0] == SMALL


def test_soup_of_one_model_with_itself_predicts_the_same(tmp_path: Path) -> None:
    a = _model_folder(tmp_path / "a", 3)
    out = soup([a, a], tmp_path / "soup")
    torch.manual_seed(0)
    audio, style = torch.randn(1, 16000) * 0.1, torch.zeros(1, SMALL.style_dim)
    outputs = []
    for folder in (a, out):
        with torch.no_grad():
            outputs.append(TorchBackend.from_folder(folder, device="cpu").model(audio, style)["channels"])
    torch.testing.assert_close(outputs[0], outputs[1])


def test_models_with_other_configs_are_refused(tmp_path: Path, capsys) -> None:
    a = _model_folder(tmp_path / "a", 1)
    b = _model_folder(tmp_path / "b", 2, replace(SMALL, decoder_layers=3))
    assert main([str(a), str(b), "--out", str(tmp_path / "soup")]) == 2
    assert "another model config" in capsys.readouterr().err
    assert not (tmp_path / "soup").exists()


def test_the_rumble_filter_comes_from_the_first_model(tmp_path: Path) -> None:
    a = _model_folder(tmp_path / "a", 1, replace(SMALL, rumble_cutoff_hz=60.0))
    b = _model_folder(tmp_path / "b", 2, replace(SMALL, rumble_cutoff_hz=0.0))
    assert load_model_folder(soup([a, b], tmp_path / "ab"))[0].rumble_cutoff_hz == 60.0
    assert load_model_folder(soup([b, a], tmp_path / "ba"))[0].rumble_cutoff_hz == 0.0


def test_a_missing_model_folder_is_refused(tmp_path: Path, capsys) -> None:
    a = _model_folder(tmp_path / "a", 1)
    assert main([str(a), str(tmp_path / "nowhere"), "--out", str(tmp_path / "soup")]) == 2
    assert "not found" in capsys.readouterr().err


def test_average_weights_refuses_mismatched_tensors() -> None:
    with pytest.raises(ValueError, match="different tensors"):
        average_weights([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}])
    with pytest.raises(ValueError, match="no models"):
        average_weights([])


def test_the_cli_writes_a_loadable_folder(tmp_path: Path) -> None:
    a, b = _model_folder(tmp_path / "a", 1), _model_folder(tmp_path / "b", 2)
    assert main([str(a), str(b), "--out", str(tmp_path / "soup")]) == 0
    assert load_model_folder(tmp_path / "soup")[0] == SMALL


@pytest.mark.slow
def test_score_prints_held_out_figures_and_a_self_soup_matches_its_model(
    tiny_corpus: Path, tmp_path: Path, capsys
) -> None:
    a = _model_folder(tmp_path / "a", 1)
    assert main([str(a), str(a), "--out", str(tmp_path / "soup"), "--score", str(tiny_corpus)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if ": total " in line]
    assert len(lines) == 3  # both inputs, then the average
    assert lines[0].split(": ", 1)[1] == lines[2].split(": ", 1)[1]
    assert "viseme_accuracy" in lines[2]
