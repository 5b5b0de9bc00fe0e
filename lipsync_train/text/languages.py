"""Sentences in languages other than English, spoken through espeak-ng.

Natural text comes from Debian: fortune packages (de, es, it, pt-BR, pl, ru, cs, bg, eo),
the reading passages of the klavaro typing tutor, and translated manual pages.  Where
that is thin, pseudo-sentences of frequent words from the wordfreq package top a
language up: the word order is random, but every word, and so every syllable and sound
sequence, is real, which is what phone alignment and mouth shapes depend on.

Three languages are held out entirely, to measure how the model does on a language it
has never heard, from near to far: Dutch (German, Danish, Swedish and Norwegian train),
Finnish (its Uralic relative Hungarian trains) and Turkish (no relative trains; vowel
harmony and front rounded vowels are shared with Finnish, Hungarian and German).  All three
have enough natural text from Debian's manual pages to be worth measuring on.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import regex

from .cleaning import has_odd_capitals, normalize_typography, split_sentences, tidy_punctuation, words_of
from .fortunes import FORTUNE_ROOT, fortune_files, fortune_texts
from .manpages import manpage_paragraphs

KLAVARO_ROOT = Path("/usr/share/klavaro")
# espeak-ng reads about 12-15 characters a second at its default rate, so these limits
# keep an utterance between roughly 2 and 8 seconds.
MIN_WORDS, MAX_WORDS = 4, 18
MIN_CHARACTERS, MAX_CHARACTERS = 24, 110
# Sentences per language: natural text first, pseudo-sentences fill up to this.
TARGET_SENTENCES = 4000
# Share of a sentence's words that must be in the language's 100,000 most frequent words;
# drops untranslated English left in manual pages, and other languages quoted in fortunes.
MIN_VOCABULARY_SHARE = 0.8
# Share of words that rank higher in English than in the language, above which it is English.
MAX_ENGLISH_SHARE = 0.3
VOCABULARY_SIZE = 100_000
PSEUDO_VOCABULARY_SIZE = 6000
PSEUDO_SEED = 7919


@dataclass(frozen=True)
class LanguageSpec:
    """Where a language's text comes from and which espeak-ng voice reads it."""

    code: str  # our language code, used in corpus records
    name: str
    espeak_voice: str  # as listed by `espeak-ng --voices`
    script: str  # Unicode script ("Latin", "Cyrillic"): every letter of a sentence must be of it
    heldout_language: bool = False  # evaluation only: never used for training
    wave: int = 0  # the corpus wave that first speaks it (later languages get a recipe of their own)
    fortune_dirs: tuple[str, ...] = ()  # below /usr/share/games/fortunes
    fortune_exclude: tuple[str, ...] = ()  # file or directory names to skip (offensive, pictures, lists)
    klavaro: str | None = None  # /usr/share/klavaro/<name>.paragraphs
    manpages: str | None = None  # Debian package with translated manual pages
    wordfreq: str | None = None  # wordfreq language code, for the vocabulary check and pseudo-sentences

    @property
    def sources(self) -> tuple[str, ...]:
        """Names of the text sources in the order they are used ("wordfreq" tops up last)."""
        used = (
            ("fortunes", self.fortune_dirs),
            ("klavaro", self.klavaro),
            ("manpages", self.manpages),
            ("wordfreq", self.wordfreq),
        )
        return tuple(name for name, setting in used if setting)


FORTUNE_PACKAGES = {
    "de": "fortunes-de",
    "es": "fortunes-es",
    "it": "fortunes-it",
    "brasil": "fortunes-br",
    "pl": "fortunes-pl",
    "ru": "fortunes-ru",
    "cs": "fortunes-cs",
    "bg": "fortunes-bg",
    "eo": "fortunes-eo",
}

