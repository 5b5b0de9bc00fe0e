"""Reading and writing the aligned speech corpus.

Layout (``data/corpus`` by default)::

    manifest.json                 # settings, per-shard status and totals
    <split>/shard-00012.npy       # int16 mono 16 kHz, all utterances of the shard back to back
    <split>/shard-00012.jsonl     # one JSON line per utterance (see Utterance)

A shard's two files are written to temporary names and renamed, .jsonl last, so a
shard with a .jsonl is complete: an interrupted run resumes by skipping those.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .phonemes import Phone

SAMPLE_RATE = 16000
SPLITS = ("train", "heldout")


@dataclass
class Utterance:
    """One aligned utterance: 16 kHz audio and canonical phone timeline."""

    id: str
    audio: np.ndarray  # float32 mono, 16 kHz
    phones: list[Phone]
    text: str
    lang: str
    engine: str
    voice: str  # base voice identity, e.g. "festival:slt"
    meta: dict = field(default_factory=dict)  # augmentation and engine parameters

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def shard_paths(root: Path, split: str, index: int) -> tuple[Path, Path]:
    base = Path(root) / split / f"shard-{index:05d}"
    return base.with_suffix(".npy"), base.with_suffix(".jsonl")


def write_shard(root: Path, split: str, index: int, utterances: list[Utterance]) -> dict:
    """Write one shard atomically; returns its summary (utterances, seconds, per voice/lang)."""
    audio_path, index_path = shard_paths(root, split, index)
    audio_path.parent.mkdir(parents=True, exist_ok=True)
    pcm = [np.round(np.clip(u.audio, -1, 1) * 32767).astype(np.int16) for u in utterances]
    lines, offset = [], 0
    for u, x in zip(utterances, pcm, strict=True):
        lines.append(
            json.dumps(
                {
                    "id": u.id,
                    "offset": offset,
                    "samples": len(x),
                    "text": u.text,
                    "lang": u.lang,
                    "engine": u.engine,
                    "voice": u.voice,
                    "meta": u.meta,
                    "phones": [[p.label, round(p.start, 5), round(p.end, 5)] for p in u.phones],
                },
                ensure_ascii=False,
            )
        )
        offset += len(x)
    tmp_audio = audio_path.with_name(audio_path.name + ".tmp.npy")
    np.save(tmp_audio, np.concatenate(pcm) if pcm else np.zeros(0, np.int16))
    os.replace(tmp_audio, audio_path)
    tmp_index = index_path.with_name(index_path.name + ".tmp")
    tmp_index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp_index, index_path)
    return summarize(utterances)


def summarize(utterances: list[Utterance]) -> dict:
    by_lang: dict[str, float] = {}
    by_voice: dict[str, float] = {}
    for u in utterances:
        by_lang[u.lang] = by_lang.get(u.lang, 0.0) + u.duration
        by_voice[u.voice] = by_voice.get(u.voice, 0.0) + u.duration
    return {
        "utterances": len(utterances),
        "seconds": sum(by_lang.values()),
        "seconds_by_lang": by_lang,
        "seconds_by_voice": by_voice,
    }


def shard_done(root: Path, split: str, index: int) -> bool:
    return shard_paths(root, split, index)[1].is_file()


def iter_shard(root: Path, split: str, index: int) -> Iterator[Utterance]:
    audio_path, index_path = shard_paths(root, split, index)
    pcm = np.load(audio_path, mmap_mode="r")
    for line in index_path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        x = np.asarray(pcm[rec["offset"] : rec["offset"] + rec["samples"]], dtype=np.float32) / 32767.0
        yield Utterance(
            rec["id"],
            x,
            [Phone(*p) for p in rec["phones"]],
            rec["text"],
            rec["lang"],
            rec["engine"],
            rec["voice"],
            rec["meta"],
        )


def spoken_texts(root: Path) -> frozenset[str]:
    """Every sentence a corpus says, in any split (read from the shard indexes, no audio)."""
    texts = set()
    for split in SPLITS:
        for index_path in (Path(root) / split).glob("shard-*.jsonl"):
            lines = index_path.read_text(encoding="utf-8").splitlines()
            texts.update(json.loads(line)["text"] for line in lines)
    return frozenset(texts)


def iter_utterances(root: Path, split: str) -> Iterator[Utterance]:
    """Every utterance of a split, shard by shard (shards in index order)."""
    for index_path in sorted((Path(root) / split).glob("shard-*.jsonl")):
        yield from iter_shard(root, split, int(index_path.stem.split("-")[1]))
