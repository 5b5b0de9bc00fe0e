"""Real engines: timelines are valid, labels canonical, and the labels line up with the audio."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from lipsync_train.engines.base import EngineError, Synth
from lipsync_train.phonemes import BILABIALS, CANONICAL, SILENCE, is_vowel

BOB = "Bob may buy a map."
OTHER = {
    "de": "Bob mag Papas Boot am Meer. Wir müssen zwölf Äpfel pflücken.",
    "fr": "Le petit bateau bleu part ce matin. Un bon vin blanc.",
    "es": "Papá ama a mamá. El perro corre rápido por la calle.",
    "it": "Il babbo mangia la pappa. Gli gnocchi sono buoni.",
    "pt-br": "O bebê come maçã. Bom dia, meu nome é João.",
    "pl": "Pchnąć w tę łódź jeża lub ośm skrzyń fig.",
    "ru": "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "cs": "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "bg": "Ах, чудна българска земьо, полюшвай цъфтящи жита.",
    "eo": "Laŭ Ludoviko Zamenhof bongustas freŝa ĉeĥa manĝaĵo.",
    "ga": "Is maith liom bainne agus arán.",
    "cmn-latn-pinyin": "我能吞下玻璃而不伤身体。",
    "nl": "Het Scheveningse strand is mooi.",
    "sv": "Sju sjösjuka sjömän skötte kärnan.",
    "fi": "Hyvää huomenta, mitä kuuluu?",
    "hu": "Árvíztűrő tükörfúrógép.",
    "tr": "Pijamalı hasta yağız şoföre çabucak güvendi.",
}


def assert_timeline(s: Synth) -> None:
    """Contiguous, monotonic, from 0 to the audio duration, canonical labels."""
    assert s.audio.dtype == np.float32 and s.audio.ndim == 1
    assert np.isfinite(s.audio).all() and np.abs(s.audio).max() > 0.01
    phones = s.phones
    assert phones[0].start == 0.0
    assert abs(phones[-1].end - len(s.audio) / s.sr) < 1e-3
    for a, b in itertools.pairwise(phones):
        assert a.end == pytest.approx(b.start, abs=1e-9)
    assert all(p.end > p.start for p in phones)
    assert {p.label for p in phones} <= CANONICAL
    assert any(p.label != SILENCE for p in phones)


def high_band(s: Synth) -> np.ndarray:
    """The audio above 1 kHz: a lip closure blocks the mouth's output there, while the
    nasal murmur of m and the voice bar of b stay below it."""
    sos = butter(4, 1000.0, btype="highpass", fs=s.sr, output="sos")
    return sosfiltfilt(sos, s.audio.astype(np.float64))


def rms_at(x: np.ndarray, sr: int, t: float, win: float = 0.02) -> float:
    """RMS of a ``win``-second window of ``x`` centred on ``t``."""
    half, c = int(win * sr / 2), int(t * sr)
    seg = x[max(0, c - half) : c + half]
    return float(np.sqrt(np.mean(seg**2))) if seg.size else 0.0


def assert_bilabials_dip(s: Synth, min_count: int = 4, margin_db: float = 3.0) -> None:
    """At their centre, bilabials (lips closed) are >= ``margin_db`` quieter above 1 kHz
    than the centres of the vowels next to them: labels that drifted by half a phone
    would put the window into the vowel."""
    x = high_band(s)
    checked = 0
    for i, p in enumerate(s.phones):
        if p.label not in BILABIALS:
            continue
        vowels = [
            s.phones[j]
            for j in (i - 1, i + 1)
            if 0 <= j < len(s.phones) and s.phones[j].label != SILENCE and is_vowel(s.phones[j].label)
        ]
        if not vowels:
            continue
        here = rms_at(x, s.sr, (p.start + p.end) / 2)
        around = float(np.mean([rms_at(x, s.sr, (v.start + v.end) / 2) for v in vowels]))
        assert here < around * 10 ** (-margin_db / 20), f"{s.voice}: {p} not quieter than {vowels}"
        checked += 1
    assert checked >= min_count


def assert_energy_in_speech(s: Synth, share: float = 0.9) -> None:
    """Nearly all the energy lies inside non-silence phones."""
    energy = s.audio.astype(np.float64) ** 2
    inside = np.zeros(len(energy), bool)
    for p in s.phones:
        if p.label != SILENCE:
            inside[int(p.start * s.sr) : int(np.ceil(p.end * s.sr))] = True
    assert energy[inside].sum() / energy.sum() > share


def check_english(s: Synth) -> None:
    assert_timeline(s)
    assert_bilabials_dip(s)
    assert_energy_in_speech(s)


# ---------------------------------------------------------------- espeak


@pytest.fixture(scope="module")
def espeak():
    from lipsync_train.engines.espeak import get_espeak

    return get_espeak()


@pytest.mark.parametrize(
    "voice", ["en-us", "en-us+f3", "en+m3", "en-gb-scotland+klatt4", "en-029+Mr serious", "en-us-nyc+f5"]
)
def test_espeak_english(espeak, voice):
    s = espeak.synth(BOB, voice, rate=160, pitch=55)
    check_english(s)
    assert s.voice == f"espeak:{voice}" and s.lang.startswith("en") and s.sr == 22050
    assert s.params["rate"] == 160


def test_espeak_closures_inside_stops(espeak):
    """The digital-zero closure before a stop belongs to the stop, not the phone before it."""
    s = espeak.synth("Rob did a quick update, a big cat.", "en-us")
    assert_timeline(s)
    stops = {"p", "b", "t", "d", "k", "ɡ"}
    n5 = int(0.005 * s.sr)
    for a, b in itertools.pairwise(s.phones):
        if b.label in stops and a.label != SILENCE:
            end = round(a.end * s.sr)
            tail = s.audio[end - n5 : end]
            assert np.any(tail != 0), f"closure left inside {a} before {b}"


@pytest.mark.parametrize("voice", sorted(OTHER))
def test_espeak_languages(espeak, voice):
    s = espeak.synth(OTHER[voice], voice)
    assert_timeline(s)
    assert_energy_in_speech(s)


def test_espeak_bilabials_other_languages(espeak):
    assert_bilabials_dip(espeak.synth("Papá ama a mamá, mamá ama a papá.", "es"))
    assert_bilabials_dip(espeak.synth("Bob mag Papas Boot am Meer.", "de"), min_count=3)


def test_espeak_voices_and_errors(espeak):
    voices = espeak.voices()
    assert "en-us+f3" in voices and "de" in voices and not any(v.endswith("_nt") for v in voices)
    assert len(voices) >= 8 * 102
    with pytest.raises(EngineError):
        espeak.synth(BOB, "en-us+nosuchvariant")
    with pytest.raises(EngineError):
        espeak.synth(BOB, "xx-nosuchvoice")
    out = espeak.synth_many([BOB, ""], "en-us")
    assert isinstance(out[0], Synth) and isinstance(out[1], EngineError)


def test_espeak_refuses_the_variant_that_crashes_it(espeak):
    """libespeak-ng 1.51 kills its process reading this sentence as vi+Demonic; the engine says so instead."""
    crashing = "Bỏ đi tập tin kế hoạch của người dùng trong dạng dài."
    with pytest.raises(EngineError, match="Demonic"):
        espeak.synth(crashing, "vi+Demonic", rate=145, pitch=40, range=81)
    assert isinstance(espeak.synth(crashing, "vi", rate=145, pitch=40, range=81), Synth)
    assert isinstance(espeak.synth(BOB, "en-us+Demonic"), Synth)


# ---------------------------------------------------------------- festival


@pytest.fixture(scope="module")
def festival():
    from lipsync_train.engines.festival import Festival

    return Festival()


def test_festival_diphone_batch(festival):
    texts = [BOB, 'He said "stop\\now", Bob.', ""]
    for voice in ("kal", "ked"):
        out = festival.synth_many(texts, voice, [{}, {"stretch": 1.3, "f0_mean": 150, "f0_std": 25}, {}])
        check_english(out[0])
        assert_timeline(out[1])
        assert out[1].params == {"stretch": 1.3, "f0_mean": 150.0, "f0_std": 25.0}
        assert isinstance(out[2], EngineError)
        assert out[0].voice == f"festival:{voice}" and out[0].sr == 16000


def test_festival_survives_a_crash(tmp_path):
    """A festival that dies mid-batch costs only the utterance it died on."""
    from lipsync_train.engines.festival import Festival

    fake = tmp_path / "festival"
    fake.write_text(
        "#!/bin/sh\n# keep the script up to its 2nd utterance, as if festival died on the 3rd\n"
        'awk \'/unwind-protect/{n++} n<=2\' "$2" > "$2.cut"\n'
        'exec festival -b "$2.cut"\n'
    )
    fake.chmod(0o755)
    texts = ["One.", "Two.", "Three.", "Four.", "Five."]
    out = Festival(str(fake)).synth_many(texts, "kal")
    assert [type(x).__name__ for x in out] == ["Synth", "Synth", "EngineError", "Synth", "Synth"]
    assert [p.label for p in out[3].phones if p.label != "_"] == ["f", "ɔ", "ɹ"]


@pytest.mark.slow
def test_festival_slt(festival):
    plain, fast = festival.synth_many([BOB, BOB], "slt", [{}, {"speed": 1.3}])
    check_english(plain)
    assert_timeline(fast)
    assert plain.sr == 32000 and fast.duration < 0.85 * plain.duration


# ---------------------------------------------------------------- flite


@pytest.mark.parametrize("voice", ["kal16", "slt", "rms", "awb"])
def test_flite(voice):
    from lipsync_train.engines.flite import Flite

    s = Flite().synth(BOB, voice)
    check_english(s)
    assert s.voice == f"flite:{voice}"


def test_flite_params_and_errors():
    from lipsync_train.engines.flite import Flite

    flite = Flite()
    slow = flite.synth(BOB, "kal16", stretch=1.4, f0_mean=180)
    assert_timeline(slow)
    assert slow.duration > 1.15 * flite.synth(BOB, "kal16").duration
    with pytest.raises(EngineError):
        flite.synth(BOB, "kal")  # flite would silently fall back to another voice
    with pytest.raises(EngineError):
        flite.synth("  ", "slt")


# ---------------------------------------------------------------- piper


@pytest.mark.slow
def test_piper_joe():
    from lipsync_train.engines.piper import Piper

    piper = Piper()
    s = piper.synth(BOB + " Then Pam paid.", "joe", length_scale=1.1)
    check_english(s)
    assert s.params["length_scale"] == 1.1 and s.sr == 22050
    assert [p.label for p in s.phones[:4]] == ["_", "b", "ɑ", "b"]


# ---------------------------------------------------------------- kokoro


@pytest.mark.slow
def test_kokoro_packs_and_mixes():
    from lipsync_train.engines.kokoro import Kokoro

    kokoro = Kokoro()
    for voice, mix in (("jm_kumo", {}), ("jf_alpha", {"blend_with": "jm_kumo", "blend": 0.5})):
        s = kokoro.synth(BOB + " Then Pam paid.", voice, speed=1.1, **mix)
        check_english(s)  # the bilabials' energy dips prove the latency-corrected timings
        assert s.sr == 24000 and s.params["speed"] == 1.1 and s.voice == f"kokoro:{voice}"
        assert [p.label for p in s.phones[:4]] == ["_", "b", "ɑ", "b"]
    pure = kokoro.synth(BOB, "jf_alpha")
    mixed = kokoro.synth(BOB, "jf_alpha", blend_with="jm_kumo", blend=0.5)
    n = min(len(pure.audio), len(mixed.audio))
    assert not np.allclose(pure.audio[:n], mixed.audio[:n], atol=1e-3)  # a mix is another voice
    with pytest.raises(EngineError, match="unknown kokoro voice"):
        kokoro.synth(BOB, "af_heart")
    with pytest.raises(EngineError, match="blend"):
        kokoro.synth(BOB, "jf_alpha", blend_with="jm_kumo", blend=1.5)
    with pytest.raises(EngineError, match="nothing to say"):
        kokoro.synth("  ", "jf_alpha")


def test_espeak_ipa_in_kokoro_symbols():
    from lipsync_train.engines.kokoro import KOKORO_SYMBOLS, to_kokoro

    assert to_kokoro("bˈaɪ ɐ mˈæp") == "bˈI ə mˈæp"
    assert to_kokoro("dʒˈʌmps ˌoʊvɚ bˈɜːd") == "ʤˈʌmps ˌOvəɹ bˈɜɹd"
    for symbol, ipa in KOKORO_SYMBOLS.items():  # each one-letter symbol reads back as its IPA
        assert symbol == "ᵊ" or to_kokoro(ipa) == symbol


def test_piper_token_grouping():
    from lipsync_train.engines.piper import tokens_to_raw

    toks = [
        ("^", 0, 10),
        ("_", 10, 12),
        ("ˈ", 12, 14),
        ("_", 14, 16),
        ("a", 16, 20),
        ("_", 20, 22),
        ("ɪ", 22, 30),
        ("_", 30, 32),
        (" ", 32, 34),
        ("_", 34, 36),
        ("t", 36, 40),
        ("_", 40, 41),
        ("ʃ", 41, 50),
        ("_", 50, 52),
        ("ɑ", 52, 60),
        ("_", 60, 61),
        ("ː", 61, 64),
        ("_", 64, 66),
        (".", 66, 70),
        ("_", 70, 72),
        ("$", 72, 80),
    ]
    assert tokens_to_raw(toks) == [
        ("_", 0, 10),
        ("aɪ", 10, 30),
        ("tʃ", 30, 50),
        ("ɑː", 50, 64),
        ("_", 64, 80),
    ]


def test_espeak_private_data_concurrent_creation(tmp_path):
    """Two processes creating the private data dir at once both end up with a complete copy."""
    target = tmp_path / "espeak-private"
    code = (
        "import sys; from pathlib import Path; "
        "from lipsync_train.engines.espeak import make_private_data; "
        "print(make_private_data(Path(sys.argv[1])))"
    )
    repo = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True, cwd=repo
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outs == [str(target)] * 2
    data = target / "espeak-ng-data"
    assert (data / "phondata").is_file() and (data / "voices" / "!v" / "f3_nt").is_file()
    assert "echo" not in (data / "voices" / "!v" / "f3_nt").read_text()
    assert not (data / "voices" / "mb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["espeak-private"]  # no temp copies left


def test_load_engine():
    from lipsync_train.engines import ENGINE_NAMES, load_engine

    assert load_engine("flite").voices() == ["kal16", "slt", "rms", "awb"]
    assert set(load_engine("festival").voices()) == {"kal", "ked", "slt"}
    assert load_engine("espeak") is load_engine("espeak")
    assert "piper" in ENGINE_NAMES and "kokoro" in ENGINE_NAMES
    with pytest.raises(ValueError):
        load_engine("nosuch")
