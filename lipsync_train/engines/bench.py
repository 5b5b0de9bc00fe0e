"""Measure each engine's speed in audio seconds per CPU second (the corpus budget unit).

    python -m lipsync_train.engines.bench [--engines espeak,flite:slt,...] [--repeat 2]

CPU time counts this process and its finished children (festival, flite), so it is
what one core delivers, independent of other load on the machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .base import EngineError, Synth

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Bob may buy a map before the market closes on Friday.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "Would you like a cup of tea, or shall we go for a walk in the park instead?",
    "A thousand measures of judgement were weighed against the value of the old treasure.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Nothing is impossible when you have patience, a plan, and a little bit of luck.",
    "The rainbow is a division of white light into many beautiful colors.",
    "Yesterday the children played outside until the street lights came on.",
    "Which way to the station? Turn left at the bakery, then walk two blocks north.",
]
ENGINES = (
    "espeak",
    "festival:kal",
    "festival:ked",
    "festival:slt",
    "flite:kal16",
    "flite:slt",
    "flite:rms",
    "flite:awb",
    "piper:joe",
    "kokoro:jf_alpha",
    "augment:world4",
    "augment:chain",
)


@dataclass
class Result:
    """Speed of one engine over the benchmark sentences."""

    name: str
    audio_s: float
    cpu_s: float
    wall_s: float
    failures: int

    @property
    def speed(self) -> float:
        """Audio seconds produced per CPU second."""
        return self.audio_s / self.cpu_s if self.cpu_s > 0 else float("inf")


def cpu_seconds() -> float:
    """User + system CPU of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(name: str, run: Callable[[], list[Synth | EngineError]]) -> Result:
    """Time one batch; the audio seconds are those of the successful utterances."""
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    out = run()
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    audio = sum(s.duration for s in out if isinstance(s, Synth))
    return Result(name, audio, cpu, wall, sum(isinstance(s, EngineError) for s in out))


def _espeak_batch(texts: list[str], rng: np.random.Generator) -> list[Synth | EngineError]:
    """Random English accent x variant x rate x pitch per sentence, as the corpus will."""
    from .espeak import ENGLISH_ACCENTS, get_espeak

    engine = get_espeak()
    variants = engine.variants()
    out: list[Synth | EngineError] = []
    for text in texts:
        voice = f"{rng.choice(ENGLISH_ACCENTS)}+{rng.choice(variants)}"
        params = {"rate": int(rng.integers(120, 260)), "pitch": int(rng.integers(20, 80))}
        out += engine.synth_many([text], voice, [params])
    return out


def run_engine(name: str, texts: list[str], rng: np.random.Generator) -> Result:
    """Load the engine (not timed), then time one pass over ``texts``."""
    engine, _, voice = name.partition(":")
    if engine == "espeak":
        from .espeak import get_espeak

        get_espeak()
        return measure(name, lambda: _espeak_batch(texts, rng))
    if engine == "festival":
        from .festival import Festival

        return measure(name, lambda: Festival().synth_many(texts, voice))
    if engine == "flite":
        from .flite import Flite

        return measure(name, lambda: Flite().synth_many(texts, voice))
    if engine == "piper":
        from .piper import Piper

        piper = Piper()
        return measure(name, lambda: piper.synth_many(texts, voice))
    if engine == "kokoro":
        from .kokoro import Kokoro

        kokoro = Kokoro()
        return measure(name, lambda: kokoro.synth_many(texts, voice))
    if engine == "augment":
        from .. import augment
        from .flite import Flite

        sources = [s for s in Flite().synth_many(texts, "slt") if isinstance(s, Synth)]
        augment.world_analyze(sources[0].audio, sources[0].sr)  # warm-up imports
        return measure(name, lambda: _augment(sources, voice, rng))
    raise ValueError(f"unknown engine {name!r}; use one of {ENGINES}")


def _augment(sources: list[Synth], kind: str, rng: np.random.Generator) -> list[Synth | EngineError]:
    """Output audio of WORLD (one analysis + 4 variants) or of the random chain."""
    from .. import augment

    out: list[Synth | EngineError] = []
    for s in sources:
        if kind == "world4":
            analysis = augment.world_analyze(s.audio, s.sr)
            settings = [(float(rng.uniform(0.6, 1.7)), float(rng.uniform(0.85, 1.18))) for _ in range(4)]
            out += [
                Synth(y, augment.WORLD_SR, s.phones, s.raw, "world", s.voice, s.lang)
                for y in augment.world_variants(analysis, settings)
            ]
        else:
            y, phones, params = augment.random_chain(s.audio, s.sr, s.phones, rng, strength=0.7)
            out.append(Synth(y, s.sr, phones, s.raw, "chain", s.voice, s.lang, params))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print audio seconds per CPU second for each engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, e.g. espeak,flite:slt")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the sentences")
    args = parser.parse_args(argv)
    texts = SENTENCES * args.repeat
    rng = np.random.default_rng(0)
    print(f"{'engine':16} {'audio s':>8} {'CPU s':>7} {'wall s':>7} {'audio/CPU':>10} {'failed':>6}")
    for name in args.engines.split(","):
        r = run_engine(name.strip(), texts, rng)
        print(
            f"{r.name:16} {r.audio_s:8.1f} {r.cpu_s:7.2f} {r.wall_s:7.2f} {r.speed:9.1f}x {r.failures:6d}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
