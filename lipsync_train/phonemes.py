"""One phoneme inventory (IPA) for every engine, language and alignment source.

Engines and aligners speak different phone sets: espeak-ng and Piper emit IPA with
stress marks, length marks and diacritics; Festival, flite, pocketsphinx and MFA
TextGrids emit ARPAbet.  Everything is mapped here onto one *canonical* IPA
inventory whose symbols carry the articulatory features the teacher needs.

Reduced vowels follow real-speech alignments (ARPAbet): AH0 = espeak ``ə``/``ɐ`` =
Festival ``ax`` -> ``ə``; IH0 = espeak ``ᵻ`` -> ``ɪ``; ER0/ER1 = ``ɚ``/``ɝ``/``ɜː`` -> ``ɚ``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

SILENCE = "_"


class Phone(NamedTuple):
    """A phone on a timeline: canonical IPA label and its span in seconds."""

    label: str
    start: float
    end: float


@dataclass(frozen=True)
class PhoneInfo:
    """Articulatory description of one canonical phone.

    ``lips`` says who owns the lips: ``close`` (bilabial seal), ``near`` (bilabial
    approximation), ``dental`` (lower lip to upper teeth), ``shaped`` (the phone has
    its own lip shape: vowels, w, sh...), ``free`` (tongue-only: the neighbours' lip
    shapes carry through it).  ``viseme`` is None for transparent phones (h) that
    take the viseme of the phone after them.
    """

    kind: str  # "vowel", "consonant" or "silence"
    viseme: str | None
    lips: str
    open: float = 0.0  # jaw opening target, 0..1
    round: float = 0.0  # lip rounding / protrusion, 0..1
    spread: float = 0.0  # lip spreading, 0..1
    tongue_out: float = 0.0


def _v(viseme: str, open_: float, round_: float = 0.0, spread: float = 0.0) -> PhoneInfo:
    return PhoneInfo("vowel", viseme, "shaped", open_, round_, spread)


def _c(
    viseme: str | None,
    lips: str,
    open_: float = 0.08,
    round_: float = 0.0,
    spread: float = 0.0,
    tongue_out: float = 0.0,
) -> PhoneInfo:
    return PhoneInfo("consonant", viseme, lips, open_, round_, spread, tongue_out)


PHONES: dict[str, PhoneInfo] = {
    SILENCE: PhoneInfo("silence", "sil", "free"),
    # --- vowels: jaw opening from height, lips from rounding/spreading
    "i": _v("I", 0.10, spread=0.65),
    "y": _v("U", 0.10, round_=0.8),
    "ɨ": _v("I", 0.12, spread=0.25),
    "ʉ": _v("U", 0.12, round_=0.6),
    "ɯ": _v("I", 0.12, spread=0.3),
    "u": _v("U", 0.12, round_=1.0),
    "ɪ": _v("I", 0.18, spread=0.45),
    "ʏ": _v("U", 0.18, round_=0.6),
    "ʊ": _v("U", 0.18, round_=0.6),
    "e": _v("E", 0.28, spread=0.5),
    "ø": _v("O", 0.28, round_=0.7),
    "ɘ": _v("E", 0.30, spread=0.15),
    "ɵ": _v("O", 0.30, round_=0.5),
    "ɤ": _v("E", 0.30, spread=0.2),
    "o": _v("O", 0.35, round_=0.85),
    "ə": _v("aa", 0.28),
    "ɚ": _v("RR", 0.26, round_=0.35),
    "ɛ": _v("E", 0.45, spread=0.35),
    "œ": _v("O", 0.45, round_=0.5),
    "ɜ": _v("E", 0.40, spread=0.1),
    "ɞ": _v("O", 0.40, round_=0.4),
    "ʌ": _v("aa", 0.55),
    "ɔ": _v("O", 0.55, round_=0.65),
    "ɐ": _v("aa", 0.45),
    "æ": _v("aa", 0.65, spread=0.35),
    "a": _v("aa", 0.75),
    "ɶ": _v("O", 0.70, round_=0.4),
    "ɑ": _v("aa", 0.80),
    "ɒ": _v("O", 0.65, round_=0.5),
    # --- consonants
    "p": _c("PP", "close", 0.05),
    "b": _c("PP", "close", 0.05),
    "m": _c("PP", "close", 0.05),
    "ɸ": _c("PP", "near", 0.06),
    "β": _c("PP", "near", 0.06),
    "f": _c("FF", "dental", 0.07),
    "v": _c("FF", "dental", 0.07),
    "ɱ": _c("FF", "dental", 0.07),
    "ʋ": _c("FF", "dental", 0.08),
    "pf": _c("FF", "dental", 0.07),
    "θ": _c("TH", "free", 0.12, tongue_out=0.35),
    "ð": _c("TH", "free", 0.12, tongue_out=0.3),
    "t": _c("DD", "free", 0.10),
    "d": _c("DD", "free", 0.10),
    "ʈ": _c("DD", "free", 0.10),
    "ɖ": _c("DD", "free", 0.10),
    "ɾ": _c("DD", "free", 0.14),
    "ɽ": _c("DD", "free", 0.14),
    "ʔ": _c("DD", "free", 0.12),
    "k": _c("kk", "free", 0.14),
    "ɡ": _c("kk", "free", 0.14),
    "c": _c("kk", "free", 0.12),
    "ɟ": _c("kk", "free", 0.12),
    "q": _c("kk", "free", 0.16),
    "ɢ": _c("kk", "free", 0.16),
    "ŋ": _c("kk", "free", 0.14),
    "x": _c("kk", "free", 0.16),
    "ɣ": _c("kk", "free", 0.16),
    "χ": _c("kk", "free", 0.18),
    "ħ": _c("kk", "free", 0.2),
    "ʕ": _c("kk", "free", 0.2),
    "h": _c(None, "free", 0.2),
    "ɦ": _c(None, "free", 0.2),
    "s": _c("SS", "free", 0.05, spread=0.25),
    "z": _c("SS", "free", 0.05, spread=0.25),
    "ts": _c("SS", "free", 0.05, spread=0.2),
    "dz": _c("SS", "free", 0.05, spread=0.2),
    "ʃ": _c("CH", "shaped", 0.07, round_=0.55),
    "ʒ": _c("CH", "shaped", 0.07, round_=0.55),
    "tʃ": _c("CH", "shaped", 0.07, round_=0.5),
    "dʒ": _c("CH", "shaped", 0.07, round_=0.5),
    "ɕ": _c("CH", "shaped", 0.07, round_=0.3, spread=0.2),
    "ʑ": _c("CH", "shaped", 0.07, round_=0.3, spread=0.2),
    "tɕ": _c("CH", "shaped", 0.07, round_=0.3, spread=0.2),
    "dʑ": _c("CH", "shaped", 0.07, round_=0.3, spread=0.2),
    "ʂ": _c("CH", "shaped", 0.07, round_=0.4),
    "ʐ": _c("CH", "shaped", 0.07, round_=0.4),
    "tʂ": _c("CH", "shaped", 0.07, round_=0.4),
    "dʐ": _c("CH", "shaped", 0.07, round_=0.4),
    "ç": _c("CH", "free", 0.08, spread=0.3),
    "ʝ": _c("CH", "free", 0.08, spread=0.3),
    "n": _c("nn", "free", 0.10),
    "ɲ": _c("nn", "free", 0.10),
    "ɳ": _c("nn", "free", 0.10),
    "ɴ": _c("nn", "free", 0.12),
    "l": _c("nn", "free", 0.14),
    "ɫ": _c("nn", "free", 0.14),
    "ʎ": _c("nn", "free", 0.12),
    "ɭ": _c("nn", "free", 0.14),
    "ʟ": _c("nn", "free", 0.14),
    "ɬ": _c("nn", "free", 0.12),
    "ɮ": _c("nn", "free", 0.12),
    "ɹ": _c("RR", "shaped", 0.12, round_=0.35),
    "ɻ": _c("RR", "shaped", 0.12, round_=0.3),
    "r": _c("RR", "free", 0.14),
    "ʀ": _c("RR", "free", 0.16),
    "ʁ": _c("RR", "free", 0.16),
    "ɺ": _c("RR", "free", 0.14),
    "j": _c("I", "shaped", 0.08, spread=0.45),
    "w": _c("U", "shaped", 0.08, round_=1.0),
    "ʍ": _c("U", "shaped", 0.08, round_=1.0),
    "ɥ": _c("U", "shaped", 0.08, round_=0.85),
    "ɰ": _c("I", "shaped", 0.10, spread=0.2),
}

DIPHTHONGS: dict[str, tuple[str, str]] = {
    "aɪ": ("a", "ɪ"),
    "aʊ": ("a", "ʊ"),
    "eɪ": ("e", "ɪ"),
    "oʊ": ("o", "ʊ"),
    "ɔɪ": ("ɔ", "ɪ"),
    "əʊ": ("ə", "ʊ"),
    "ɔʏ": ("ɔ", "ʏ"),
    "aɪ̯": ("a", "ɪ"),
    "ei": ("e", "i"),
    "ai": ("a", "i"),
    "au": ("a", "u"),
    "oi": ("o", "i"),
    "ou": ("o", "u"),
    "eu": ("e", "u"),
}
"""Diphthongs kept as one phone (one alignment segment) and rendered as two targets."""

CANONICAL: frozenset[str] = frozenset(PHONES) | frozenset(DIPHTHONGS)
BILABIALS: frozenset[str] = frozenset(p for p, i in PHONES.items() if i.lips == "close")
OPEN_VOWELS: frozenset[str] = frozenset(
    p for p, i in PHONES.items() if i.kind == "vowel" and i.open >= 0.45
) | frozenset(d for d, (a, _) in DIPHTHONGS.items() if PHONES[a].open >= 0.45)
"""Vowels during which sealed lips are a false closure (yardstick)."""

DIPHTHONG_NUCLEUS_SHARE = 0.6
"""Share of a diphthong's duration spent near its first (nucleus) target."""


