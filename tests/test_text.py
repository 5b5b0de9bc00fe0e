"""Sentence lists for the speech corpus (lipsync_train.text)."""

from __future__ import annotations

from collections import Counter

import pytest

from lipsync_train import text
from lipsync_train.text import cleaning, corpus, english, fortunes, grammar, languages

ARPABET = (
    "AA",
    "AE",
    "AH",
    "AO",
    "AW",
    "AY",
    "B",
    "CH",
    "D",
    "DH",
    "EH",
    "ER",
    "EY",
    "F",
    "G",
    "HH",
    "IH",
    "IY",
    "JH",
    "K",
    "L",
    "M",
    "N",
    "NG",
    "OW",
    "OY",
    "P",
    "R",
    "S",
    "SH",
    "T",
    "TH",
    "UH",
    "UW",
    "V",
    "W",
    "Y",
    "Z",
    "ZH",
)


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    text.build_all()  # a cold cache builds in parallel; warm it is a no-op


def test_english_has_fifty_thousand_distinct_training_sentences() -> None:
    train = text.english_sentences("train")
    assert len(set(train)) == len(train) >= 50_000
    sources = text.corpus_sources("en")
    assert len(sources["fortunes"]) >= 15_000 and len(sources["generated"]) >= 20_000


def test_english_sentences_are_ascii_speakable_and_mostly_mid_length() -> None:
    everything = text.english_sentences("train") + text.english_sentences("heldout")
    word_counts = [len(s.split()) for s in everything]
    assert all(s and text.ascii_safe(s) and english.is_speakable_english(s) for s in everything)
    assert min(word_counts) >= english.MIN_WORDS and max(word_counts) <= english.MAX_WORDS
    assert sum(5 <= n <= 15 for n in word_counts) >= 0.75 * len(word_counts)
    assert not any(ch.isdigit() or ch in "/@#<>_*=" for s in everything for ch in s)


@pytest.mark.parametrize("lang", ["en", *text.TRAINING_LANGUAGES])
def test_train_and_heldout_are_disjoint_and_heldout_is_a_few_percent(lang: str) -> None:
    train, heldout = text.sentences(lang, "train"), text.sentences(lang, "heldout")
    assert not {corpus.normalized_key(s) for s in train} & {corpus.normalized_key(s) for s in heldout}
    assert 0.01 <= len(heldout) / (len(train) + len(heldout)) <= 0.05
    assert all(text.is_heldout_sentence(s) for s in heldout)
    assert not any(text.is_heldout_sentence(s) for s in train)


def test_heldout_split_ignores_case_and_punctuation() -> None:
    held = next(s for s in text.english_sentences("heldout") if "," in s)
    assert text.is_heldout_sentence(held.upper().replace(",", ""))


def test_twelve_training_languages_and_three_heldout_languages() -> None:
    assert len(text.TRAINING_LANGUAGES) >= 12 and len(text.HELDOUT_LANGUAGES) == 3
    for lang in text.TRAINING_LANGUAGES:
        assert len(text.sentences(lang, "train")) >= 2000, lang
    for lang in text.HELDOUT_LANGUAGES:
        assert text.sentences(lang, "train") == []
        assert len(text.sentences(lang, "heldout")) >= 1000, lang


@pytest.mark.parametrize("lang", list(text.LANGUAGES))
def test_other_language_sentences_are_clean_and_fit_espeak_timing(lang: str) -> None:
    spec = text.LANGUAGES[lang]
    everything = text.sentences(lang, "train") + text.sentences(lang, "heldout")
    assert len(set(everything)) == len(everything)
    for sentence in everything:
        assert languages.MIN_CHARACTERS <= len(sentence) <= languages.MAX_CHARACTERS, sentence
        assert languages.MIN_WORDS <= len(cleaning.words_of(sentence)) <= languages.MAX_WORDS, sentence
        assert languages.letters_of_script(sentence, spec.script), sentence
        assert sentence[-1] in ".!?", sentence


def test_natural_text_is_used_where_debian_has_it() -> None:
    for lang, spec in text.LANGUAGES.items():
        built = text.corpus_sources(lang)
        assert tuple(built) == spec.sources
        natural = sum(len(items) for source, items in built.items() if source != "wordfreq")
        if spec.wave == 0:  # the first languages were chosen for their natural text
            assert natural >= (4000 if lang in ("de", "es", "it", "pl", "ru", "cs", "fr") else 150), lang


def test_espeak_voices_exist() -> None:
    """Voice *names* (what espeak_SetVoiceByName takes, e.g. ``fr``), not language codes (``fr-fr``)."""
    from lipsync_train.engines.espeak import get_espeak

    installed = set(get_espeak().languages())
    assert {spec.espeak_voice for spec in text.LANGUAGES.values()} <= installed


