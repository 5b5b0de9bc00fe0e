"""Turning raw text into short speakable sentences.

Everything here is pure string work so that it is cheap to test.  The rules are strict
on purpose: a sentence the TTS engine reads strangely (an acronym spelled out, a URL, a
table row) gives the aligner a wrong phone timeline, and we have far more text than we
need, so dropping a borderline sentence costs nothing.
"""

from __future__ import annotations

import re
import unicodedata

import regex

# Typographic characters mapped to what Festival/flite and espeak-ng read plainly.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2039": '"',
        "\u203a": '"',
        "\u2013": " - ",
        "\u2014": " - ",
        "\u2015": " - ",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u00ad": "",
        "\t": " ",
    }
)
_TYPOGRAPHY_CHARS = re.compile("[" + re.escape("".join(map(chr, _TYPOGRAPHY))) + "]")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SPACES = re.compile(r"\s+")
_COMBINING_MARKS = regex.compile(r"\p{Mn}+")

# Split after . ! ? (and closing quotes) when the next sentence starts with a capital letter.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[¿¡]*[^\W\d_])")
_ELLIPSIS = re.compile(r"\.{2,}|\u2026")
_DASH = re.compile(r"\s+-+\s+|\s*--+\s*")
_QUOTES_AND_BRACKETS = re.compile(r"[\"()\[\]{}*_]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?;:])")
_REPEATED_PUNCT = re.compile(r"([,;:])(\s*[,;:.!?])+")
_TRAILING_CONNECTOR = re.compile(r"[,;:\s-]+$")

# Abbreviations that would otherwise end a sentence early; written out as they are spoken.
ENGLISH_ABBREVIATIONS = {
    "Mr.": "Mister",
    "Mrs.": "Missus",
    "Ms.": "Miz",
    "Dr.": "Doctor",
    "St.": "Saint",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "Prof.": "Professor",
    "Capt.": "Captain",
    "Gen.": "General",
    "Lt.": "Lieutenant",
    "Sgt.": "Sergeant",
    "Mt.": "Mount",
    "vs.": "versus",
    "etc.": "et cetera",
    "e.g.": "for example",
    "i.e.": "that is",
    "a.m.": "in the morning",
    "p.m.": "in the evening",
}
_ABBREVIATION_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(a) for a in ENGLISH_ABBREVIATIONS) + r")(?!\w)"
)


def normalize_typography(text: str) -> str:
    """NFC-normalise, drop terminal escapes and map curly quotes, dashes and odd spaces."""
    text = unicodedata.normalize("NFC", _ANSI.sub("", text))
    # A regex scan finds the few characters to map much faster than str.translate walks every one.
    return _TYPOGRAPHY_CHARS.sub(lambda m: m.group().translate(_TYPOGRAPHY), text)


def fold_to_ascii(text: str) -> str:
    """Strip accents (cafe for café); characters with no ASCII form are kept, so callers can reject."""
    text = normalize_typography(text)
    if text.isascii():
        return text
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))


def ascii_safe(text: str) -> bool:
    """True when Festival and flite can read the text: printable ASCII only."""
    return text.isascii() and text.isprintable()


def expand_english_abbreviations(text: str) -> str:
    return _ABBREVIATION_RE.sub(lambda m: ENGLISH_ABBREVIATIONS[m.group(1)], text)


def split_sentences(text: str) -> list[str]:
    """Split running text (line breaks already joined) into sentence candidates."""
    text = _SPACES.sub(" ", text).strip()
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if part.strip()]


def tidy_punctuation(sentence: str) -> str:
    """Remove quotes and brackets, turn dashes and ellipses into pauses, end with . ? or !"""
    sentence = _QUOTES_AND_BRACKETS.sub(" ", sentence)
    sentence = _ELLIPSIS.sub(", ", sentence)
    sentence = _DASH.sub(", ", sentence)
    sentence = _SPACES.sub(" ", sentence).strip()
    sentence = _SPACE_BEFORE_PUNCT.sub(r"\1", sentence)
    sentence = _REPEATED_PUNCT.sub(lambda m: m.group(0).replace(" ", "")[-1], sentence)
    if "'" in sentence:
        sentence = _strip_stray_apostrophes(sentence)
    sentence = sentence.lstrip(",;:.!?- ")
    if sentence and sentence[-1] not in ".!?":
        sentence = _TRAILING_CONNECTOR.sub("", sentence) + "."
    return sentence[:1].upper() + sentence[1:]


def _strip_stray_apostrophes(sentence: str) -> str:
    """Drop apostrophes used as quote marks ('word') but keep contractions and possessives."""
    words = []
    for word in sentence.split(" "):
        core = word.rstrip(",.!?;:")
        tail = word[len(core) :]
        core = core.lstrip("'")
        if core.endswith("'") and not core.lower().endswith("s'"):
            core = core.rstrip("'")
        words.append(core + tail)
    return " ".join(w for w in words if w)


def words_of(sentence: str) -> list[str]:
    """The words of a sentence, punctuation stripped (apostrophes and hyphens inside words kept)."""
    return [w.strip(",.!?;:'-") for w in sentence.split() if w.strip(",.!?;:'-")]


def has_odd_capitals(words: list[str], allowed: frozenset[str] = frozenset({"I", "OK", "TV"})) -> bool:
    """All-caps words (acronyms, shouting) and inner capitals (MacKenzie, GRUB-based) are
    spelled out or misread by TTS engines, and mark names and technical terms."""
    return any(w[1:] != w[1:].lower() and w not in allowed for w in words)


# --- English numbers -------------------------------------------------------------------------------------

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
# A bare number that is not part of a decimal, time, fraction, price or code.
_NUMBER = re.compile(r"(?<![\w.,:/$%#-])(\d{1,6})(st|nd|rd|th|s)?(?![\w%$]|[.,:/-]\d)")


def number_to_words(n: int) -> str:
    """Cardinal English words for 0 <= n < 1,000,000 (e.g. 342 -> three hundred forty-two)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("-" + _ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + (" " + number_to_words(rest) if rest else "")
    thousands, rest = divmod(n, 1000)
    return number_to_words(thousands) + " thousand" + (" " + number_to_words(rest) if rest else "")


def year_to_words(n: int) -> str:
    """Years are read in pairs: 1984 -> nineteen eighty-four, 1900 -> nineteen hundred."""
    high, low = divmod(n, 100)
    if low == 0:
        return number_to_words(high) + " hundred"
    return number_to_words(high) + " " + ("oh " + _ONES[low] if low < 10 else number_to_words(low))


def ordinal_words(cardinal: str) -> str:
    last = re.split(r"[ -]", cardinal)[-1]
    if last in _ORDINALS:
        spoken = _ORDINALS[last]
    elif last.endswith("y"):
        spoken = last[:-1] + "ieth"
    else:
        spoken = last + "th"
    return cardinal[: len(cardinal) - len(last)] + spoken


def _spell_number(match: re.Match[str]) -> str:
    digits, suffix = match.group(1), match.group(2) or ""
    if len(digits) > 1 and digits.startswith("0"):
        return match.group(0)  # codes like 007 stay digits, so the sentence is dropped
    value = int(digits)
    is_year = len(digits) == 4 and 1100 <= value <= 1999
    spoken = year_to_words(value) if is_year else number_to_words(value)
    if suffix in {"st", "nd", "rd", "th"}:
        return ordinal_words(spoken)
    if suffix == "s":  # the 1960s, the 80s
        return spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"
    return spoken


def spell_out_numbers(text: str) -> str:
    """Write plain English numbers as words; anything fancier keeps its digits and is filtered out."""
    return _NUMBER.sub(_spell_number, text)
