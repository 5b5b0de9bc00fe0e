"""Exports (JSON, CSV, Live Link Face, Rhubarb cues) and the core command line on a real small model."""

from __future__ import annotations

import csv
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from blender_lipsync.core import exports
from blender_lipsync.core.__main__ import main, parse_style
from blender_lipsync.core.contract import (
    MOUTH_CHANNELS,
    RHUBARB_SHAPE_OF_VISEME,
    VISEME_INDEX,
    VISEMES,
    Curves,
    frame_count,
)
from blender_lipsync.core.exports import LIVE_LINK_FACE_COLUMNS, MouthCue, mouth_cues
from blender_lipsync.core.inference import save_model_folder
from blender_lipsync.core.model import LipSyncModel
from tests.small_model import SMALL

DEMO = Path(__file__).resolve().parents[1] / "assets" / "demo" / "demo.wav"


def random_curves(frames: int, fps: float, seed: int = 0) -> Curves:
    rng = np.random.default_rng(seed)
    visemes = rng.random((frames, len(VISEMES)))
    return Curves(fps, rng.random((frames, len(MOUTH_CHANNELS))), visemes / visemes.sum(1, keepdims=True))


def viseme_curves(sequence: list[str], fps: float = 24.0, second: list[str] | None = None) -> Curves:
    """One frame per entry: that viseme at 0.7, ``second`` (if given) at 0.2, the rest shared."""
    visemes = np.full((len(sequence), len(VISEMES)), 0.1 / (len(VISEMES) - 2))
    for k, name in enumerate(sequence):
        visemes[k, VISEME_INDEX[name]] = 0.7
        runner_up = second[k] if second else ("sil" if name != "sil" else "PP")
        visemes[k, VISEME_INDEX[runner_up]] += 0.2
    visemes /= visemes.sum(1, keepdims=True)
    return Curves(fps, np.zeros((len(sequence), len(MOUTH_CHANNELS))), visemes)


def timecode_seconds(timecode: str, rate: int) -> float:
    """How readers of Live Link Face takes turn ``HH:MM:SS:FF.mmm`` into seconds."""
    hours, minutes, seconds, frames = timecode.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + float(frames) / rate


# --- JSON and CSV ----------------------------------------------------------------------------


def test_json_has_every_channel_and_viseme_per_frame(tmp_path: Path) -> None:
    curves = random_curves(37, 23.976)
    text = exports.to_json(curves, tmp_path / "out.json", audio_name="vo.wav")
    data = json.loads((tmp_path / "out.json").read_text())
    assert json.loads(text) == data
    assert data["fps"] == 23.976 and data["frames"] == 37 and data["audio"] == "vo.wav"
    assert list(data["channels"]) == list(MOUTH_CHANNELS) and list(data["visemes"]) == list(VISEMES)
    np.testing.assert_allclose(np.array(list(data["channels"].values())).T, curves.channels, atol=5.1e-5)
    np.testing.assert_allclose(np.array(list(data["visemes"].values())).T, curves.visemes, atol=5.1e-5)
    assert "audio" not in json.loads(exports.to_json(curves))


