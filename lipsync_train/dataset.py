"""Training examples: corpus audio windows with teacher targets under random styles.

Each example is a crop of one utterance (16 kHz audio, a multiple of 20 ms long)
with, per 50 Hz frame, the teacher's mouth channels and visemes rendered under a
random style vector, and the canonical phone for the auxiliary phone loss.  Styles
and crops are drawn on the fly, so every epoch sees new targets.  On top of the
corpus' own augmentation, each training utterance gets a fresh random chain on the
fly (speed, which also moves pitch and formants; breaths and clicks in the pauses,
which synthetic voices never make; then reverb, EQ, band-limit, noise, gain): more
voices and rooms than the corpus stores, at a few ms per example.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blender_lipsync.core.contract import HOP, MODEL_FPS
from blender_lipsync.core.style import Style

from . import teacher
from .augment import active_power, add_breaths, channel_chain, draw_speed, limit_peak, speed_perturb
from .corpus_io import SAMPLE_RATE, shard_paths
from .phonemes import CANONICAL, SILENCE, Phone

PHONE_CLASSES: tuple[str, ...] = (SILENCE, *sorted(CANONICAL - {SILENCE}))
PHONE_INDEX = {p: i for i, p in enumerate(PHONE_CLASSES)}
JOIN_MAX = 4  # utterances in one joined run


@dataclass
class Example:
    audio: np.ndarray  # (window_frames * HOP,) float32
    channels: np.ndarray  # (window_frames, channels) teacher targets
    visemes: np.ndarray  # (window_frames, visemes) soft labels
    phones: np.ndarray  # (window_frames,) int phone class at each frame instant
    style: np.ndarray  # (STYLE_DIM,) normalised style vector


@dataclass
class _Entry:
    shard: Path
    offset: int
    samples: int
    phones: list[Phone]
    lang: str
    recipe: str = ""
    voice: str = ""


def load_index(root: Path, split: str, english_only: bool = False) -> list[_Entry]:
    """Every utterance of a split (without audio), for random access."""
    entries = []
    for index_path in sorted((Path(root) / split).glob("shard-*.jsonl")):
        audio_path = shard_paths(root, split, int(index_path.stem.split("-")[1]))[0]
        for line in index_path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if english_only and not rec["lang"].startswith("en"):
                continue
            phones = [Phone(*p) for p in rec["phones"]]
            recipe, voice = rec.get("meta", {}).get("recipe", ""), rec.get("voice", "")
            entry = _Entry(audio_path, rec["offset"], rec["samples"], phones, rec["lang"], recipe, voice)
            entries.append(entry)
    if not entries:
        raise FileNotFoundError(f"no {split} utterances under {root}: run `python build.py corpus` first")
    return entries


def join_utterances(parts: Sequence[tuple[np.ndarray, Sequence[Phone]]]) -> tuple[np.ndarray, list[Phone]]:
    """(audio, phones) pairs end to end: the audio, and the phones shifted onto the joined
    timeline (a pause that ends one and starts the next becomes one pause)."""
    phones: list[Phone] = []
    offset = 0
    for audio, own in parts:
        t0 = offset / SAMPLE_RATE
        for p in own:
            shifted = Phone(p.label, p.start + t0, p.end + t0)
            if phones and p.label == SILENCE and phones[-1].label == SILENCE:
                shifted = Phone(SILENCE, phones.pop().start, shifted.end)
            phones.append(shifted)
        offset += len(audio)
    return np.concatenate([audio for audio, _ in parts]).astype(np.float32), phones


def level_matched(
    parts: Sequence[tuple[np.ndarray, Sequence[Phone]]],
) -> list[tuple[np.ndarray, Sequence[Phone]]]:
    """(audio, phones) pairs with each audio at the first one's speech level: the corpus gave
    every utterance its own gain, a talker in one recording keeps one (and the teacher's jaw
    reads the level against the loud parts nearby)."""
    level = active_power(parts[0][0], SAMPLE_RATE)
    gains = [1.0] + [np.sqrt(level / max(active_power(a, SAMPLE_RATE), 1e-12)) for a, _ in parts[1:]]
    return [(limit_peak(audio * g), phones) for (audio, phones), g in zip(parts, gains, strict=True)]


def phone_ids(phones: list[Phone], times: np.ndarray) -> np.ndarray:
    """Canonical phone class at each instant."""
    ends = np.array([p.end for p in phones])
    which = np.clip(np.searchsorted(ends, times, side="right"), 0, len(phones) - 1)
    return np.array([PHONE_INDEX[phones[i].label] for i in which], dtype=np.int64)


def draw_weights(
    entries: list[_Entry],
    other_languages: float | None = None,
    recipe_shares: dict[str, float] | None = None,
) -> np.ndarray:
    """Probability of drawing each utterance: in proportion to its duration, with the
    non-English utterances together given ``other_languages`` of the draws when set,
    and each recipe named in ``recipe_shares`` its share (the rest keep their proportions)."""
    weights = np.array([e.samples for e in entries], dtype=np.float64)
    if other_languages is not None:
        if not 0.0 < other_languages < 1.0:
            raise ValueError(f"other_languages must be between 0 and 1, got {other_languages}")
        english = np.array([e.lang.startswith("en") for e in entries])
        if english.all() or not english.any():
            raise ValueError("other_languages needs both English and other-language utterances")
        _give_shares(weights, [(~english, other_languages)])
    shares = recipe_shares or {}
    if sum(shares.values()) >= 1.0:
        raise ValueError(f"recipe shares must add up to less than 1, got {shares}")
    groups = []
    for recipe, share in shares.items():
        members = np.array([e.recipe == recipe for e in entries])
        if not members.any():
            raise ValueError(f"no utterances of recipe {recipe!r} in the corpus")
        groups.append((members, share))
    if groups:
        _give_shares(weights, groups)
    return weights / weights.sum()


def _give_shares(weights: np.ndarray, groups: list[tuple[np.ndarray, float]]) -> None:
    """Scale ``weights`` in place so that each (disjoint) group holds its share of the total
    and the other utterances the rest, every group keeping its proportions within."""
    total = weights.sum()
    rest = ~np.logical_or.reduce([members for members, _ in groups])
    for members, share in groups:
        weights[members] *= share * total / weights[members].sum()
    if rest.any():
        weights[rest] *= (1.0 - sum(share for _, share in groups)) * total / weights[rest].sum()


class CorpusWindows:
    """Random fixed-length windows of a corpus split, drawn in proportion to duration.

    ``augment`` (0-1) is the strength of the on-the-fly chain; 0 (held-out data) hears
    the corpus audio as stored.  ``other_languages`` (0-1), when given, is the share of
    windows drawn from non-English utterances instead of their share of the hours;
    ``recipe_shares`` does the same for the recipes it names.  ``breath_edges`` (0-1) is
    the share of augmentation breaths and clicks put at a speech edge, ``loud_sounds`` (0-1)
    the share of pauses given a loud cough or sniff instead (``add_breaths``).  ``joined``
    (0-1) is the share of windows cut from the drawn utterance joined with the ones after it
    by the same voice (``_run_from``), each at the first one's speech level: most utterances
    are shorter than a window, and real recordings run on past one, so a window of a long
    file holds the end of one phrase, a pause and the start of the next, with speech up to
    both edges.
    """

    def __init__(
        self,
        root: Path,
        split: str,
        window_s: float = 4.0,
        style_spread: float = 1.0,
        augment: float = 0.0,
        other_languages: float | None = None,
        recipe_shares: dict[str, float] | None = None,
        breath_edges: float = 0.0,
        loud_sounds: float = 0.0,
        joined: float = 0.0,
    ) -> None:
        self.entries = load_index(root, split)
        self.window_frames = round(window_s * MODEL_FPS)
        self.style_spread = style_spread
        for name, share in (("breath_edges", breath_edges), ("loud_sounds", loud_sounds), ("joined", joined)):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {share}")
        self.augment = augment
        self.breath_edges = breath_edges
        self.loud_sounds = loud_sounds
        self.joined = joined
        self.weights = draw_weights(self.entries, other_languages, recipe_shares)
        self._pcm: dict[Path, np.ndarray] = {}

    @property
    def hours(self) -> float:
        return sum(e.samples for e in self.entries) / SAMPLE_RATE / 3600

    def _audio(self, entry: _Entry) -> np.ndarray:
        if entry.shard not in self._pcm:
            self._pcm[entry.shard] = np.load(entry.shard, mmap_mode="r")
        pcm = self._pcm[entry.shard][entry.offset : entry.offset + entry.samples]
        return np.asarray(pcm, dtype=np.float32) / 32767.0

    def example(self, rng: np.random.Generator, style: Style | None = None) -> Example:
        index = int(rng.choice(len(self.entries), p=self.weights))
        if self.joined > 0 and rng.random() < self.joined:  # no draw when off: older runs' streams stay
            run = [(self._audio(e), e.phones) for e in self._run_from(index)]
            audio, phones = join_utterances(level_matched(run))
        else:
            audio, phones = self._audio(self.entries[index]), self.entries[index].phones
        factor = draw_speed(rng, self.augment)
        if factor is not None:
            audio, phones = speed_perturb(audio, SAMPLE_RATE, phones, factor)
        total_frames = len(audio) // HOP
        start = int(rng.integers(0, max(1, total_frames - self.window_frames) + 1))
        frames = self.window_frames
        style = style or Style.random(rng, self.style_spread)
        loud = teacher.loudness_envelope(audio, SAMPLE_RATE)  # before noise and reverb: the voice's own
        times = (start + np.arange(frames)) / MODEL_FPS
        curves = teacher.render(phones, MODEL_FPS, style, loud, duration=len(audio) / SAMPLE_RATE)
        idx = np.clip(start + np.arange(frames), 0, curves.frames - 1)
        window = np.zeros(frames * HOP, dtype=np.float32)
        piece = audio[start * HOP : (start + frames) * HOP]
        window[: len(piece)] = piece
        labels = phone_ids(phones, times)
        window = self._augment(window, labels == PHONE_INDEX[SILENCE], rng)
        return Example(window, curves.channels[idx], curves.visemes[idx], labels, style.to_vector())

    def _run_from(self, index: int) -> list[_Entry]:
        """The utterance at ``index`` and the ones after it in the corpus by the same voice, in
        the same language and shard, until the run is two windows long (so a window cut
        anywhere in it can hold a join), at most ``JOIN_MAX`` utterances."""
        first = self.entries[index]
        run, samples = [first], first.samples
        for entry in self.entries[index + 1 : index + JOIN_MAX]:
            same_talker = (entry.shard, entry.voice, entry.lang) == (first.shard, first.voice, first.lang)
            if samples >= 2 * self.window_frames * HOP or not same_talker:
                break
            run.append(entry)
            samples += entry.samples
        return run

    def _augment(self, audio: np.ndarray, silent_frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.augment > 0:
            silent = np.repeat(silent_frames, HOP)
            audio, _ = add_breaths(
                audio, SAMPLE_RATE, silent, rng, self.augment, self.breath_edges, self.loud_sounds
            )
            audio, _ = channel_chain(audio, SAMPLE_RATE, rng, self.augment)
        return audio

    def batch(self, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
        """``size`` examples stacked into arrays (audio, channels, visemes, phones, style)."""
        examples = [self.example(rng) for _ in range(size)]
        return {name: np.stack([getattr(e, name) for e in examples]) for name in Example.__annotations__}
