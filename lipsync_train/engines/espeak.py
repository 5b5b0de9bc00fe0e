"""espeak-ng through its C API (ctypes), with sample-exact phone timings.

The library reports a PHONEME event (IPA label, exact ``sample`` index) for every
phone.  Two systematic quirks of espeak-ng 1.51 (synthesize.c ``Generate()``) are
corrected, as measured against a forced aligner in shared/notes/speech-sources.md:

1. The event is emitted after the phone's pre-pause, so a stop's closure (exact
   digital zeros) sits inside the previous phone.  Each stop's start is moved back
   to the start of that run of zeros.  Variants with ``echo``/``breath`` fill the
   closure with echo, so there the closure is measured on a "timing twin": the same
   text rendered with an echo/breath-free copy of the variant, kept in a private copy
   of espeak-ng-data.
2. A vowel after a nasal/liquid is announced after its transition: its start is
   moved 18 ms earlier (at most half of the preceding phone).

The library is global state, so use one ``ESpeak`` per process (``get_espeak()``).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from .base import EngineError, RawLabel, Synth, make_synth, synth_each

ENGINE = "espeak"
ENGLISH_ACCENTS = (
    "en-us",
    "en-us-nyc",
    "en",
    "en-gb-x-rp",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
)
"""English accents of espeak-ng 1.51 (``en`` is British; MBROLA ``mb-*`` voices are unusable)."""
OTHER_LANGUAGES = (
    "de",
    "fr",
    "es",
    "it",
    "pt-br",
    "pl",
    "ru",
    "cs",
    "bg",
    "eo",
    "ga",
    "cmn-latn-pinyin",
    "nl",
    "sv",
    "fi",
    "hu",
    "tr",
)
"""Non-English voices checked to give canonical labels.  Mandarin is ``cmn-latn-pinyin``:
Debian's ``cmn`` voice reads Hanzi as pinyin spelled out in English ("ni three")."""
_LANG_OVERRIDES = {"cmn-latn-pinyin": "cmn"}
_LABEL_FIXES: dict[str, dict[str, str]] = {
    # a lone palatalisation mark is espeak's ";" phoneme, a j-like glide (pl, ru, bg, ga)
    "*": {"ʲ": "j"},
    "de": {"??": "ʊɐ"},  # phoneme "UR" (durch, kurz) has no IPA in de's table
    "ga": {"A": "ɑ"},  # ph_irish declares "ipa A" for its open back vowel
    # Mandarin phonemes without IPA come out as ASCII mnemonics: h = aspiration, . = retroflex
    "cmn": {
        "ph": "p",
        "th": "t",
        "kh": "k",
        "tsh": "ts",
        "tɕh": "tɕ",
        "ts.h": "tʂ",
        "ts.": "tʂ",
        "s.": "ʂ",
        "i.": "ɨ",
        "onɡ": "oŋ",
        "ər": "ɚ",
    },
}
"""espeak-ng 1.51 labels that are not IPA, per language -> IPA (exact label match)."""

UNSAFE_VARIANTS: dict[str, frozenset[str]] = {"vi": frozenset({"Demonic"})}
"""Variants libespeak-ng 1.51 crashes on, per language: a protection fault inside the library that
kills the whole process (Demonic, on about half of Vietnamese sentences).  ``synth`` refuses them."""

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA, _INIT_DONT_EXIT = 0x0001, 0x0002, 0x8000
_CHARS_UTF8 = 1
_RATE, _PITCH, _RANGE = 1, 3, 4
_EV_LIST_TERMINATED, _EV_PHONEME = 0, 7
_TEXTURE = re.compile(r"\s*(echo|breath|breathw)\b")
_TWIN = "_nt"
_STOP_LETTERS = set("pbtdkɡgcɟqɢʈɖʔ")  # affricates (tʃ, ts, ...) start with one of these
_NASAL_LIQUID = {"m", "n", "ŋ", "ɲ", "ɳ", "l", "ɫ", "ʎ", "ɹ", "r", "ɻ", "w", "j"}
_VOWEL_LETTERS = set("aeiouyɑɐɒæɛɜɪʊʌɔəɚɝᵻøœɨʉɯɤɵɘɶʏɞ")
MAX_CLOSURE_S = 0.15
MIN_CLOSURE_S = 0.005
NASAL_LIQUID_SHIFT_S = 0.018


