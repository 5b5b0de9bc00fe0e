"""Running text of translated manual pages (Debian manpages-fr, manpages-nl, ...).

The manpages-l10n packages are the largest natural text Debian has for languages without
a fortune package.  Only prose lines are kept: roff requests, option tables and synopses
are dropped, and the sentence filters later reject what is still technical.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

DPKG_INFO = Path("/var/lib/dpkg/info")

_FONT_AND_SPACING = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)|\\s[+-]?\d+|\\[&%|^/,:]")
_ESCAPED_SPACE = re.compile(r"\\[ 0~]")
_SPECIAL_CHARACTER = re.compile(r"\\\(..|\\\[[^\]]*\]|\\\*(?:\(..|\[[^\]]*\]|.)")
_ESCAPES = {
    "\\-": "-",
    "\\e": "\\",
    "\\(aq": "'",
    "\\(cq": "'",
    "\\(lq": '"',
    "\\(rq": '"',
    "\\(em": " - ",
    "\\(en": " - ",
    "\\[aq]": "'",
    "\\[em]": " - ",
}


def package_manpages(package: str) -> list[Path]:
    """Compressed manual pages installed by a Debian package, sorted (from dpkg's file list)."""
    listing = DPKG_INFO / f"{package}.list"
    if not listing.is_file():
        raise FileNotFoundError(f"{listing} missing: apt-get install {package}")
    paths = (Path(line) for line in listing.read_text(encoding="utf-8").splitlines())
    return sorted(p for p in paths if "/man/" in str(p) and p.suffix == ".gz" and p.is_file())


def roff_paragraphs(source: str) -> Iterator[str]:
    """Paragraphs of plain text lines; every roff request (a line starting with . or ') ends one.

    The line after a .TP request is the tag of a list item (an option like -v, --verbose) and
    is skipped, as are text lines that still start with a dash.
    """
    paragraph: list[str] = []
    skip_tag = False
    for line in source.splitlines():
        if not line.strip() or line.startswith((".", "'")):
            if paragraph:
                yield " ".join(paragraph)
            paragraph = []
            skip_tag = line.startswith(".TP")
            continue
        text = _plain(line).strip()
        if not skip_tag and not text.startswith("-"):
            paragraph.append(text)
        skip_tag = False
    if paragraph:
        yield " ".join(paragraph)


def _plain(line: str) -> str:
    for escape, replacement in _ESCAPES.items():
        line = line.replace(escape, replacement)
    line = _ESCAPED_SPACE.sub(" ", _FONT_AND_SPACING.sub("", line))
    return _SPECIAL_CHARACTER.sub(" ", line).replace("\\", " ")


def manpage_paragraphs(package: str) -> Iterator[str]:
    for path in package_manpages(package):
        source = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        yield from roff_paragraphs(source)