def test_balanced_list_covers_every_english_phoneme_many_times() -> None:
    balanced = text.balanced_sentences()
    assert len(set(balanced)) == len(balanced) >= 400
    counts: Counter[str] = Counter()
    for sentence in balanced:
        assert english.is_speakable_english(sentence), sentence
        for word in cleaning.words_of(sentence):
            phones = english.cmudict().get(word.lower())
            assert phones is not None or english.known_word(word), word
            counts.update(phones or ())
    rare = {phone: counts[phone] for phone in ARPABET if counts[phone] < 20}
    assert not rare, rare
    assert any(s.endswith("?") for s in balanced) and any(s.endswith("!") for s in balanced)


def test_generated_sentences_use_only_dictionary_words() -> None:
    unknown = [w for w in grammar.lexicon_words() if not english.known_word(w)]
    assert not unknown
    sample = grammar.generated_sentences(500)
    assert len(set(sample)) == 500 and all(english.is_speakable_english(s) for s in sample)


def test_grammar_inflects_and_picks_articles() -> None:
    assert grammar.plural("box") == "boxes" and grammar.plural("pair of glasses") == "pairs of glasses"
    assert grammar.plural("puppy") == "puppies" and grammar.plural("goose") == "geese"
    assert grammar.third_person("carry") == "carries" and grammar.third_person("pick up") == "picks up"
    assert grammar.present_participle("drop") == "dropping" and grammar.regular_past("bake") == "baked"
    assert grammar.with_article("umbrella") == "an umbrella"
    assert grammar.with_article("unicorn") == "a unicorn"


def test_cleaning_writes_out_numbers_and_drops_unspeakable_text() -> None:
    assert cleaning.spell_out_numbers("I have 3 cats and 42 dogs.") == "I have three cats and forty-two dogs."
    assert cleaning.spell_out_numbers("In 1984, the 2nd time.") == "In nineteen eighty-four, the second time."
    assert english.clean_english("Call 555-1234 at 3:30 today.") is None
    assert english.clean_english("Visit www.example.com for more.") is None
    assert english.clean_english("The NASA budget is huge.") is None
    assert english.clean_english('"Why not?" he said -- and left...') is None  # two sentences in one
    assert english.clean_english("\u201cWell,\u201d she said \u2014 and left.") == "Well, she said, and left."
    assert english.clean_english("Mr. Smith's caf\u00e9 is open.") == "Mister Smith's cafe is open."


def test_fortune_attributions_and_pictures_are_stripped() -> None:
    entry = "A friend is a present you give yourself.\n\t\t-- Robert Louis Stevenson"
    assert fortunes.entry_prose(entry) == "A friend is a present you give yourself."
    picture = "Look at this:\n   /\\_/\\   ( o.o )\n    > ^ <"
    assert fortunes.entry_prose(picture) == "Look at this:."
    dialogue = "Q: Why did the chicken cross the road?\nA: To get to the other side."
    assert fortunes.entry_prose(dialogue) == "Why did the chicken cross the road? To get to the other side."


def test_foreign_cleaning_rejects_english_and_options() -> None:
    swedish = text.LANGUAGES["sv"]
    assert languages.clean_sentence("Delad glädje är dubbel glädje, sa hon.", swedish)
    assert languages.clean_sentence("Written by Brian Fox and Chet Ramey today.", swedish) is None
    assert languages.clean_sentence("Ignorera ändringar, se -b för mer.", swedish) is None
    assert languages.clean_sentence("Det kostar 100 kronor i butiken.", swedish) is None


def test_results_are_deterministic_and_copies() -> None:
    first = text.sentences("fr")
    first.append("mutated")
    assert text.sentences("fr") == first[:-1]
    assert corpus.build("eo") == {k: list(v) for k, v in text.corpus_sources("eo").items()}
    assert languages.pseudo_sentences(text.LANGUAGES["fi"], 50) == languages.pseudo_sentences(
        text.LANGUAGES["fi"], 50
    )


def test_unknown_language_and_split_are_errors() -> None:
    with pytest.raises(KeyError):
        text.sentences("xx")
    with pytest.raises(ValueError):
        text.sentences("de", "test")


def test_words_with_marked_vowels_are_words_and_abbreviations_are_not() -> None:
    """Vietnamese and Latvian vowels carry marks the vowel list does not spell out (ư, ữ, ā);
    before has_vowel, Vietnamese's pseudo-sentence vocabulary lost 1,302 of its 4,823 words as
    abbreviations (3,521 were left)."""
    for word in ("những", "bước", "brīvs", "būt", "ήταν", "є", "дом"):
        assert languages.has_vowel(word), word
    for word in ("др", "й", "str", "ks"):  # abbreviations (Bulgarian "и др.", Czech "ks"), a lone й
        assert not languages.has_vowel(word), word
    vietnamese = languages.pseudo_vocabulary(text.LANGUAGES["vi"])
    assert {"những", "được", "người"} <= set(vietnamese) and len(vietnamese) > 4500