def parts(phone: str) -> list[tuple[str, float]]:
    """The articulatory targets of a canonical phone and their share of its duration."""
    if phone in DIPHTHONGS:
        first, second = DIPHTHONGS[phone]
        return [(first, DIPHTHONG_NUCLEUS_SHARE), (second, 1.0 - DIPHTHONG_NUCLEUS_SHARE)]
    return [(phone, 1.0)]


def info(phone: str) -> PhoneInfo:
    """Features of a canonical phone (of a diphthong: of its nucleus)."""
    return PHONES[parts(phone)[0][0]]


def viseme_of(phone: str) -> str | None:
    return info(phone).viseme


def is_vowel(phone: str) -> bool:
    return info(phone).kind == "vowel"


# ---------------------------------------------------------------- IPA normalisation

_DROP = set('ˈˌːˑ‿ʰʲʷˠˤʼ˞ⁿˡ-012345"^:`') | {"\u200d", "\u200c", "\u0361", "\u035c"}
"""Stress, length, ties, tones, and espeak-ng's ASCII marks (ru ``u"``, ``ɪ^``; ``a:`` for length;
lv ``a```, its broken tone)."""
_ENGLISH_IPA = {"ɐ": "ə", "ᵻ": "ɪ", "ɝ": "ɚ", "ɜ": "ɚ", "ɚɹ": "ɚ"}
"""English reduced and r-coloured vowels, spelled as ARPAbet alignments have them (AH0, IH0, ER)."""
_GENERIC_IPA = {
    "g": "ɡ",
    "ɝ": "ɚ",
    "ᵻ": "ɪ",
    "ʤ": "dʒ",
    "ʧ": "tʃ",
    "ʦ": "ts",
    "ʣ": "dz",
    "ε": "ɛ",
    "?": "ʔ",  # espeak-ng's Danish table: Greek epsilon, and '?' for stød
}
"""Single-character spellings that differ between engines."""
_TOKENS = sorted(CANONICAL - {SILENCE}, key=len, reverse=True)


