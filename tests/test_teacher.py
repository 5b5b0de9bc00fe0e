"""The teacher's invariants: what an animator would check on the curves it draws."""

from __future__ import annotations

import numpy as np
import pytest

from blender_lipsync.core.contract import CHANNEL_INDEX, MOUTH_CHANNELS, VISEME_INDEX, VISEMES, lips_closed
from blender_lipsync.core.style import STYLE_FIELDS, Style
from lipsync_train import teacher
from lipsync_train.phonemes import BILABIALS, OPEN_VOWELS, Phone, clean_timeline, is_vowel

FPS_SET = (24.0, 29.97, 50.0, 60.0)


def timeline(spec: str, step: float = 0.09, lead: float = 0.2) -> list[Phone]:
    """'b ɑ b u s' -> phones of `step` seconds after `lead` s of silence, then silence."""
    labels = spec.split()
    raw = [(lab, lead + i * step, lead + (i + 1) * step) for i, lab in enumerate(labels)]
    return clean_timeline(raw, lead + len(labels) * step + 0.3)


SENTENCE = timeline("ð ə b ɔɪ m eɪ b aɪ ə m æ p f ɔ ɹ w ʌ n p ɛ n i")


def frames_of(phone: Phone, fps: float) -> np.ndarray:
    return np.arange(int(np.ceil(phone.start * fps)), int(np.floor(phone.end * fps)) + 1)


