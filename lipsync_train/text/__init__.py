"""Text for the speech corpus: what the TTS engines are asked to say.

English (Festival, flite, Piper, espeak-ng): Debian fortune cookies split into sentences,
a hand-written phonetically balanced list rich in dialogue, and sentences generated from
word lists with a template grammar; every sentence is ASCII with numbers written out.
Other languages (espeak-ng): Debian fortunes, klavaro passages and translated manual pages,
topped up with pseudo-sentences of frequent words (wordfreq).  See ``LANGUAGES``.

Evaluation text is kept apart twice: ~3 % of every language's sentences by a hash of the
text (``is_heldout_sentence``), and three whole languages (``HELDOUT_LANGUAGES``).

    >>> from lipsync_train import text
    >>> lines = text.english_sentences("train")
    >>> german = text.sentences("de")
    >>> text.LANGUAGES["de"].espeak_voice
    'de'

``python -m lipsync_train.text`` prints the counts per source and language.
"""

from .cleaning import ascii_safe
from .corpus import (
    ENGLISH,
    HELDOUT_LANGUAGES,
    SPLITS,
    TRAINING_LANGUAGES,
    balanced_sentences,
    build_all,
    corpus_sources,
    english_sentences,
    is_heldout_sentence,
    main,
    sentences,
    summary,
)
from .languages import LANGUAGES, LanguageSpec

__all__ = [
    "ENGLISH",
    "HELDOUT_LANGUAGES",
    "LANGUAGES",
    "SPLITS",
    "TRAINING_LANGUAGES",
    "LanguageSpec",
    "ascii_safe",
    "balanced_sentences",
    "build_all",
    "corpus_sources",
    "english_sentences",
    "is_heldout_sentence",
    "main",
    "sentences",
    "summary",
]