_PRECOMPOSED = {ch for phone in PHONES for ch in phone if unicodedata.decomposition(ch)}
"""Inventory letters that Unicode would decompose (ç): kept whole, not stripped to c."""


def _strip_ipa(label: str) -> str:
    kept = []
    for ch in unicodedata.normalize("NFC", label):
        pieces = ch if ch in _PRECOMPOSED else unicodedata.normalize("NFD", ch)
        kept += [p for p in pieces if p not in _DROP and not unicodedata.combining(p)]
    return "".join(kept)


class UnknownPhoneError(ValueError):
    """An engine or aligner produced a symbol the inventory does not know."""


def normalize_ipa(label: str, lang: str = "en") -> list[tuple[str, float]]:
    """An IPA label from espeak-ng, Piper or an IPA TextGrid -> canonical phones.

    Returns ``[(phone, share_of_duration), ...]``: most labels give one phone, but
    r-coloured vowels such as espeak's ``ɑːɹ`` split into vowel + ``ɹ``.  An empty
    label or a pause is silence.
    """
    text = _strip_ipa(label.strip())
    if text in ("", SILENCE, "_:", "sil", "sp", "spn", "pau", "||", "|", "#"):
        return [(SILENCE, 1.0)]
    table = _ENGLISH_IPA if lang.startswith("en") else {}
    text = table.get(text, text)
    text = "".join(_GENERIC_IPA.get(ch, ch) for ch in text)
    tokens: list[str] = []
    i = 0
    while i < len(text):
        for tok in _TOKENS:
            if text.startswith(tok, i):
                tokens.append(tok)
                i += len(tok)
                break
        else:
            raise UnknownPhoneError(f"unknown phone symbol {text[i]!r} in {label!r} (lang {lang})")
    if lang.startswith("en"):
        tokens = [_ENGLISH_IPA.get(t, t) for t in tokens]
    weights = [1.5 if is_vowel(t) else 1.0 for t in tokens]
    total = sum(weights)
    return [(t, w / total) for t, w in zip(tokens, weights, strict=True)]