@pytest.mark.parametrize("fps", FPS_SET)
def test_values_in_range_and_visemes_are_probabilities(fps: float) -> None:
    curves = teacher.render(SENTENCE, fps)
    assert curves.channels.shape[1] == len(MOUTH_CHANNELS)
    assert np.all(np.isfinite(curves.channels)) and np.all(np.isfinite(curves.visemes))
    assert curves.channels.min() >= 0.0 and curves.channels.max() <= 1.0
    np.testing.assert_allclose(curves.visemes.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("fps", FPS_SET)
def test_every_bilabial_closes_the_lips(fps: float) -> None:
    curves = teacher.render(SENTENCE, fps)
    closed = lips_closed(curves.channels)
    bilabials = [p for p in SENTENCE if p.label in BILABIALS]
    assert len(bilabials) == 6
    for phone in bilabials:
        centre = round((phone.start + phone.end) / 2 * fps)
        assert closed[centre], f"lips open at {phone.label} {phone.start:.2f}s ({fps} fps)"


def test_short_bilabial_between_frames_still_closes() -> None:
    phones = clean_timeline([("ɑ", 0.0, 0.2), ("b", 0.2, 0.225), ("ɑ", 0.225, 0.4)], 0.5)
    for fps in (24.0, 23.976):
        curves = teacher.render(phones, fps)
        window = lips_closed(curves.channels)[int(0.2 * fps) - 1 : int(0.225 * fps) + 2]
        assert window.any()


def test_open_vowels_open_the_lips_and_jaw() -> None:
    curves = teacher.render(SENTENCE, 50.0)
    closed = lips_closed(curves.channels)
    jaw = curves.channel("jawOpen")
    for phone in SENTENCE:
        if phone.label in OPEN_VOWELS:
            centre = round((phone.start + phone.end) / 2 * 50)
            assert not closed[centre] and jaw[centre] > 0.3, phone


def test_labiodentals_tuck_the_lower_lip_and_rounding_anticipates() -> None:
    curves = teacher.render(SENTENCE, 50.0)
    f = next(p for p in SENTENCE if p.label == "f")
    roll = curves.channel("mouthRollLower")
    assert roll[round((f.start + f.end) / 2 * 50)] > 0.3
    # the w of "one": lips round before its sound starts (anticipation)
    w = next(p for p in SENTENCE if p.label == "w")
    pucker = curves.channel("mouthPucker")
    assert pucker[int(w.start * 50) - 2] > 0.3 * pucker[int((w.start + w.end) / 2 * 50)]


def test_tongue_only_consonants_let_lip_rounding_carry_through() -> None:
    rounded = teacher.render(timeline("u t u"), 50.0)
    spread = teacher.render(timeline("i t i"), 50.0)
    t_mid = round((0.2 + 0.09 + 0.045) * 50)
    assert rounded.channel("mouthPucker")[t_mid] > 0.5
    assert spread.channel("mouthPucker")[t_mid] < 0.1


def test_jaw_follows_loudness() -> None:
    phones = timeline("b ɑ b ɑ b")
    sr = 16000
    t = np.arange(int(phones[-1].end * sr)) / sr
    quiet_then_loud = np.sin(2 * np.pi * 150 * t) * np.where(t < 0.38, 0.05, 0.8)
    loud = teacher.loudness_envelope(quiet_then_loud, sr)
    curves = teacher.render(phones, 50.0, loudness=loud)
    first, second = (p for p in phones if p.label == "ɑ")
    jaw = curves.channel("jawOpen")
    assert jaw[int((second.start + second.end) / 2 * 50)] > 1.3 * jaw[int((first.start + first.end) / 2 * 50)]


def _peak(curves, names: tuple[str, ...]) -> float:
    return float(sum(curves.channel(n).max() for n in names))


@pytest.mark.parametrize(
    ("field", "channels"),
    [
        ("jaw", ("jawOpen",)),
        ("lips", ("mouthPucker", "mouthFunnel", "mouthStretchLeft", "mouthLowerDownLeft")),
        ("intensity", ("jawOpen", "mouthPucker", "mouthLowerDownLeft")),
    ],
)
def test_amplitude_styles_scale_their_channels(field: str, channels: tuple[str, ...]) -> None:
    spec = next(f for f in STYLE_FIELDS if f.name == field)
    low = teacher.render(SENTENCE, 50.0, Style(**{field: spec.low}))
    high = teacher.render(SENTENCE, 50.0, Style(**{field: spec.high}))
    assert _peak(high, channels) > 1.3 * _peak(low, channels)


def test_jaw_style_leaves_lip_rounding_alone() -> None:
    low = teacher.render(SENTENCE, 50.0, Style(jaw=0.4))
    high = teacher.render(SENTENCE, 50.0, Style(jaw=1.8))
    np.testing.assert_allclose(low.channel("mouthPucker"), high.channel("mouthPucker"), atol=1e-6)


def test_articulation_sharpens_transitions() -> None:
    soft = teacher.render(SENTENCE, 50.0, Style(articulation=0.0))
    crisp = teacher.render(SENTENCE, 50.0, Style(articulation=1.0))
    speed = lambda c: np.abs(np.diff(c.channel("jawOpen"))).mean()  # noqa: E731
    assert speed(crisp) > 1.15 * speed(soft)
    # crisp speech reaches further towards each target: bigger jaw swings
    assert np.ptp(crisp.channel("jawOpen")) > np.ptp(soft.channel("jawOpen"))


def test_anticipation_moves_gestures_earlier() -> None:
    phones = timeline("ɑ ɑ ɑ t u u u", step=0.1)
    early = teacher.render(phones, 100.0, Style(anticipation_ms=150.0)).channel("mouthPucker")
    late = teacher.render(phones, 100.0, Style(anticipation_ms=0.0)).channel("mouthPucker")
    onset = lambda x: int(np.argmax(x > 0.2 * x.max()))  # noqa: E731
    assert onset(early) < onset(late) - 3


def test_closure_strength_presses_lips_harder() -> None:
    soft = teacher.render(SENTENCE, 50.0, Style(closure=0.5))
    firm = teacher.render(SENTENCE, 50.0, Style(closure=1.0))
    assert firm.channel("mouthPressLeft").max() > 2 * soft.channel("mouthPressLeft").max()
    # a soft closure is still a closure
    for phone in (p for p in SENTENCE if p.label in BILABIALS):
        assert lips_closed(soft.channels)[round((phone.start + phone.end) / 2 * 50)]


def test_silence_is_rest_without_nan() -> None:
    curves = teacher.render(clean_timeline([], 2.0), 24.0)
    assert curves.frames == 49
    assert np.all(curves.channels == 0.0)
    assert np.all(curves.viseme_ids() == VISEME_INDEX["sil"])
    assert np.all(teacher.loudness_envelope(np.zeros(32000), 16000).values == 0.0)


@pytest.mark.parametrize("label", ["m", "ɑ", "s", "h", "aɪ", "_"])
def test_one_phone_input(label: str) -> None:
    curves = teacher.render([Phone(label, 0.0, 0.12)], 60.0)
    assert curves.frames == 8
    assert np.all(np.isfinite(curves.channels)) and np.all(np.isfinite(curves.visemes))
    np.testing.assert_allclose(curves.visemes.sum(axis=1), 1.0, atol=1e-5)
    assert curves.channels.min() >= 0.0 and curves.channels.max() <= 1.0


def test_visemes_follow_phones_and_h_takes_the_next_shape() -> None:
    phones = timeline("h oʊ m s", step=0.12)
    curves = teacher.render(phones, 100.0, Style(anticipation_ms=0.0))
    ids = curves.viseme_ids()
    at = lambda t: VISEMES[ids[int(t * 100)]]  # noqa: E731
    assert at(0.26) == "O"  # h shows the vowel it leads into
    assert at(0.38) == "O" and at(0.5) == "PP" and at(0.62) == "SS" and at(0.1) == "sil"


def test_vowel_ratio_of_sentence_is_plausible() -> None:
    """Sanity on the fixture itself: a sentence, not just consonants."""
    assert 0.3 < np.mean([is_vowel(p.label) for p in SENTENCE if p.label != "_"]) < 0.6
    assert set(CHANNEL_INDEX) == set(MOUTH_CHANNELS)