_SPECS = (
    LanguageSpec(
        "de",
        "German",
        "de",
        "Latin",
        fortune_dirs=("de",),
        fortune_exclude=("asciiart", "woerterbuch", "vornamen", "namen", "translations"),
        klavaro="de",
        wordfreq="de",
    ),
    LanguageSpec(
        "es",
        "Spanish",
        "es",
        "Latin",
        fortune_dirs=("es",),
        fortune_exclude=("off",),
        klavaro="es",
        wordfreq="es",
    ),
    LanguageSpec(
        "it",
        "Italian",
        "it",
        "Latin",
        fortune_dirs=("it",),
        fortune_exclude=("banner",),
        klavaro="it",
        wordfreq="it",
    ),
    LanguageSpec(
        "pt-br",
        "Portuguese (Brazil)",
        "pt-br",
        "Latin",
        fortune_dirs=("brasil",),
        klavaro="pt_BR",
        wordfreq="pt",
    ),
    LanguageSpec(
        "pl",
        "Polish",
        "pl",
        "Latin",
        fortune_dirs=("pl",),
        fortune_exclude=("dowcipy-szowinistyczne", "dowcipy-feministyczne"),
        klavaro="pl",
        wordfreq="pl",
    ),
    LanguageSpec(
        "ru",
        "Russian",
        "ru",
        "Cyrillic",
        fortune_dirs=("ru",),
        fortune_exclude=("sex",),
        klavaro="ru",
        wordfreq="ru",
    ),
    LanguageSpec(
        "cs",
        "Czech",
        "cs",
        "Latin",
        fortune_dirs=("cs",),
        fortune_exclude=("klasik-sk",),
        klavaro="cs",
        wordfreq="cs",
    ),
    LanguageSpec("bg", "Bulgarian", "bg", "Cyrillic", fortune_dirs=("bg",), klavaro="bg", wordfreq="bg"),
    LanguageSpec("eo", "Esperanto", "eo", "Latin", fortune_dirs=("eo",), klavaro="eo"),
    LanguageSpec("fr", "French", "fr", "Latin", klavaro="fr", manpages="manpages-fr", wordfreq="fr"),
    LanguageSpec("sv", "Swedish", "sv", "Latin", klavaro="sv", manpages="manpages-sv", wordfreq="sv"),
    LanguageSpec("hu", "Hungarian", "hu", "Latin", klavaro="hu", manpages="manpages-hu", wordfreq="hu"),
    LanguageSpec("da", "Danish", "da", "Latin", klavaro="da", manpages="manpages-da", wordfreq="da"),
    LanguageSpec(
        "nb", "Norwegian Bokmal", "nb", "Latin", klavaro="nb", manpages="manpages-nb", wordfreq="nb"
    ),
    LanguageSpec("ro", "Romanian", "ro", "Latin", manpages="manpages-ro", wordfreq="ro"),
    # Added in corpus wave 2, for more sounds and prosodies: Romance, Greek, Baltic, Slavic,
    # Austronesian and a tonal language.  No relative of a held-out language joins (no Estonian,
    # Afrikaans or Turkic language), so Dutch, Finnish and Turkish stay near, middle and far.
    LanguageSpec("ca", "Catalan", "ca", "Latin", klavaro="ca", wordfreq="ca", wave=2),
    LanguageSpec("pt", "Portuguese (Portugal)", "pt", "Latin", klavaro="pt_PT", wordfreq="pt", wave=2),
    LanguageSpec("el", "Greek", "el", "Greek", klavaro="el", manpages="manpages-el", wordfreq="el", wave=2),
    LanguageSpec("lt", "Lithuanian", "lt", "Latin", wordfreq="lt", wave=2),
    LanguageSpec("lv", "Latvian", "lv", "Latin", wordfreq="lv", wave=2),
    LanguageSpec("sk", "Slovak", "sk", "Latin", wordfreq="sk", wave=2),
    LanguageSpec("sl", "Slovenian", "sl", "Latin", klavaro="sl", wordfreq="sl", wave=2),
    LanguageSpec("hr", "Croatian", "hr", "Latin", klavaro="hr", wordfreq="sh", wave=2),
    LanguageSpec(
        "uk", "Ukrainian", "uk", "Cyrillic", klavaro="uk", manpages="manpages-uk", wordfreq="uk", wave=2
    ),
    LanguageSpec("mk", "Macedonian", "mk", "Cyrillic", manpages="manpages-mk", wordfreq="mk", wave=2),
    LanguageSpec("id", "Indonesian", "id", "Latin", manpages="manpages-id", wordfreq="id", wave=2),
    LanguageSpec(
        "vi", "Vietnamese", "vi", "Latin", klavaro="vi", manpages="manpages-vi", wordfreq="vi", wave=2
    ),
    # Held out for evaluation only.
    LanguageSpec(
        "nl",
        "Dutch",
        "nl",
        "Latin",
        heldout_language=True,
        klavaro="nl",
        manpages="manpages-nl",
        wordfreq="nl",
    ),
    LanguageSpec(
        "fi",
        "Finnish",
        "fi",
        "Latin",
        heldout_language=True,
        klavaro="fi",
        manpages="manpages-fi",
        wordfreq="fi",
    ),
    LanguageSpec(
        "tr", "Turkish", "tr", "Latin", heldout_language=True, manpages="manpages-tr", wordfreq="tr"
    ),
)
LANGUAGES: dict[str, LanguageSpec] = {spec.code: spec for spec in _SPECS}

