"""One inventory across engines: IPA and ARPAbet labels land on the same canonical phones."""

from __future__ import annotations

import pytest

from blender_lipsync.core.contract import VISEMES
from lipsync_train.phonemes import (
    BILABIALS,
    CANONICAL,
    PHONES,
    SILENCE,
    Phone,
    UnknownPhoneError,
    clean_timeline,
    expand_labels,
    normalize_arpabet,
    normalize_ipa,
    parts,
    viseme_of,
)


@pytest.mark.parametrize(
    ("ipa", "arpabet"),
    [
        ("ə", "AH0"),
        ("ɐ", "AH0"),
        ("ʌ", "AH1"),
        ("ᵻ", "IH0"),
        ("ɪ", "IH1"),
        ("ɚ", "ER0"),
        ("ɜː", "ER1"),
        ("ɝ", "er"),
        ("iː", "IY1"),
        ("eɪ", "EY1"),
        ("oʊ", "OW0"),
        ("tʃ", "CH"),
        ("dʒ", "jh"),
        ("ɹ", "R"),
        ("ŋ", "NG"),
        ("ɾ", "DX"),
        ("ð", "DH"),
        ("ɡ", "G"),
        ("g", "g"),
    ],
)
def test_english_reduced_vowels_and_consonants_agree_across_phone_sets(ipa: str, arpabet: str) -> None:
    assert [p for p, _ in normalize_ipa(ipa, "en-us")] == [normalize_arpabet(arpabet)]


def test_stress_length_ties_and_diacritics_are_ignored() -> None:
    assert normalize_ipa("ˈɑː", "en-us") == [("ɑ", 1.0)]
    assert normalize_ipa("t͡ʃ", "de") == [("tʃ", 1.0)]
    assert normalize_ipa("kʲ", "ru") == [("k", 1.0)]
    assert normalize_ipa("ɑ̃", "fr") == [("ɑ", 1.0)]
    assert normalize_ipa("ç", "de") == [("ç", 1.0)]  # precomposed letter, not c + cedilla


def test_r_coloured_vowels_split_into_vowel_and_r() -> None:
    pieces = normalize_ipa("ɑːɹ", "en-us")
    assert [p for p, _ in pieces] == ["ɑ", "ɹ"]
    assert abs(sum(share for _, share in pieces) - 1.0) < 1e-9 and pieces[0][1] > pieces[1][1]


def test_pauses_and_unknown_symbols() -> None:
    for pause in ("", "_", "pau", "sil", "sp"):
        assert normalize_ipa(pause) == [(SILENCE, 1.0)]
    assert normalize_arpabet("SIL") == SILENCE
    with pytest.raises(UnknownPhoneError):
        normalize_ipa("☃")
    with pytest.raises(UnknownPhoneError):
        normalize_arpabet("XYZ1")


def test_every_phone_has_a_contract_viseme_and_bilabials_are_p_b_m() -> None:
    for phone in CANONICAL:
        vis = viseme_of(phone)
        assert vis is None or vis in VISEMES, phone
    assert viseme_of("h") is None  # transparent: shows the next phone's viseme
    assert {"p", "b", "m"} == BILABIALS
    assert parts("aɪ")[0][0] == "a" and parts("aɪ")[1][0] == "ɪ"
    assert all(info.open <= 1 and info.round <= 1 and info.spread <= 1 for info in PHONES.values())


def test_clean_timeline_fills_gaps_merges_silence_and_ends_at_duration() -> None:
    raw = [("_", 0.0, 0.1), ("_", 0.1, 0.2), ("b", 0.25, 0.3), ("ɑ", 0.3, 0.3), ("ɑ", 0.3, 0.5)]
    out = clean_timeline(raw, 0.9)
    assert out == [Phone("_", 0.0, 0.25), Phone("b", 0.25, 0.3), Phone("ɑ", 0.3, 0.5), Phone("_", 0.5, 0.9)]
    assert clean_timeline([("b", 0.0, 0.48)], 0.5)[-1] == Phone("b", 0.0, 0.5)  # tiny tail absorbed
    assert clean_timeline([], 1.0) == [Phone("_", 0.0, 1.0)]


def test_expand_labels_keeps_time_and_splits_by_share() -> None:
    out = expand_labels([("k", 0.0, 0.1), ("ɑːɹ", 0.1, 0.35)], "en-us", arpabet=False)
    assert [p.label for p in out] == ["k", "ɑ", "ɹ"]
    assert out[1].start == 0.1 and abs(out[2].end - 0.35) < 1e-12 and out[1].end == out[2].start
    assert [p.label for p in expand_labels([("AH0", 0, 1), ("pau", 1, 2)], "en", arpabet=True)] == ["ə", "_"]


def test_espeak_ascii_quirks_of_danish_and_russian() -> None:
    assert normalize_ipa("ε", "da") == [("ɛ", 1.0)]
    assert [p for p, _ in normalize_ipa("?ɑ", "da")] == ["ʔ", "ɑ"]
    assert normalize_ipa('u"', "ru") == [("u", 1.0)] and normalize_ipa("ɪ^", "ru") == [("ɪ", 1.0)]
    assert normalize_ipa("a:", "en-gb-scotland") == [("a", 1.0)]  # some variants spell length as ':'