def test_csv_rows_are_frames_with_times(tmp_path: Path) -> None:
    curves = random_curves(25, 29.97)
    exports.to_csv(curves, tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["frame", "time", *MOUTH_CHANNELS, *(f"viseme_{v}" for v in VISEMES)]
    table = np.array(rows[1:], dtype=float)
    assert table.shape == (25, 2 + len(MOUTH_CHANNELS) + len(VISEMES))
    np.testing.assert_array_equal(table[:, 0], np.arange(25))
    np.testing.assert_allclose(table[:, 1], np.arange(25) / 29.97, atol=1e-6)
    np.testing.assert_allclose(table[:, 2:31], curves.channels, atol=5.1e-5)
    np.testing.assert_allclose(table[:, 31:], curves.visemes, atol=5.1e-5)


# --- Live Link Face --------------------------------------------------------------------------


def test_live_link_face_column_list() -> None:
    assert len(LIVE_LINK_FACE_COLUMNS) == 61 == len(set(LIVE_LINK_FACE_COLUMNS))
    assert LIVE_LINK_FACE_COLUMNS[:3] == ("EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft")
    assert LIVE_LINK_FACE_COLUMNS[14:18] == ("JawForward", "JawRight", "JawLeft", "JawOpen")
    assert LIVE_LINK_FACE_COLUMNS[21:23] == ("MouthRight", "MouthLeft")
    assert LIVE_LINK_FACE_COLUMNS[51] == "TongueOut"
    assert LIVE_LINK_FACE_COLUMNS[52:] == (
        "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
        "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
    )  # fmt: skip
    # every one of our channels has its column: ARKit camelCase -> PascalCase
    for name in MOUTH_CHANNELS:
        assert name[0].upper() + name[1:] in LIVE_LINK_FACE_COLUMNS


@pytest.mark.parametrize("fps", [24.0, 29.97, 60.0])
def test_live_link_face_csv(tmp_path: Path, fps: float) -> None:
    curves = random_curves(200, fps, seed=1)
    exports.to_live_link_face_csv(curves, tmp_path / "take.csv")
    with open(tmp_path / "take.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Timecode", "BlendShapeCount", *LIVE_LINK_FACE_COLUMNS]
    assert len(rows) == 201 and all(len(r) == 63 for r in rows)
    assert {r[1] for r in rows[1:]} == {"61"}
    values = np.array([r[2:] for r in rows[1:]], dtype=float)
    ours = [LIVE_LINK_FACE_COLUMNS.index(n[0].upper() + n[1:]) for n in MOUTH_CHANNELS]
    np.testing.assert_allclose(values[:, ours], curves.channels, atol=1e-6)
    others = np.setdiff1d(np.arange(61), ours)
    assert not values[:, others].any()
    rate = round(fps)
    timecodes = [r[0] for r in rows[1:]]
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d:\d\d\.\d{3}", t) for t in timecodes)
    assert all(int(t.split(":")[3][:2]) < rate for t in timecodes)
    seconds = np.array([timecode_seconds(t, rate) for t in timecodes])
    np.testing.assert_allclose(seconds, np.arange(200) / fps, atol=0.0006 / rate)


def test_live_link_timecodes_count_at_the_nominal_rate() -> None:
    assert exports.live_link_timecodes(3, 24.0, "10:59:59:22") == [
        "10:59:59:22.000",
        "10:59:59:23.000",
        "11:00:00:00.000",
    ]
    # 29.97 counts frames at 30 with the drift carried by the subframe
    assert exports.live_link_timecodes(3, 29.97)[1:] == ["00:00:00:01.001", "00:00:00:02.002"]
    for bad in ("00:00:00", "00:00:00:24", "00:61:00:00", "aa:00:00:00"):
        with pytest.raises(ValueError):
            exports.live_link_timecodes(2, 24.0, bad)


# --- Rhubarb mouth cues ----------------------------------------------------------------------


def test_cues_merge_runs_and_map_visemes_to_shapes() -> None:
    sequence = ["sil"] * 4 + ["aa"] * 5 + ["U"] * 3 + ["sil"] * 4
    cues = mouth_cues(viseme_curves(sequence), min_duration_s=0.05)
    assert [c.shape for c in cues] == ["X", "D", "F", "X"]
    assert [RHUBARB_SHAPE_OF_VISEME[v] for v in ("sil", "aa", "U")] == ["X", "D", "F"]
    assert [c.start for c in cues] == pytest.approx([0, 4 / 24, 9 / 24, 12 / 24])
    assert cues[-1].end == pytest.approx(16 / 24)
    assert all(a.end == b.start for a, b in itertools.pairwise(cues))


def test_blips_are_absorbed_into_the_likelier_neighbour() -> None:
    # a one-frame E (shape C) between D and F: its runner-up viseme is U (F), so F takes it
    sequence = ["sil"] * 3 + ["aa"] * 4 + ["E"] + ["U"] * 4 + ["sil"] * 3
    second = ["PP"] * 3 + ["sil"] * 4 + ["U"] + ["sil"] * 7
    cues = mouth_cues(viseme_curves(sequence, second=second), min_duration_s=0.05)
    assert [c.shape for c in cues] == ["X", "D", "F", "X"]
    assert cues[2].start == pytest.approx(7 / 24)
    # runner-up aa instead: D takes it
    second[7] = "aa"
    cues = mouth_cues(viseme_curves(sequence, second=second), min_duration_s=0.05)
    assert [c.shape for c in cues] == ["X", "D", "F", "X"] and cues[2].start == pytest.approx(8 / 24)
    # with no minimum the blip stays
    kept = mouth_cues(viseme_curves(sequence), min_duration_s=0)
    assert [c.shape for c in kept] == ["X", "D", "C", "F", "X"]


def test_a_blip_between_equal_shapes_joins_them() -> None:
    sequence = ["aa"] * 5 + ["E"] + ["aa"] * 5
    cues = mouth_cues(viseme_curves(sequence, second=["aa"] * 11), min_duration_s=0.05)
    assert cues == [MouthCue(0.0, 11 / 24, "D")]


def test_closures_are_never_absorbed() -> None:
    sequence = ["aa"] * 6 + ["PP"] + ["aa"] * 6  # a one-frame closure: 42 ms, under the minimum
    cues = mouth_cues(viseme_curves(sequence, second=["aa"] * 13), min_duration_s=0.1)
    assert [c.shape for c in cues] == ["D", "A", "D"]
    assert cues[1].start == pytest.approx(6 / 24) and cues[1].end == pytest.approx(7 / 24)


def test_cues_end_at_the_audio_duration() -> None:
    curves = viseme_curves(["sil"] * 3 + ["aa"] * 6 + ["sil"] * 3)  # 12 frames: 0.4583 s of audio at 24 fps
    assert mouth_cues(curves)[-1].end == pytest.approx(0.5)
    assert mouth_cues(curves, duration_s=0.47)[-1].end == pytest.approx(0.47)
    assert mouth_cues(Curves(24.0, np.zeros((0, 29)), np.zeros((0, 15)))) == []


def test_rhubarb_tsv(tmp_path: Path) -> None:
    cues = [
        MouthCue(0.0, 0.25, "X"),
        MouthCue(0.25, 0.5, "D"),
        MouthCue(0.5, 0.6, "A"),
        MouthCue(0.6, 1.234, "X"),
    ]
    exports.to_rhubarb_tsv(cues, tmp_path / "cues.tsv")
    text = (tmp_path / "cues.tsv").read_text()
    assert text == "0.00\tX\n0.25\tD\n0.50\tA\n0.60\tX\n1.23\tX\n"


def test_rhubarb_json(tmp_path: Path) -> None:
    cues = [MouthCue(0.0, 1 / 3, "X"), MouthCue(1 / 3, 2 / 3, "B"), MouthCue(2 / 3, 1.0, "X")]
    text = exports.to_rhubarb_json(
        cues, tmp_path / "cues.json", sound_file="C:\\vo\\line 1.wav", duration=1.0
    )
    data = json.loads((tmp_path / "cues.json").read_text())
    assert data["metadata"] == {"soundFile": "C:\\vo\\line 1.wav", "duration": 1.0}
    assert data["mouthCues"] == [
        {"start": 0.0, "end": 0.33, "value": "X"},
        {"start": 0.33, "end": 0.67, "value": "B"},
        {"start": 0.67, "end": 1.0, "value": "X"},
    ]
    assert '"start": 0.33, "end": 0.67' in text and '"duration": 1.00' in text  # two decimals, as Rhubarb


def test_cues_never_collapse_at_high_frame_rates() -> None:
    sequence = ["aa"] * 20 + ["PP"] + ["aa"] * 20  # a 5 ms closure at 200 fps
    cues = mouth_cues(viseme_curves(sequence, fps=200.0, second=["aa"] * 41))
    data = json.loads(exports.to_rhubarb_json(cues, duration=41 / 200))
    assert [c["value"] for c in data["mouthCues"]] == ["D", "A", "D"]
    assert all(c["end"] > c["start"] for c in data["mouthCues"])
    lines = exports.to_rhubarb_tsv(cues).splitlines()
    starts = [float(line.split("\t")[0]) for line in lines]
    assert starts == sorted(set(starts))


# --- command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return save_model_folder(LipSyncModel(SMALL), tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def duration() -> float:
    info = sf.info(str(DEMO))
    return info.frames / info.samplerate


def run_cli(*args: str | Path) -> int:
    return main([str(a) for a in args])


@pytest.mark.parametrize("fps", [24.0, 29.97])
def test_cli_json_and_csv(tmp_path: Path, model_folder: Path, duration: float, fps: float) -> None:
    n = frame_count(duration, fps)
    fps_arg = f"{fps:g}"
    assert run_cli(DEMO, "--out", tmp_path / "a.json", "--fps", fps_arg, "--model", model_folder) == 0
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["frames"] == n and data["fps"] == fps and data["audio"] == "demo.wav"
    assert all(len(v) == n for v in [*data["channels"].values(), *data["visemes"].values()])
    assert run_cli(DEMO, "--out", tmp_path / "a.csv", "--fps", fps_arg, "--model", model_folder) == 0
    with open(tmp_path / "a.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["frame", "time", "jawOpen"] and len(rows) == n + 1
    from_json = np.array(list(data["channels"].values())).T
    np.testing.assert_allclose(np.array(rows[1:], dtype=float)[:, 2:31], from_json, atol=2e-4)


@pytest.mark.parametrize("fps", [24.0, 29.97])
def test_cli_live_link_face(tmp_path: Path, model_folder: Path, duration: float, fps: float) -> None:
    out = tmp_path / "take.csv"
    assert (
        run_cli(DEMO, "--out", out, "--format", "livelink", "--fps", f"{fps:g}", "--model", model_folder) == 0
    )
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Timecode", "BlendShapeCount", *LIVE_LINK_FACE_COLUMNS]
    assert len(rows) == frame_count(duration, fps) + 1
    assert rows[1][0] == "00:00:00:00.000" and rows[-1][1] == "61"


def test_cli_rhubarb_formats(tmp_path: Path, model_folder: Path, duration: float) -> None:
    assert run_cli(DEMO, "--out", tmp_path / "cues.tsv", "--model", model_folder) == 0  # format from .tsv
    lines = [line.split("\t") for line in (tmp_path / "cues.tsv").read_text().splitlines()]
    assert lines[0][0] == "0.00" and lines[-1] == [f"{duration:.2f}", "X"]
    assert all(shape in "ABCDEFGHX" and len(shape) == 1 for _, shape in lines)
    out = tmp_path / "cues.json"
    assert (
        run_cli(DEMO, "--out", out, "--format", "rhubarb-json", "--fps", "50", "--model", model_folder) == 0
    )
    data = json.loads(out.read_text())
    assert data["metadata"]["duration"] == round(duration, 2)
    assert data["metadata"]["soundFile"].endswith("demo.wav")
    cues = data["mouthCues"]
    assert cues[0]["start"] == 0 and cues[-1]["end"] == round(duration, 2)
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(cues))


def test_cli_writes_json_to_stdout(
    model_folder: Path, duration: float, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(DEMO, "--fps", "12", "--style", "jaw=1.3, intensity=0.8", "--model", model_folder) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["frames"] == frame_count(duration, 12)
    assert captured.err.count("\n") == 1 and "demo.wav" in captured.err  # the one-line summary


def failure(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = run_cli(*args)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return code, err


def test_cli_exit_codes(tmp_path: Path, model_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corrupt = tmp_path / "noise.wav"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4000))
    model = ("--model", model_folder)
    assert failure(capsys, tmp_path / "missing.wav", *model)[0] == 3
    assert failure(capsys, corrupt, *model)[0] == 3
    code, err = failure(capsys, DEMO, "--model", tmp_path / "no_model")
    assert code == 4 and "no_model" in err
    code, err = failure(capsys, DEMO, "--style", "jaw=1.2,smile=2", *model)
    assert code == 2 and "smile" in err and "intensity" in err
    assert failure(capsys, DEMO, "--style", "jaw=9", *model)[0] == 2  # out of range
    assert failure(capsys, DEMO, "--out", tmp_path / "x.fbx", *model)[0] == 2  # format unknown
    assert failure(capsys, DEMO, "--fps", "0", *model)[0] == 2
    code, err = failure(capsys, DEMO, "--seal-threshold", "1.5", *model)
    assert code == 2 and "--seal-threshold" in err
    code, err = failure(capsys, DEMO, "--vowel-open-threshold", "-1", *model)
    assert code == 2 and "--vowel-open-threshold" in err
    assert failure(capsys, DEMO, "--format", "xml", *model)[0] == 2
    assert failure(capsys, DEMO, "--backend", "onnx", *model)[0] == 4  # no encoder.onnx there
    assert not list(tmp_path.glob("x.*"))


def test_parse_style() -> None:
    style = parse_style("intensity=1.2, jaw=0.8,anticipation_ms=30")
    assert (style.intensity, style.jaw, style.anticipation_ms, style.lips) == (1.2, 0.8, 30.0, 1.0)
    assert parse_style("") == parse_style(None)