_TERMINATOR_INSIDE = re.compile(r"[.!?]\s*\S")
_WORD_PIECES = re.compile(r"[-']")
_OPTION = re.compile(r"(?:^|\s)--?\w")  # command-line options left in manual-page text


@cache
def _script_pattern(script: str, untidy: bool = False) -> regex.Pattern[str]:
    """Letters of one script, combining marks, spaces and the punctuation tidy_punctuation keeps
    (``untidy``: also what it removes or rewrites, quotes and brackets)."""
    extra = r"\s\"()\[\]{}*_" if untidy else ""
    return regex.compile(rf"[\p{{{script}}}\p{{Mn}} ,;:'\-.!?¿¡{extra}]+")


def letters_of_script(text: str, script: str) -> bool:
    """Every letter belongs to the script; digits and symbols fail."""
    return _script_pattern(script).fullmatch(text) is not None


@cache
def word_ranks(wordfreq_code: str) -> dict[str, int]:
    """Frequency rank of the language's most frequent words (0 = most frequent)."""
    import wordfreq

    return {word: rank for rank, word in enumerate(wordfreq.top_n_list(wordfreq_code, VOCABULARY_SIZE))}


def _pieces(words: list[str]) -> list[str]:
    """Lower-case words split at apostrophes and hyphens, as wordfreq lists them (l'homme -> l, homme)."""
    return [p for w in words for p in _WORD_PIECES.split(w.lower()) if p]


def vocabulary_share(words: list[str], wordfreq_code: str) -> float:
    """Share of the words that are among the language's frequent words."""
    pieces, ranks = _pieces(words), word_ranks(wordfreq_code)
    return sum(p in ranks for p in pieces) / max(len(pieces), 1)


def english_share(words: list[str], wordfreq_code: str) -> float:
    """Share of the words that rank higher in English than in the language ("the", "written")."""
    pieces, ranks, english = _pieces(words), word_ranks(wordfreq_code), word_ranks("en")
    return sum(english.get(p, VOCABULARY_SIZE) < ranks.get(p, VOCABULARY_SIZE) for p in pieces) / max(
        len(pieces), 1
    )


def in_language(words: list[str], spec: LanguageSpec) -> bool:
    """Frequent words of the language, not an English quotation (no check without a wordfreq list)."""
    if not spec.wordfreq:
        return True
    if vocabulary_share(words, spec.wordfreq) < MIN_VOCABULARY_SHARE:
        return False
    return spec.script != "Latin" or english_share(words, spec.wordfreq) <= MAX_ENGLISH_SHARE


def clean_sentence(raw: str, spec: LanguageSpec) -> str | None:
    """A raw sentence made speakable for espeak-ng, or None when it should not be used."""
    sentence = normalize_typography(raw)
    if not MIN_CHARACTERS // 2 <= len(sentence) <= 2 * MAX_CHARACTERS:
        return None  # far out of bounds: skip the tidying (most manual-page text ends here)
    if not _script_pattern(spec.script, untidy=True).fullmatch(sentence) or _OPTION.search(sentence):
        return None  # digits, symbols, another script or an option: no tidying can save it
    sentence = tidy_punctuation(sentence)
    if not MIN_CHARACTERS <= len(sentence) <= MAX_CHARACTERS:
        return None
    if _TERMINATOR_INSIDE.search(sentence) or not letters_of_script(sentence, spec.script):
        return None
    words = words_of(sentence)
    if not MIN_WORDS <= len(words) <= MAX_WORDS or has_odd_capitals(words):
        return None
    return sentence if in_language(words, spec) else None


# --- natural text --------------------------------------------------------------------------------------


def _fortune_paragraphs(spec: LanguageSpec) -> Iterator[str]:
    for directory in spec.fortune_dirs:
        root = FORTUNE_ROOT / directory
        if not root.exists():
            raise FileNotFoundError(f"{root} missing: apt-get install {FORTUNE_PACKAGES[directory]}")
        paths = [root] if root.is_file() else fortune_files(root, spec.fortune_exclude)
        for text in fortune_texts(paths):
            yield from text.split("\n")


def _klavaro_paragraphs(name: str) -> list[str]:
    path = KLAVARO_ROOT / f"{name}.paragraphs"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: apt-get install klavaro")
    return path.read_text(encoding="utf-8").split("\n")