class _ID(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _ID),
    ]


_SYNTH_CB = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def system_data_dir() -> Path:
    """The installed espeak-ng-data directory (Debian multiarch or /usr/share)."""
    candidates = sorted(Path("/usr/lib").glob("*/espeak-ng-data"))
    candidates += [Path("/usr/share/espeak-ng-data"), Path("/usr/local/share/espeak-ng-data")]
    for path in candidates:
        if (path / "phondata").is_file():
            return path
    raise EngineError("espeak-ng-data not found: install the espeak-ng-data / libespeak-ng1 packages")


def default_cache_dir() -> Path:
    """``<repo>/.cache/espeak-ng-data-private``."""
    return Path(__file__).resolve().parents[2] / ".cache" / "espeak-ng-data-private"


def _write_twins(voice_dir: Path) -> None:
    """Add ``<variant>_nt``: the variant without echo/breath (same timing, clean closures)."""
    for path in list(voice_dir.iterdir()):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if not any(_TEXTURE.match(line) for line in lines):
            continue
        keep = [line for line in lines if not _TEXTURE.match(line)]
        keep = [f"name {path.name}{_TWIN}" if line.startswith("name ") else line for line in keep]
        (voice_dir / f"{path.name}{_TWIN}").write_text("\n".join(keep) + "\n", encoding="utf-8")


def make_private_data(cache_dir: Path | None = None) -> Path:
    """Create (once) a private espeak-ng-data with timing twins; return its PARENT dir.

    Built in a temporary sibling directory and renamed into place, so concurrent
    processes never see a half-written copy; the loser of a race discards its copy.
    """
    parent = Path(cache_dir) if cache_dir else default_cache_dir()
    if (parent / "espeak-ng-data" / "phondata").is_file():
        return parent
    parent.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=parent.name + ".tmp-", dir=parent.parent))
    try:
        data = tmp / "espeak-ng-data"
        shutil.copytree(system_data_dir(), data)
        # MBROLA voices cannot speak here and push the voice list past espeak's limit
        shutil.rmtree(data / "voices" / "mb", ignore_errors=True)
        _write_twins(data / "voices" / "!v")
        try:
            os.rename(tmp, parent)
        except OSError:
            if not (parent / "espeak-ng-data" / "phondata").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return parent


def _base_letters(label: str) -> str:
    """An IPA label without stress, length marks and diacritics (for phone classes)."""
    decomposed = unicodedata.normalize("NFD", label)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch not in "ˈˌːˑ")


def _closure_samples(audio: np.ndarray, events: list[tuple[str, int]], sr: int) -> list[int]:
    """Per phone: length of the run of exact zeros just before a stop's event (its closure)."""
    out = [0] * len(events)
    for k in range(1, len(events)):
        label, start = events[k]
        prev_label, prev_start = events[k - 1]
        if _base_letters(label)[:1] not in _STOP_LETTERS or not prev_label:
            continue  # not a stop, or after a pause (closure is inside the pause anyway)
        low = max(prev_start + 1, start - int(MAX_CLOSURE_S * sr))
        j = start
        while j > low and audio[j - 1] == 0:
            j -= 1
        if start - j >= int(MIN_CLOSURE_S * sr):
            out[k] = start - j
    return out


