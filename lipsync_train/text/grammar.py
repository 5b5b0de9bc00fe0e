"""English sentences built from word lists with a small template grammar.

The word lists below are hand-picked so that the result is grammatical and sounds like
things characters say; every word and every inflected form (plural, past, -ing) is
checked against the CMU pronouncing dictionary, which also decides "a" or "an" from the
first phone.  Templates lean towards dialogue: questions, exclamations, names in the
vocative, contractions.  Generation is seeded, so the output is the same on every run.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from functools import cache

from .english import cmudict, is_speakable_english

GENERATOR_SEED = 20240611

NAMES = (
    "Sam",
    "Maya",
    "Bob",
    "Penny",
    "Oliver",
    "Wendy",
    "Felix",
    "Molly",
    "Theo",
    "Ava",
    "Max",
    "Bella",
    "Leo",
    "Ruby",
    "Finn",
    "Mia",
    "Jack",
    "Lucy",
    "Oscar",
    "Daisy",
    "Milo",
    "Emma",
    "Victor",
    "Vivian",
    "Walter",
    "Wanda",
    "Peter",
    "Pam",
    "Ben",
    "Beth",
    "Mabel",
    "Marvin",
    "Fiona",
    "Frank",
    "Olivia",
    "Hugo",
    "Ivy",
    "Joe",
    "June",
    "Kevin",
    "Kate",
    "Liam",
    "Lily",
    "Nick",
    "Nora",
    "Paul",
    "Rose",
    "Ruth",
    "Simon",
    "Sophie",
    "Tom",
    "Tina",
    "Victoria",
    "Will",
    "Zoe",
    "Arthur",
    "Grace",
    "Henry",
    "Hannah",
    "Isaac",
    "Jasmine",
    "Louis",
    "Martha",
    "Norman",
    "Patrick",
    "Quentin",
    "Rachel",
    "Steve",
    "Ursula",
    "Vincent",
    "Bruno",
    "Doris",
    "Edgar",
    "Gus",
    "Harriet",
    "Otto",
    "Poppy",
    "Rupert",
    "Winnie",
    "Mister Brown",
    "Missus Potter",
    "Doctor Moore",
    "Captain Bob",
    "Grandma",
    "Grandpa",
    "Mom",
    "Dad",
    "Auntie May",
    "Uncle Bill",
    "Professor Plum",
    "Miss Violet",
)
# People and creatures that can act; used with "the", "my", "our" or an adjective.
CHARACTERS = (
    "baker",
    "farmer",
    "pilot",
    "doctor",
    "teacher",
    "wizard",
    "robot",
    "puppy",
    "kitten",
    "monkey",
    "penguin",
    "pirate",
    "princess",
    "knight",
    "dragon",
    "giant",
    "mouse",
    "rabbit",
    "bear",
    "fox",
    "owl",
    "frog",
    "goat",
    "duck",
    "goose",
    "turtle",
    "parrot",
    "chef",
    "mayor",
    "clown",
    "detective",
    "plumber",
    "mailman",
    "neighbor",
    "cousin",
    "brother",
    "sister",
    "uncle",
    "grandmother",
    "grandfather",
    "baby",
    "captain",
    "sheriff",
    "magician",
    "astronaut",
    "ghost",
    "monster",
    "zombie",
    "unicorn",
    "beaver",
    "walrus",
    "hamster",
    "gorilla",
    "squirrel",
    "puppet",
    "scarecrow",
    "lion",
    "tiger",
    "elephant",
    "professor",
    "janitor",
    "lifeguard",
    "waiter",
    "firefighter",
)
RELATIVES = (
    "mom",
    "dad",
    "brother",
    "sister",
    "cousin",
    "uncle",
    "aunt",
    "grandma",
    "grandpa",
    "neighbor",
    "best friend",
    "teacher",
    "roommate",
    "boss",
    "babysitter",
)
THINGS = (
    "apple",
    "balloon",
    "bottle",
    "basket",
    "umbrella",
    "map",
    "pillow",
    "blanket",
    "bucket",
    "bicycle",
    "book",
    "boot",
    "bowl",
    "box",
    "broom",
    "brush",
    "button",
    "cake",
    "camera",
    "candle",
    "cap",
    "carpet",
    "carrot",
    "chair",
    "cookie",
    "crayon",
    "crown",
    "cup",
    "cushion",
    "drum",
    "egg",
    "envelope",
    "feather",
    "fork",
    "glove",
    "guitar",
    "hammer",
    "hat",
    "helmet",
    "jacket",
    "jar",
    "kettle",
    "key",
    "kite",
    "ladder",
    "lamp",
    "lantern",
    "letter",
    "lollipop",
    "magnet",
    "marble",
    "mirror",
    "mitten",
    "mop",
    "muffin",
    "mug",
    "necklace",
    "notebook",
    "orange",
    "paintbrush",
    "pan",
    "pancake",
    "parcel",
    "peach",
    "pear",
    "pebble",
    "pencil",
    "piano",
    "pickle",
    "picture",
    "pie",
    "pineapple",
    "pizza",
    "plate",
    "plum",
    "potato",
    "pumpkin",
    "puzzle",
    "radio",
    "ribbon",
    "ring",
    "rocket",
    "rope",
    "sandwich",
    "scarf",
    "shovel",
    "sock",
    "sofa",
    "spoon",
    "stamp",
    "suitcase",
    "sweater",
    "telescope",
    "ticket",
    "toaster",
    "tomato",
    "toothbrush",
    "towel",
    "trumpet",
    "trophy",
    "vase",
    "violin",
    "wagon",
    "wallet",
    "watch",
    "whistle",
    "window",
    "banana",
    "biscuit",
    "bubble",
    "diamond",
    "flashlight",
    "football",
    "backpack",
    "beach ball",
    "birthday present",
    "fishing rod",
    "flower pot",
    "jigsaw puzzle",
    "lunch box",
    "music box",
    "paper plane",
    "piggy bank",
    "treasure chest",
    "toy boat",
    "rubber duck",
    "snow globe",
    "cheese sandwich",
    "chocolate bar",
    "pair of glasses",
    "bag of marbles",
    "bowl of soup",
    "cup of cocoa",
    "jar of honey",
    "loaf of bread",
    "bunch of flowers",
)
PLACES = (
    "in the kitchen",
    "at the beach",
    "in the library",
    "at the market",
    "in the forest",
    "at the museum",
    "in the bakery",
    "under the bridge",
    "behind the sofa",
    "on the roof",
    "in the garden",
    "at the zoo",
    "in the attic",
    "in the basement",
    "at the bus stop",
    "by the pond",
    "on the moon",
    "in the bathtub",
    "at the park",
    "in the garage",
    "under the bed",
    "on the boat",
    "at the fair",
    "in the jungle",
    "at the castle",
    "in the cave",
    "on the mountain",
    "at the farm",
    "in the classroom",
    "at the post office",
    "on the playground",
    "in the pool",
    "at the circus",
    "in the hallway",
    "on the porch",
    "behind the barn",
    "next to the fountain",
    "in the tree house",
    "at the train station",
    "on the balcony",
    "in the movie theater",
    "by the window",
    "in the swimming pool",
    "at the bowling alley",
    "in the pumpkin patch",
    "at the lighthouse",
    "near the volcano",
    "inside the submarine",
    "at the pizza place",
    "in the spaceship",
)
ADJECTIVES = (
    "big",
    "tiny",
    "red",
    "blue",
    "green",
    "purple",
    "yellow",
    "orange",
    "pink",
    "brown",
    "golden",
    "silver",
    "shiny",
    "muddy",
    "fuzzy",
    "fluffy",
    "bumpy",
    "soggy",
    "smelly",
    "sticky",
    "heavy",
    "broken",
    "brand new",
    "old",
    "wooden",
    "plastic",
    "striped",
    "spotted",
    "giant",
    "little",
    "round",
    "wobbly",
    "squeaky",
    "slippery",
    "magic",
    "mysterious",
    "beautiful",
    "funny",
    "strange",
    "fancy",
    "cozy",
    "dusty",
    "fragile",
    "enormous",
    "lovely",
    "perfect",
    "precious",
    "peculiar",
    "famous",
    "favorite",
    "frozen",
    "warm",
    "cold",
    "soft",
    "smooth",
    "bright",
    "dark",
    "empty",
    "expensive",
    "cheap",
    "crooked",
    "velvet",
    "woolly",
    "polka dot",
    "pretty",
    "weird",
    "wonderful",
    "marvelous",
    "gigantic",
    "miniature",
    "noisy",
    "quiet",
    "rusty",
    "shabby",
    "spooky",
    "sparkly",
    "useless",
    "valuable",
    "vintage",
    "wet",
    "dry",
    "bouncy",
    "cheerful",
    "plain",
    "rotten",
    "ripe",
)
FEELINGS = (
    "happy",
    "grumpy",
    "sleepy",
    "hungry",
    "nervous",
    "excited",
    "worried",
    "proud",
    "bored",
    "tired",
    "confused",
    "surprised",
    "jealous",
    "curious",
    "brave",
    "scared",
    "embarrassed",
    "furious",
    "thrilled",
    "upset",
    "lonely",
    "puzzled",
    "relieved",
    "cheerful",
    "exhausted",
    "frightened",
    "delighted",
    "annoyed",
    "amazed",
    "busy",
)
# Transitive verbs as "base" or "base:past" when the past tense is irregular.
HANDLING_VERBS = (
    "find:found",
    "bring:brought",
    "drop",
    "paint",
    "fix",
    "hide:hid",
    "wash",
    "borrow",
    "carry",
    "throw:threw",
    "buy:bought",
    "catch:caught",
    "break:broke",
    "build:built",
    "steal:stole",
    "fold",
    "open",
    "lose:lost",
    "sell:sold",
    "keep:kept",
    "push",
    "pull",
    "kick",
    "bake",
    "wrap",
    "juggle",
    "balance",
    "deliver",
    "feed:fed",
    "grab",
    "hug",
    "lift",
    "measure",
    "move",
    "pack",
    "photograph",
    "pick up:picked up",
    "pop",
    "repair",
    "return",
    "sniff",
    "squeeze",
    "swap",
    "taste",
    "touch",
    "toss",
    "weigh",
    "bury",
    "chase",
    "clean",
    "count",
    "drag",
    "drive:drove",
    "eat:ate",
    "fill",
    "hold:held",
    "launch",
    "lick",
    "mail",
    "nibble",
    "order",
    "pat",
    "poke",
    "shake:shook",
    "share",
    "spill",
    "spin:spun",
    "stack",
    "sweep:swept",
    "tape",
    "tie",
    "trade",
    "wear:wore",
    "wipe",
    "bounce",
    "fetch",
    "flip",
    "hang:hung",
    "knit",
    "melt",
    "play with:played with",
    "put away:put away",
    "rescue",
    "ride:rode",
    "shrink:shrank",
    "sign",
    "smash",
    "stir",
    "study",
    "swallow",
    "try on:tried on",
    "water",
    "whistle at:whistled at",
    "guard",
    "paint over:painted over",
)
ACTION_VERBS = (
    "laugh",
    "giggle",
    "dance",
    "sing:sang",
    "sneeze",
    "wave",
    "jump",
    "run:ran",
    "swim:swam",
    "whistle",
    "cry",
    "shout",
    "yawn",
    "wiggle",
    "hop",
    "skip",
    "clap",
    "bow",
    "blush",
    "cheer",
    "float",
    "grumble",
    "march",
    "mumble",
    "panic",
    "pout",
    "shiver",
    "sigh",
    "slip",
    "sparkle",
    "spin:spun",
    "squeak",
    "stumble",
    "twirl",
    "vanish",
    "wink",
    "fall asleep:fell asleep",
    "burst out laughing:burst out laughing",
    "run away:ran away",
    "show up:showed up",
    "freak out:freaked out",
    "calm down:calmed down",
    "sit down:sat down",
    "give up:gave up",
    "cheer up:cheered up",
    "fall over:fell over",
    "go home:went home",
    "take a nap:took a nap",
    "make a wish:made a wish",
    "play the piano:played the piano",
    "do a cartwheel:did a cartwheel",
    "tell a joke:told a joke",
    "bake cookies:baked cookies",
)
ADVERBS = (
    "quickly",
    "quietly",
    "carefully",
    "happily",
    "slowly",
    "loudly",
    "politely",
    "bravely",
    "gently",
    "proudly",
    "secretly",
    "suddenly",
    "badly",
    "beautifully",
    "boldly",
    "calmly",
    "cheerfully",
    "clumsily",
    "eagerly",
    "angrily",
    "perfectly",
    "patiently",
    "nervously",
    "promptly",
    "rapidly",
    "sadly",
    "smoothly",
    "softly",
    "swiftly",
    "wildly",
    "very fast",
    "right away",
    "by mistake",
    "on purpose",
    "without a sound",
    "with a big smile",
    "like a pro",
    "in a hurry",
)
# Time phrases by the tenses they fit, so that "yesterday" never follows "we should".
ANY_TIME = (
    "after lunch",
    "before breakfast",
    "at midnight",
    "after school",
    "on Monday",
    "on Sunday afternoon",
    "before bedtime",
    "during the storm",
    "in the spring",
    "on my birthday",
    "at dinner time",
    "before the party",
    "after the movie",
    "on Thursday",
    "in the middle of the night",
    "at half past nine",
    "on Wednesday evening",
    "in February",
    "at the weekend",
)
PAST_TIMES = (
    "this morning",
    "yesterday",
    "last summer",
    "last week",
    "while we were away",
    "last Halloween",
    "the other day",
    "a long time ago",
)
FUTURE_TIMES = (
    "tonight",
    "next Tuesday",
    "first thing tomorrow",
    "this afternoon",
    "later today",
    "next summer",
    "in a minute",
    "after the show",
)
HABITUAL_TIMES = (
    "every Friday",
    "every morning",
    "every winter",
    "once a month",
    "every other week",
    "every single day",
    "on Sundays",
    "all day long",
    "twice a year",
    "every night",
)
INTERJECTIONS = (
    "Hey",
    "Oh no",
    "Look",
    "Wow",
    "Well",
    "Listen",
    "Whoa",
    "Yikes",
    "Oops",
    "Hooray",
    "Uh-oh",
    "Okay",
    "Ooh",
    "Aha",
    "Hmm",
    "Goodness",
    "Come on",
    "Wait",
    "Honestly",
    "Boy",
    "Phew",
    "Oh boy",
    "Yay",
    "Gosh",
    "Golly",
    "Ah",
    "Oh my",
    "Bravo",
    "Seriously",
)
NUMBERS = (
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
    "fifteen",
    "twenty",
    "fifty",
    "a hundred",
    "a dozen",
    "a few",
    "some",
    "lots of",
    "so many",
)

TEMPLATES = (
    # statements
    "{Someone} {verbed} {the_thing} {place}.",
    "{Someone} {verbed} {a_thing} {past_time}.",
    "{Name} always {verbs} {the_thing} {habitual_time}.",
    "I think {someone} {verbed} my {adj} {thing}.",
    "{Someone} {acted} {adverb} {place}.",
    "There is {a_thing} {place}.",
    "There are {number} {adj} {things} {place}.",
    "{Name} and {name} are {verbing} {the_thing} {place}.",
    "My {relative} {verbed} {a_thing} for {name} {past_time}.",
    "We {verbed} {number} {things} {past_time}, and then {someone} {acted}.",
    "{Past_time}, {someone} {verbed} {the_thing} and {acted}.",
    "If you {verb} {the_thing}, {someone} will {act}.",
    "The {adj} {thing} {place} belongs to {name}.",
    "{Name} is {feeling} because {someone} {verbed} {the_thing}.",
    "{Name} said that {someone} {verbed} {things} {place}.",
    "{Someone} and I {verbed} {things} {place} {past_time}.",
    "First we {verb} {the_thing}, then we {act}.",
    "My favorite thing to do {habitual_time} is {verbing} {things}.",
    "Whoever {verbed} {the_thing} owes me {number} {things}.",
    "It's not my fault, {someone} told me to {verb} {the_thing}!",
    # questions
    "Did you {verb} {the_thing} {past_time}?",
    "Where did you put {the_thing}, {name}?",
    "Why is there {a_thing} {place}?",
    "Have you seen my {adj} {thing}?",
    "Can you help me {verb} {the_thing}, {name}?",
    "Who {verbed} {the_thing} {place}?",
    "Would you like to {verb} {the_thing} with me {future_time}?",
    "How many {things} did {name} {verb} {past_time}?",
    "Is {someone} still {verbing} {the_thing}?",
    "What if we {verb} {the_thing} {place}?",
    "Why does {someone} keep {verbing} {things}?",
    "Do you think {name} will {act} {future_time}?",
    "Have you ever seen {someone} {act} {place}?",
    "Why would anybody {verb} {a_thing} {place}?",
    "Wait, is that {a_thing} {place}?",
    "You look {feeling} today, {name}, what happened?",
    # exclamations and dialogue
    "{Interjection}, {name}, {the_thing} is so {gradable}!",
    "I can't believe you {verbed} {the_thing}!",
    "Please don't {verb} {the_thing}, it belongs to {name}.",
    "Look out, {the_thing} is about to fall!",
    "{Interjection}, I think I {verbed} {the_thing} {place}!",
    "Stop {verbing} {the_thing}, {name}!",
    "You have to {verb} {the_thing} before {someone} {acts}!",
    "{Name}, you won't believe who {verbed} {the_thing}!",
    "Quick, {verb} {the_thing} and {act}!",
    "Thanks for {verbing} {the_thing}, {name}, you're the best!",
    "I'm so {feeling}, I could {act} all day!",
    "Hey {name}, want to {verb} {things} {place}?",
    "Let's {verb} {the_thing} {future_time}, okay?",
    "Oh no, {someone} {verbed} my {adj} {thing} again!",
    "Sorry, {name}, I {verbed} your {thing} by mistake.",
    "Guess what, {someone} {verbed} {a_thing} {place}!",
    "Don't worry, {name}, I'll {verb} {the_thing} {future_time}.",
    "Come on, {name}, we need to {verb} {the_thing} {adverb}!",
    "Maybe we should {act} {place} {future_time}.",
    "Not now, {name}, I'm {verbing} {the_thing}.",
    "Be careful with {the_thing}, it's very {gradable}.",
    "I'd love to {verb} {a_thing}, but I'm too {feeling}.",
    "{Name}, please {verb} {the_thing} {adverb}.",
    "{Interjection}, {someone} just {acted} {place}!",
)

_IRREGULAR_PLURALS = {
    "mouse": "mice",
    "goose": "geese",
    "child": "children",
    "person": "people",
    "knife": "knives",
    "scarf": "scarves",
    "loaf": "loaves",
    "leaf": "leaves",
    "wolf": "wolves",
    "shelf": "shelves",
    "sheep": "sheep",
    "fish": "fish",
    "potato": "potatoes",
    "tomato": "tomatoes",
}
_DOUBLE_FINAL_CONSONANT = {
    "drop",
    "grab",
    "hug",
    "pat",
    "pop",
    "swap",
    "wrap",
    "drag",
    "stir",
    "spin",
    "knit",
    "flip",
    "hop",
    "skip",
    "slip",
    "run",
    "swim",
    "shop",
    "chop",
    "sit",
    "put",
    "get",
    "stop",
    "rob",
    "dig",
    "mop",
    "nap",
    "rub",
    "tap",
    "zip",
    "win",
    "begin",
    "clap",
}
# Adjectives that cannot take "very" or "so" ("so wooden" is odd).
_NON_GRADABLE = frozenset(
    {
        "brand new",
        "wooden",
        "plastic",
        "striped",
        "spotted",
        "polka dot",
        "velvet",
        "magic",
        "favorite",
        "vintage",
        "golden",
        "silver",
        "broken",
        "frozen",
        "miniature",
        "giant",
        "empty",
        "perfect",
        "useless",
    }
)
GRADABLE_ADJECTIVES = tuple(a for a in ADJECTIVES if a not in _NON_GRADABLE)
_ES_ENDINGS = ("s", "sh", "ch", "x", "z")
_VOWELS = frozenset(
    {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
)


def _head_and_rest(phrase: str) -> tuple[str, str]:
    """Verb phrases inflect their first word: "pick up" -> ("pick", " up")."""
    head, _, rest = phrase.partition(" ")
    return head, (" " + rest if rest else "")


def third_person(verb: str) -> str:
    head, rest = _head_and_rest(verb)
    special = {"have": "has", "do": "does", "go": "goes"}
    if head in special:
        return special[head] + rest
    if head.endswith(_ES_ENDINGS):
        return head + "es" + rest
    if head.endswith("y") and head[-2] not in "aeiou":
        return head[:-1] + "ies" + rest
    return head + "s" + rest


def present_participle(verb: str) -> str:
    head, rest = _head_and_rest(verb)
    if head in _DOUBLE_FINAL_CONSONANT:
        return head + head[-1] + "ing" + rest
    if head.endswith("ic"):  # panic -> panicking
        return head + "king" + rest
    if head.endswith("ie"):
        return head[:-2] + "ying" + rest
    if head.endswith("e") and not head.endswith(("ee", "ye", "oe")):
        return head[:-1] + "ing" + rest
    return head + "ing" + rest


def regular_past(verb: str) -> str:
    head, rest = _head_and_rest(verb)
    if head in _DOUBLE_FINAL_CONSONANT:
        return head + head[-1] + "ed" + rest
    if head.endswith("ic"):
        return head + "ked" + rest
    if head.endswith("e"):
        return head + "d" + rest
    if head.endswith("y") and head[-2] not in "aeiou":
        return head[:-1] + "ied" + rest
    return head + "ed" + rest


def plural(noun: str) -> str:
    """Plural of the head noun of a phrase: "pair of glasses" -> "pairs of glasses"."""
    if " of " in noun:
        head, _, rest = noun.partition(" of ")
        return plural(head) + " of " + rest
    *modifiers, head = noun.split(" ")
    if head in _IRREGULAR_PLURALS:
        inflected = _IRREGULAR_PLURALS[head]
    elif head.endswith(_ES_ENDINGS):
        inflected = head + "es"
    elif head.endswith("y") and head[-2] not in "aeiou":
        inflected = head[:-1] + "ies"
    else:
        inflected = head + "s"
    return " ".join([*modifiers, inflected])


def with_article(phrase: str) -> str:
    """ "a" or "an" chosen by the first phone of the phrase (an hour, a unicorn)."""
    first = phrase.split(" ")[0].lower()
    phones = cmudict().get(first, ("",))
    return ("an " if phones[0] in _VOWELS else "a ") + phrase


def in_dictionary(phrase: str) -> bool:
    """Every word of the phrase is in the CMU dictionary, so all engines agree on how it sounds."""
    return all(word.lower() in cmudict() for word in phrase.split(" "))


@cache
def verb_forms(kind: str) -> tuple[tuple[str, str, str, str], ...]:
    """(base, past, third person, -ing) of each verb of a list ("handling" or "action").

    A verb is left out when one of its forms is not in the dictionary (e.g. "hiccuped").
    """
    entries = HANDLING_VERBS if kind == "handling" else ACTION_VERBS
    forms = {}
    for entry in entries:
        base, _, past = entry.partition(":")
        inflected = (base, past or regular_past(base), third_person(base), present_participle(base))
        if all(in_dictionary(form) for form in inflected):
            forms[base] = inflected
    return tuple(forms.values())


@cache
def things() -> tuple[str, ...]:
    """The nouns of THINGS whose plural is in the dictionary too."""
    return tuple(t for t in THINGS if in_dictionary(t) and in_dictionary(plural(t)))


@cache
def words_in_dictionary(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(w for w in words if in_dictionary(w))


def lexicon_words() -> set[str]:
    """Every word the generator can emit (for checking them against the dictionary)."""
    lists = (
        NAMES,
        CHARACTERS,
        RELATIVES,
        PLACES,
        ADJECTIVES,
        FEELINGS,
        ADVERBS,
        ANY_TIME,
        PAST_TIMES,
        FUTURE_TIMES,
        HABITUAL_TIMES,
        INTERJECTIONS,
        NUMBERS,
    )
    phrases = [p for words in lists for p in words_in_dictionary(words)] + [*things(), *map(plural, things())]
    phrases += [form for kind in ("handling", "action") for forms in verb_forms(kind) for form in forms]
    phrases += TEMPLATES
    return {w.lower() for p in phrases for w in re.findall(r"[A-Za-z'-]+", re.sub(r"\{\w+\}", " ", p))}


def _someone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return _pick(NAMES, rng)
    if roll < 0.55:
        return "my " + _pick(RELATIVES, rng)
    if roll < 0.8:
        return "the " + _pick(CHARACTERS, rng)
    return "the " + _pick(ADJECTIVES + FEELINGS, rng) + " " + _pick(CHARACTERS, rng)


def _pick(words: tuple[str, ...], rng: random.Random) -> str:
    return rng.choice(words_in_dictionary(words))


def _thing(rng: random.Random, adjective_odds: float) -> str:
    thing = rng.choice(things())
    return _pick(ADJECTIVES, rng) + " " + thing if rng.random() < adjective_odds else thing


def _verb(kind: str, form: int) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(verb_forms(kind))[form]


SLOTS: dict[str, Callable[[random.Random], str]] = {
    "someone": _someone,
    "name": lambda rng: _pick(NAMES, rng),
    "relative": lambda rng: _pick(RELATIVES, rng),
    "thing": lambda rng: rng.choice(things()),
    "things": lambda rng: plural(_thing(rng, 0.4)),
    "the_thing": lambda rng: "the " + _thing(rng, 0.5),
    "a_thing": lambda rng: with_article(_thing(rng, 0.6)),
    "place": lambda rng: _pick(PLACES, rng),
    "past_time": lambda rng: _pick(ANY_TIME + PAST_TIMES, rng),
    "future_time": lambda rng: _pick(ANY_TIME + FUTURE_TIMES, rng),
    "habitual_time": lambda rng: _pick(HABITUAL_TIMES, rng),
    "adj": lambda rng: _pick(ADJECTIVES, rng),
    "gradable": lambda rng: _pick(GRADABLE_ADJECTIVES, rng),
    "feeling": lambda rng: _pick(FEELINGS, rng),
    "adverb": lambda rng: _pick(ADVERBS, rng),
    "number": lambda rng: _pick(NUMBERS, rng),
    "interjection": lambda rng: _pick(INTERJECTIONS, rng),
    "verb": _verb("handling", 0),
    "verbed": _verb("handling", 1),
    "verbs": _verb("handling", 2),
    "verbing": _verb("handling", 3),
    "act": _verb("action", 0),
    "acted": _verb("action", 1),
    "acts": _verb("action", 2),
    "acting": _verb("action", 3),
}
_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random) -> str:
    """One sentence from a template; a capitalised slot name capitalises its filler."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        text = SLOTS[name.lower()](rng)
        return text[:1].upper() + text[1:] if name[0].isupper() else text

    sentence = _SLOT.sub(replace, template)
    return sentence[:1].upper() + sentence[1:]


def generated_sentences(count: int, exclude: Iterable[str] = (), seed: int = GENERATOR_SEED) -> list[str]:
    """``count`` distinct speakable sentences not in ``exclude`` (fewer only if the grammar runs dry)."""
    rng = random.Random(seed)
    taken = set(exclude)
    sentences: dict[str, None] = {}
    for _ in range(count * 4):
        sentence = fill(rng.choice(TEMPLATES), rng)
        if sentence not in taken and is_speakable_english(sentence):
            sentences[sentence] = None
            if len(sentences) == count:
                break
    return list(sentences)
