"""Reading Debian fortune-cookie files (packages fortunes, fortunes-min, fortunes-de, ...).

A fortune file is a list of entries separated by lines holding a single ``%``.  Entries
often end with an attribution ("-- Mark Twain"), some are dialogues ("Q: ... A: ..." or
"Kirk: ..."), some are ASCII art; only the running prose is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .cleaning import normalize_typography

FORTUNE_ROOT = Path("/usr/share/games/fortunes")

# English fortune files of the Debian packages fortunes and fortunes-min (the directory
# also holds the Italian and Chinese packages' files, so English is listed by name).
# Left out: ascii-art (pictures), perl (code), translate-me (deliberately garbled).
ENGLISH_FORTUNE_FILES = (
    "art",
    "computers",
    "cookie",
    "debian",
    "definitions",
    "disclaimer",
    "drugs",
    "education",
    "ethnic",
    "food",
    "fortunes",
    "goedel",
    "humorists",
    "kids",
    "knghtbrd",
    "law",
    "linux",
    "linuxcookie",
    "literature",
    "love",
    "magic",
    "medicine",
    "men-women",
    "miscellaneous",
    "news",
    "paradoxum",
    "people",
    "pets",
    "platitudes",
    "politics",
    "pratchett",
    "riddles",
    "science",
    "songs-poems",
    "sports",
    "startrek",
    "tao",
    "wisdom",
    "work",
    "zippy",
)

_ATTRIBUTION = re.compile(r"^\s*(--|\u2014|\u2013|~~)\s*\S|^\s{8,}\(?[\w.]+ [\w.]+.*\)?\s*$")
_SPEAKER_LABEL = re.compile(r"^\s*(?:[QA]|[A-Z][\w.' ]{0,24}?):\s+(?=\S)")
_HYPHENATED_BREAK = re.compile(r"(\w)-\n\s*(\w)")
_COLUMN_GAP = re.compile(r"\S {3,}\S")  # tables and pictures are laid out in columns


def fortune_files(directory: Path, exclude: Iterable[str] = ()) -> list[Path]:
    """Data files under ``directory`` (recursively), without the index (.dat) and UTF-8 copies (.u8)."""
    excluded = set(exclude)
    files = []
    for path in sorted(directory.rglob("*")):
        parts = set(path.relative_to(directory).parts)
        if path.is_file() and path.suffix not in {".dat", ".u8"} and not parts & excluded:
            files.append(path)
    return files


def read_entries(path: Path) -> Iterator[str]:
    """Raw entries of one fortune file (decoded as UTF-8; undecodable bytes become U+FFFD)."""
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n")
    entry: list[str] = []
    for line in text.split("\n"):
        if line.strip() == "%":
            if entry:
                yield "\n".join(entry)
            entry = []
        else:
            entry.append(line)
    if any(line.strip() for line in entry):
        yield "\n".join(entry)


def entry_prose(entry: str) -> str:
    """The running text of an entry: attribution, speaker labels and picture lines removed."""
    kept = []
    for line in normalize_typography(entry).split("\n"):
        if _ATTRIBUTION.match(line):
            break  # an attribution ends the quotation; what follows is its continuation
        if not _looks_like_prose(line):
            kept.append("")  # a picture or table line breaks the text like a blank line
            continue
        kept.append(_SPEAKER_LABEL.sub("", line))
    text = _HYPHENATED_BREAK.sub(r"\1-\2", "\n".join(kept))
    # Blank lines separate paragraphs, verses or jokes: end a sentence there.
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n".join(_close_paragraph(p) for p in paragraphs if p)


def _looks_like_prose(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return True
    letters = sum(map(str.isalpha, stripped))
    return letters >= 0.6 * len(stripped.replace(" ", "")) and not _COLUMN_GAP.search(stripped)


def _close_paragraph(paragraph: str) -> str:
    return paragraph if paragraph[-1] in ".!?\"'" else paragraph + "."


def fortune_texts(paths: Iterable[Path]) -> Iterator[str]:
    """Prose of every entry of the given files."""
    for path in paths:
        for entry in read_entries(path):
            prose = entry_prose(entry)
            if prose:
                yield prose