# ---------------------------------------------------------------- ARPAbet normalisation

ARPABET: dict[str, str] = {
    "aa": "ɑ",
    "ae": "æ",
    "ah": "ʌ",
    "ax": "ə",
    "axr": "ɚ",
    "ao": "ɔ",
    "aw": "aʊ",
    "ay": "aɪ",
    "eh": "ɛ",
    "er": "ɚ",
    "ey": "eɪ",
    "ih": "ɪ",
    "ix": "ɪ",
    "iy": "i",
    "ow": "oʊ",
    "oy": "ɔɪ",
    "uh": "ʊ",
    "uw": "u",
    "ux": "u",
    "b": "b",
    "d": "d",
    "g": "ɡ",
    "k": "k",
    "p": "p",
    "t": "t",
    "f": "f",
    "v": "v",
    "s": "s",
    "z": "z",
    "sh": "ʃ",
    "zh": "ʒ",
    "th": "θ",
    "dh": "ð",
    "ch": "tʃ",
    "jh": "dʒ",
    "hh": "h",
    "h": "h",
    "m": "m",
    "n": "n",
    "ng": "ŋ",
    "em": "m",
    "en": "n",
    "eng": "ŋ",
    "el": "l",
    "l": "l",
    "r": "ɹ",
    "w": "w",
    "wh": "w",
    "y": "j",
    "dx": "ɾ",
    "nx": "n",
    "q": "ʔ",
}
_ARPA_SILENCE = {"", "pau", "sil", "sp", "spn", "h#", "brth", "ns", "<sil>", "silence", "_", "#"}
_ARPA_RE = re.compile(r"^([a-z]+)([012]?)$")


def normalize_arpabet(label: str) -> str:
    """An ARPAbet label (any case, optional stress digit) -> canonical phone.

    ``AH0`` (unstressed) is the reduced vowel ``ə``; ``AH``/``AH1``/``AH2`` is ``ʌ``.
    """
    low = label.strip().lower()
    if low in _ARPA_SILENCE:
        return SILENCE
    match = _ARPA_RE.match(low)
    if not match or match.group(1) not in ARPABET:
        raise UnknownPhoneError(f"unknown ARPAbet phone {label!r}")
    base, stress = match.groups()
    if base == "ah" and stress == "0":
        return "ə"
    return ARPABET[base]


# ---------------------------------------------------------------- timelines


def clean_timeline(phones: list[tuple[str, float, float]], duration: float) -> list[Phone]:
    """Make a timeline contiguous over [0, duration]: gaps become silence, adjacent
    silences merge, zero-length phones vanish, the last phone ends at ``duration``."""
    out: list[Phone] = []
    cursor = 0.0
    for label, start, end in sorted(phones, key=lambda p: p[1]):
        start, end = max(start, cursor), min(end, duration)
        if start > cursor + 1e-6:
            out.append(Phone(SILENCE, cursor, start))
        if end - start > 1e-6:
            out.append(Phone(label, start, end))
            cursor = end
    if duration > cursor + 1e-6:
        if out and out[-1].label != SILENCE and duration - cursor < 0.03:
            out[-1] = Phone(out[-1].label, out[-1].start, duration)
        else:
            out.append(Phone(SILENCE, cursor, duration))
    merged: list[Phone] = []
    for p in out:
        if merged and p.label == SILENCE and merged[-1].label == SILENCE:
            merged[-1] = Phone(SILENCE, merged[-1].start, p.end)
        else:
            merged.append(p)
    return merged


def expand_labels(raw: list[tuple[str, float, float]], lang: str, arpabet: bool) -> list[Phone]:
    """Engine labels with times -> canonical phones with times (splitting multi-phone labels)."""
    out: list[Phone] = []
    for label, start, end in raw:
        pieces = [(normalize_arpabet(label), 1.0)] if arpabet else normalize_ipa(label, lang)
        t = start
        for phone, share in pieces:
            t_end = t + share * (end - start)
            out.append(Phone(phone, t, t_end))
            t = t_end
    return out