def source_paragraphs(spec: LanguageSpec, source: str) -> Iterable[str]:
    """Paragraphs of running text from one Debian source ("fortunes", "klavaro" or "manpages")."""
    if source == "fortunes":
        return _fortune_paragraphs(spec)
    if source == "klavaro" and spec.klavaro:
        return _klavaro_paragraphs(spec.klavaro)
    if source == "manpages" and spec.manpages:
        return manpage_paragraphs(spec.manpages)
    raise ValueError(f"{spec.code} has no natural text source {source!r}")


def clean_sentences(paragraphs: Iterable[str], spec: LanguageSpec, exclude: set[str]) -> list[str]:
    """Distinct clean sentences of the paragraphs, in order, skipping those in ``exclude``."""
    sentences: dict[str, None] = {}
    for paragraph in paragraphs:
        for raw in split_sentences(paragraph):
            sentence = clean_sentence(raw, spec)
            if sentence and sentence not in exclude:
                sentences[sentence] = None
    return list(sentences)


# --- pseudo-sentences ----------------------------------------------------------------------------------

# Vowel letters of the languages we cover; a "word" without one is an abbreviation (Bulgarian "др").
_VOWEL = regex.compile(
    r"[aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýőűąęěůıăаеиоуъыэюяёіїєαεηιουωάέήίόύώϊϋΐΰ]", regex.IGNORECASE
)
_LATIN_VOWEL = regex.compile(r"[aeiouy]", regex.IGNORECASE)
_ROMAN_NUMERAL = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")


def has_vowel(word: str) -> bool:
    """A vowel letter, or a Latin letter whose base is one (Latvian ā, Vietnamese ư, ữ)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))
    return bool(_VOWEL.search(word) or _LATIN_VOWEL.search(bare))


@cache
def pseudo_vocabulary(spec: LanguageSpec) -> tuple[str, ...]:
    """Frequent words of the language, most frequent first, without English loans and abbreviations.

    A word is dropped when it ranks higher in English than in the language ("net" in
    French), when it has no vowel (abbreviations; French elisions like "l" would be read
    as letter names), or when it is a Roman numeral outside the language's 200 most
    frequent words (Swedish "vi" stays).
    """
    import wordfreq

    assert spec.wordfreq
    english = word_ranks("en")
    words = []
    for rank, word in enumerate(wordfreq.top_n_list(spec.wordfreq, PSEUDO_VOCABULARY_SIZE)):
        if not word.isalpha() or not letters_of_script(word, spec.script):
            continue
        if english.get(word, VOCABULARY_SIZE) < rank or not has_vowel(word):
            continue
        if rank >= 200 and _ROMAN_NUMERAL.fullmatch(word):
            continue
        words.append(word)
    return tuple(words)


def pseudo_sentence(words: tuple[str, ...], weights: list[float], rng: random.Random) -> str:
    """5-12 frequency-weighted words, an occasional comma, ending in . ? or !"""
    count = rng.randint(5, 12)
    chosen = rng.choices(words, weights, k=count)
    if count >= 7 and rng.random() < 0.3:
        cut = rng.randint(3, count - 3)
        chosen[cut] += ","
    ending = rng.choices(".?!", (0.8, 0.13, 0.07))[0]
    text = " ".join(chosen) + ending
    return text[:1].upper() + text[1:]


def pseudo_sentences(spec: LanguageSpec, count: int, exclude: Iterable[str] = ()) -> list[str]:
    """``count`` distinct pseudo-sentences (deterministic for a language), none of them in ``exclude``."""
    words = pseudo_vocabulary(spec)
    # Rank^-0.8 instead of Zipf's rank^-1, so content words come up beside function words.
    weights = [1.0 / (rank + 10) ** 0.8 for rank in range(len(words))]
    rng = random.Random(f"{PSEUDO_SEED}-{spec.code}")
    taken = set(exclude)
    sentences: dict[str, None] = {}
    for _ in range(count * 4):
        if len(sentences) == count:
            break
        sentence = clean_sentence(pseudo_sentence(words, weights, rng), spec)
        if sentence and sentence not in taken:
            sentences[sentence] = None
    return list(sentences)


def language_sources(spec: LanguageSpec) -> dict[str, list[str]]:
    """Source name -> sentences: Debian text first, then pseudo-sentences up to TARGET_SENTENCES.

    A sentence appears under its first source only.
    """
    built: dict[str, list[str]] = {}
    taken: set[str] = set()
    for source in spec.sources:
        if source == "wordfreq":
            built[source] = pseudo_sentences(spec, max(TARGET_SENTENCES - len(taken), 0), taken)
        else:
            built[source] = clean_sentences(source_paragraphs(spec, source), spec, taken)
        taken.update(built[source])
    return built
