"""English sentences from the Debian fortune files, and the checks every English sentence passes.

Festival and flite read ASCII only and guess unknown words with letter-to-sound rules, so
an English sentence must be ASCII and nearly all of its words must be in the CMU
pronouncing dictionary (shipped with the pocketsphinx package).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from .cleaning import (
    ascii_safe,
    expand_english_abbreviations,
    fold_to_ascii,
    has_odd_capitals,
    spell_out_numbers,
    split_sentences,
    tidy_punctuation,
    words_of,
)
from .fortunes import ENGLISH_FORTUNE_FILES, FORTUNE_ROOT, fortune_texts

MIN_WORDS, MAX_WORDS = 3, 25
MAX_WORD_LETTERS = 18
WORDS_PER_UNKNOWN = 6  # one word outside the dictionary per six (names, rare words); gibberish fails
# Letters and pauses, one sentence terminator at the very end (no "Why not?, he said.").
_SPEAKABLE_ENGLISH = re.compile(r"[A-Za-z][A-Za-z ,;:'-]*[.?!]")
# What may be in a sentence before tidying: quotes, brackets and digits are dealt with there.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9 ,;:'\-.!?\"()\[\]*_]+")
_SINGLE_LETTER_WORDS = frozenset({"a", "A", "I", "O"})  # other lone letters are initials or labels


def cmudict_path() -> Path:
    """The CMU dictionary that the pocketsphinx wheel bundles."""
    import pocketsphinx

    return Path(pocketsphinx.__file__).parent / "model" / "en-us" / "cmudict-en-us.dict"


@cache
def cmudict() -> dict[str, tuple[str, ...]]:
    """Lower-case word -> ARPAbet phones of its first listed pronunciation."""
    pronunciations: dict[str, tuple[str, ...]] = {}
    for line in cmudict_path().read_text(encoding="utf-8").splitlines():
        word, *phones = line.split()
        if "(" not in word:  # "read(2)" is the second pronunciation of "read"
            pronunciations[word] = tuple(phones)
    return pronunciations


def known_word(word: str) -> bool:
    """In the CMU dictionary, also as a possessive (van's) or hyphenated compound (thirty-three)."""
    word = word.lower()
    if word in cmudict():
        return True
    base = word.removesuffix("'s")
    if base != word:
        return known_word(base)
    return "-" in word and all(part and known_word(part) for part in word.split("-"))


def is_speakable_english(sentence: str) -> bool:
    """Plain ASCII prose of 3-25 words, no acronyms, almost every word in the CMU dictionary."""
    if not ascii_safe(sentence) or not _SPEAKABLE_ENGLISH.fullmatch(sentence):
        return False
    words = words_of(sentence)
    if not MIN_WORDS <= len(words) <= MAX_WORDS or has_odd_capitals(words):
        return False
    if any(len(w) > MAX_WORD_LETTERS or "''" in w or "--" in w for w in words):
        return False
    if any(len(w) == 1 and w not in _SINGLE_LETTER_WORDS for w in words):
        return False
    unknown = sum(not known_word(w) for w in words)
    return unknown <= len(words) // WORDS_PER_UNKNOWN


def clean_english(raw: str) -> str | None:
    """One raw sentence made speakable (numbers and abbreviations written out), or None."""
    return _clean_prepared(expand_english_abbreviations(fold_to_ascii(raw)))


def _clean_prepared(sentence: str) -> str | None:
    """clean_english for text already folded to ASCII with abbreviations written out."""
    if not _PLAIN_TEXT.fullmatch(sentence):
        return None  # symbols, non-Latin letters: no tidying can save it
    sentence = tidy_punctuation(spell_out_numbers(sentence))
    return sentence if is_speakable_english(sentence) else None


def english_sentences_from(text: str) -> list[str]:
    """Clean sentences of a block of English prose."""
    prepared = expand_english_abbreviations(fold_to_ascii(text))
    cleaned = (_clean_prepared(part) for part in split_sentences(prepared))
    return [s for s in cleaned if s]


def fortune_sentences(root: Path = FORTUNE_ROOT) -> list[str]:
    """Distinct clean sentences of the English fortune files, in file order."""
    paths = [root / name for name in ENGLISH_FORTUNE_FILES]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{missing[0]} missing: apt-get install fortunes fortunes-min")
    sentences: dict[str, None] = {}
    for text in fortune_texts(paths):
        for paragraph in text.split("\n"):
            sentences.update(dict.fromkeys(english_sentences_from(paragraph)))
    return list(sentences)