def correct_starts(events: list[tuple[str, int]], closures: list[int], sr: int) -> list[int]:
    """Phone start samples after the closure fix and the nasal/liquid -> vowel shift."""
    starts = [s for _, s in events]
    for k in range(1, len(starts)):
        if closures[k]:
            starts[k] = max(starts[k - 1] + 1, starts[k] - closures[k])
    for k in range(1, len(starts)):
        here, before = _base_letters(events[k][0]), _base_letters(events[k - 1][0])
        if here[:1] in _VOWEL_LETTERS and before in _NASAL_LIQUID:
            prev_len = starts[k] - starts[k - 1]
            starts[k] -= min(int(NASAL_LIQUID_SHIFT_S * sr), prev_len // 2)
    return starts


def fix_labels(events: list[tuple[str, int]], lang: str) -> list[tuple[str, int]]:
    """Replace espeak's non-IPA labels (``_LABEL_FIXES``) for ``lang``."""
    table = {**_LABEL_FIXES["*"], **_LABEL_FIXES.get(lang.split("-")[0], {})}
    return [(table.get(label, label), sample) for label, sample in events]


def events_to_raw(
    events: list[tuple[str, int]], starts: list[int], n_samples: int, sr: int
) -> list[RawLabel]:
    """(label, start sample) pairs -> contiguous raw labels in seconds (``_`` = pause)."""
    raw: list[RawLabel] = []
    if starts and starts[0] > 0:
        raw.append(("_", 0.0, starts[0] / sr))
    for k, (label, _) in enumerate(events):
        end = min(starts[k + 1] if k + 1 < len(events) else n_samples, n_samples)
        if end > starts[k]:
            raw.append((label or "_", starts[k] / sr, end / sr))
    return raw


def _voice_languages(data: Path) -> dict[str, str]:
    """espeak voice name (file name, lower case) -> language code (its first ``language``)."""
    out = {}
    for path in (data / "lang").rglob("*"):
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("language "):
                name = path.name.lower()
                out[name] = _LANG_OVERRIDES.get(name, line.split()[1].lower())
                break
    return out


class ESpeak:
    """espeak-ng synthesiser with corrected phone timings (one instance per process)."""

    name = ENGINE
    _lock = threading.Lock()
    _initialised_with: Path | None = None

    def __init__(self, cache_dir: Path | None = None) -> None:
        """``cache_dir``: parent of the private espeak-ng-data copy (created on first use)."""
        self.data_parent = make_private_data(cache_dir)
        if ESpeak._initialised_with not in (None, self.data_parent):
            raise EngineError("espeak-ng is already initialised in this process with another data dir")
        self._lib = self._load()
        self.sr = int(
            self._lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                str(self.data_parent).encode(),
                _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT,
            )
        )
        if self.sr <= 0:
            raise EngineError(f"espeak_Initialize failed ({self.sr})")
        ESpeak._initialised_with = self.data_parent
        self._callback = _SYNTH_CB(self._on_audio)  # keep a reference: C holds a raw pointer
        self._lib.espeak_SetSynthCallback(self._callback)
        data = self.data_parent / "espeak-ng-data"
        names = {p.name for p in (data / "voices" / "!v").iterdir()}
        self._twinned = {n[: -len(_TWIN)] for n in names if n.endswith(_TWIN)}
        self._variants = sorted(n for n in names if not n.endswith(_TWIN))
        self._languages = _voice_languages(data)
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []

    @staticmethod
    def _load() -> ctypes.CDLL:
        try:
            lib = ctypes.CDLL("libespeak-ng.so.1")
        except OSError as exc:
            raise EngineError("libespeak-ng.so.1 not found: apt-get install libespeak-ng1") from exc
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        return lib

    def _on_audio(self, wav: Any, n: int, events: Any) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != _EV_LIST_TERMINATED:
            if events[i].type == _EV_PHONEME:
                label = events[i].id.string.decode("utf-8", "replace")
                if not (label.startswith("(") and label.endswith(")")):  # "(en)": language switch
                    self._events.append((label, int(events[i].sample)))
            i += 1
        return 0

    def variants(self) -> list[str]:
        """Voice variants (``voices/!v``), usable as ``<voice>+<variant>``."""
        return list(self._variants)

    def languages(self) -> dict[str, str]:
        """Every installed espeak voice name -> its language code (most are untested here)."""
        return dict(self._languages)

    def voices(self) -> list[str]:
        """Every English accent and listed language, plain and with every variant."""
        return [
            f"{name}{suffix}"
            for name in ENGLISH_ACCENTS + OTHER_LANGUAGES
            for suffix in ["", *(f"+{v}" for v in self._variants)]
        ]

    def _render(
        self, text: str, voice: str, rate: int, pitch: int, range_: int
    ) -> tuple[np.ndarray, list[tuple[str, int]]]:
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise EngineError(f"espeak-ng has no voice {voice!r}")
        lib.espeak_SetParameter(_RATE, int(rate), 0)
        lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        lib.espeak_SetParameter(_RANGE, int(range_), 0)
        self._chunks, self._events = [], []
        data = text.encode("utf-8") + b"\0"
        status = lib.espeak_Synth(
            ctypes.create_string_buffer(data), len(data), 0, 0, 0, _CHARS_UTF8, None, None
        )
        lib.espeak_Synchronize()
        if status != 0:
            raise EngineError(f"espeak_Synth failed with status {status}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return audio, list(self._events)

    def _split_voice(self, voice: str, variant: str | None) -> tuple[str, str | None]:
        name, _, named = voice.partition("+")
        name = name.lower()
        variant = variant or named or None
        if name not in self._languages:
            raise EngineError(f"espeak-ng has no voice {name!r}")
        if variant and variant not in self._variants:
            raise EngineError(f"unknown espeak-ng variant {variant!r}")  # espeak would ignore it
        return name, variant

    def synth(
        self,
        text: str,
        voice: str = "en-us",
        *,
        rate: int = 175,
        pitch: int = 50,
        range: int = 50,
        variant: str | None = None,
    ) -> Synth:
        """Synthesise ``text``; ``voice`` is ``<voice>[+<variant>]`` (``variant=`` also works).

        ``rate`` in words per minute (80-450), ``pitch`` and ``range`` 0-99.
        """
        name, variant = self._split_voice(voice, variant)
        lang = self._languages[name]
        if variant in UNSAFE_VARIANTS.get(lang, ()):
            raise EngineError(f"espeak-ng crashes reading {lang} with the {variant} variant: pick another")
        full = f"{name}+{variant}" if variant else name
        with self._lock:
            audio, events = self._render(text, full, rate, pitch, range)
            twin_audio, twin_events = audio, events
            if variant in self._twinned:
                twin_audio, twin_events = self._render(text, full + _TWIN, rate, pitch, range)
        if not events or audio.size == 0:
            raise EngineError(f"espeak-ng produced nothing for {text!r}")
        events, twin_events = fix_labels(events, lang), fix_labels(twin_events, lang)
        if [lab for lab, _ in twin_events] != [lab for lab, _ in events]:
            twin_audio, twin_events = audio, events  # twin diverged: measure on the audio itself
        starts = correct_starts(events, _closure_samples(twin_audio, twin_events, self.sr), self.sr)
        raw = events_to_raw(events, starts, len(audio), self.sr)
        params = {"rate": int(rate), "pitch": int(pitch), "range": int(range), "variant": variant}
        return make_synth(
            audio.astype(np.float32) / 32768.0,
            self.sr,
            raw,
            engine=ENGINE,
            voice=full,
            lang=lang,
            params=params,
            arpabet=False,
        )

    def synth_many(
        self, texts: list[str], voice: str, params_list: list[dict[str, Any]] | None = None
    ) -> list[Synth | EngineError]:
        """One ``synth`` per text; failures are returned in place as ``EngineError``."""
        return synth_each(self, texts, voice, params_list)


_INSTANCE: ESpeak | None = None


def get_espeak(cache_dir: Path | None = None) -> ESpeak:
    """The process-wide ``ESpeak`` (created on first call)."""
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = ESpeak(cache_dir)
    return _INSTANCE
