"""Aligned speech corpus generator: ``python build.py corpus [--out DIR] [--scale X] [--stats]``.

The corpus is a list of *recipes* (an engine, its voices, a language set, how many
hours of base speech, how many WORLD pitch/vocal-tract variants of each utterance).
Recipes are cut into jobs of a few minutes of audio; each job writes one shard.
Everything a job does is drawn from ``numpy.random.default_rng([seed, job])``, so a
plan is reproducible, and finished shards are skipped, so an interrupted run resumes.

Natural-sounding voices (Piper, Festival slt, flite's CMU Arctic voices, Kokoro's
neural voice packs and their mixes) and their WORLD variants carry most of the hours;
espeak-ng's formant voices are a small share of English and carry the other
languages.  Held-out voices (Festival ked, some espeak variants and one accent),
held-out sentences and held-out languages go to the ``heldout`` split only.
Recipes added after a corpus was made (``Recipe.wave``) are planned after it, so
generating them adds shards and renumbers none.  ``--avoid-text CORPUS`` leaves out every
sentence another corpus says: a fresh held-out set no earlier choice has read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

import numpy as np

from blender_lipsync.core.audio import resample

from . import augment
from .corpus_io import SAMPLE_RATE, Utterance, shard_done, spoken_texts, write_shard
from .engines import load_engine
from .engines.base import Engine, EngineError, Synth
from .engines.espeak import UNSAFE_VARIANTS
from .engines.kokoro import VOICES as KOKORO_VOICES
from .system import apt_packages, installed_versions

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "corpus"
T, R = TypeVar("T"), TypeVar("R")
MAX_FAILURES_PER_JOB = 50
"""A job whose sentences keep failing stops early (its summary lists the errors)."""
DEFAULT_SCALE = 2.0
"""~82 h of speech: what 2 cores make in about an hour (scale 1 takes ~27 min)."""
JOB_OUTPUT_SECONDS = 480.0
"""Audio each job writes (base + variants), so a shard is a few minutes of work."""


@dataclass(frozen=True)
class Recipe:
    """One way of producing aligned speech, and how much of it."""

    name: str
    engine: str  # espeak | festival | flite | piper | kokoro
    voices: tuple[str, ...]
    split: str = "train"
    hours: float = 1.0  # base speech before WORLD variants
    world_variants: int = 0
    augment_prob: float = 0.6
    languages: tuple[str, ...] = ("en-us",)
    wave: int = 0  # recipes added to the plan later get a later wave: earlier shards keep their numbers

    @property
    def output_hours(self) -> float:
        return self.hours * (1 + self.world_variants)

    @property
    def jobs(self) -> int:
        return max(1, round(self.output_hours * 3600 / JOB_OUTPUT_SECONDS))


@dataclass(frozen=True)
class Job:
    index: int
    recipe: Recipe
    part: int  # which of the recipe's jobs this is
    seed: int
    avoid: frozenset[str] = frozenset()  # sentences this job must not say

    @property
    def base_seconds(self) -> float:
        return self.recipe.hours * 3600 / self.recipe.jobs


# ------------------------------------------------------------------ voices and recipes

ESPEAK_EN_ACCENTS = (
    "en-us",
    "en",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-rp",
    "en-gb-x-gbcwmd",
    "en-us-nyc",
)
ESPEAK_HELDOUT_ACCENT = "en-029"


def espeak_variant_split() -> tuple[list[str], list[str]]:
    """espeak-ng voice variants for training and for evaluation (every 7th held out)."""
    from .engines.espeak import get_espeak

    variants = sorted(get_espeak().variants())
    heldout = variants[3::7]
    return [v for v in variants if v not in heldout], heldout


def default_recipes(scale: float = 1.0) -> list[Recipe]:
    """The corpus plan: ~37 h English (natural voices weighted highest), ~14 h in 27
    other languages, and a held-out split of unseen voices, sentences and languages."""
    from .text import LANGUAGES

    train_langs = tuple(
        c
        for c, spec in LANGUAGES.items()
        if not spec.heldout_language and not c.startswith("en") and spec.wave == 0
    )
    wave2_langs = tuple(c for c, spec in LANGUAGES.items() if spec.wave == 2)
    heldout_langs = tuple(c for c, spec in LANGUAGES.items() if spec.heldout_language)
    s = scale
    return [
        Recipe("piper-joe", "piper", ("joe",), hours=1.4 * s, world_variants=2),
        Recipe("festival-slt", "festival", ("cmu_us_slt_arctic_hts",), hours=1.8 * s, world_variants=2),
        Recipe("flite-arctic", "flite", ("slt", "rms", "awb"), hours=5.0 * s, world_variants=2),
        Recipe(
            "diphone",
            "festival+flite",
            ("festival:kal_diphone", "flite:kal16"),
            hours=2.0 * s,
            world_variants=1,
        ),
        Recipe("espeak-en", "espeak", ESPEAK_EN_ACCENTS, hours=3.0 * s),
        Recipe("espeak-multi", "espeak", (), hours=8.0 * s, languages=train_langs),
        Recipe(
            "heldout-ked", "festival", ("ked_diphone",), split="heldout", hours=0.25 * s, augment_prob=0.3
        ),
        Recipe(
            "heldout-natural",
            "flite",
            ("slt", "rms", "awb"),
            split="heldout",
            hours=0.15 * s,
            world_variants=1,
            augment_prob=0.3,
        ),
        Recipe(
            "heldout-espeak",
            "espeak",
            (ESPEAK_HELDOUT_ACCENT, "en-us"),
            split="heldout",
            hours=0.2 * s,
            augment_prob=0.3,
        ),
        Recipe(
            "heldout-lang",
            "espeak",
            (),
            split="heldout",
            hours=0.5 * s,
            augment_prob=0.3,
            languages=heldout_langs,
        ),
        Recipe("kokoro", "kokoro", KOKORO_VOICES, hours=1.5 * s, world_variants=2, wave=1),
        # ~0.5 h per language, as espeak-multi gives each of its 15
        Recipe("espeak-multi2", "espeak", (), hours=6.0 * s, languages=wave2_langs, wave=2),
    ]


def plan(recipes: list[Recipe], seed: int) -> list[Job]:
    """All jobs, interleaved across the recipes of a wave so a partial run is already a
    balanced mix; a later wave's jobs come after every earlier one's."""
    pending = []
    for recipe in recipes:
        for part in range(recipe.jobs):
            pending.append((recipe.wave, (part + 0.5) / recipe.jobs, recipe.name, recipe, part))
    pending.sort(key=lambda p: p[:3])
    return [Job(i, recipe, part, seed) for i, (*_, recipe, part) in enumerate(pending)]


# ------------------------------------------------------------------ sentences


@dataclass
class _SentencePool:
    """A seeded permutation of one language's sentences; each job reads its own stretch."""

    sentences: list[str]
    order: np.ndarray

    def take(self, start: int) -> Callable[[], str]:
        cursor = [start]

        def next_sentence() -> str:
            sentence = self.sentences[self.order[cursor[0] % len(self.order)]]
            cursor[0] += 1
            return sentence

        return next_sentence


_POOLS: dict[tuple[str, str, int, frozenset[str]], _SentencePool] = {}


def sentence_pool(lang: str, split: str, seed: int, avoid: frozenset[str] = frozenset()) -> _SentencePool:
    from . import text

    key = (lang, split, seed, avoid)
    if key not in _POOLS:
        sentences = text.english_sentences(split) if lang.startswith("en") else text.sentences(lang, split)
        sentences = [s for s in sentences if s not in avoid]
        if not sentences:
            raise RuntimeError(f"no {split} sentences for language {lang} (after --avoid-text)")
        rng = np.random.default_rng([seed, zlib.crc32(f"{lang}/{split}".encode())])
        _POOLS[key] = _SentencePool(sentences, rng.permutation(len(sentences)))
    return _POOLS[key]


# ------------------------------------------------------------------ engines


_ENGINES: dict[str, Engine] = {}


def engine(name: str) -> Engine:
    """One instance per engine and process: Piper's voice and Festival's start-up are costly."""
    if name not in _ENGINES:
        _ENGINES[name] = load_engine(name)
    return _ENGINES[name]


def _voice_params(engine_name: str, voice: str, rng: np.random.Generator) -> dict:
    """Random per-utterance knobs of an engine (speaking rate, pitch, prosody)."""
    if engine_name == "espeak":
        return {
            "rate": int(rng.integers(130, 231)),
            "pitch": int(rng.integers(25, 76)),
            "range": int(rng.integers(25, 86)),
        }
    if engine_name == "festival" and "diphone" in voice:
        return {
            "stretch": float(rng.uniform(0.9, 1.3)),
            "f0_mean": float(rng.uniform(85, 190)),
            "f0_std": float(rng.uniform(10, 35)),
        }
    if engine_name == "festival":
        return {"speed": float(rng.uniform(0.85, 1.2))}
    if engine_name == "kokoro":  # most voices a mix of two packs: a voice between them
        others = [v for v in KOKORO_VOICES if v != voice]
        mixed = rng.random() < 0.75
        return {
            "speed": float(rng.uniform(0.85, 1.2)),
            "blend_with": str(rng.choice(others)) if mixed else None,
            "blend": float(rng.uniform(0.15, 0.85)) if mixed else 0.0,
        }
    if engine_name == "piper":
        return {
            "length_scale": float(rng.uniform(0.85, 1.2)),
            "noise_scale": float(rng.uniform(0.45, 0.8)),
            "noise_w_scale": float(rng.uniform(0.5, 1.0)),
        }
    return {}


def _pick_voice(recipe: Recipe, rng: np.random.Generator, variants: list[str]) -> tuple[str, str, str]:
    """(engine name, voice, language) for the next utterance of a recipe."""
    if recipe.engine != "espeak":
        voice = str(rng.choice(recipe.voices))
        engine_name, _, name = voice.rpartition(":")  # "festival+flite" recipes name the engine
        return engine_name or recipe.engine, name, "en-us"
    if recipe.languages == ("en-us",):  # English: the recipe's voices are espeak accents
        lang = voice = str(rng.choice(recipe.voices))
    else:
        from .text import LANGUAGES

        lang = str(rng.choice(recipe.languages))
        voice = LANGUAGES[lang].espeak_voice
    variants = [v for v in variants if v not in UNSAFE_VARIANTS.get(lang, ())]  # synth refuses them
    variant = str(rng.choice(variants)) if rng.random() < 0.8 else None
    return "espeak", f"{voice}+{variant}" if variant else voice, lang


def _synthesize(
    recipe: Recipe, job: Job, rng: np.random.Generator
) -> tuple[list[tuple[Synth, str]], list[str]]:
    """Base utterances of a job until its share of base speech is reached, and the
    errors of the sentences that failed (reported in the shard summary, never hidden)."""
    variants: list[str] = []
    if recipe.engine == "espeak":  # only espeak recipes need (and load) espeak's variant list
        train_variants, heldout_variants = espeak_variant_split()
        variants = heldout_variants if recipe.name == "heldout-espeak" else train_variants
    stride = int(job.base_seconds / 2.0) + 8
    offset = zlib.crc32(recipe.name.encode()) % 100_000
    readers: dict[str, Callable[[], str]] = {}
    out: list[tuple[Synth, str]] = []
    seconds, errors = 0.0, []
    while seconds < job.base_seconds and len(errors) < MAX_FAILURES_PER_JOB:
        eng_name, voice, lang = _pick_voice(recipe, rng, variants)
        if lang not in readers:
            pool = sentence_pool(lang, recipe.split, job.seed, job.avoid)
            readers[lang] = pool.take(offset + job.part * stride)
        batch = [readers[lang]() for _ in range(8 if eng_name == "festival" else 1)]
        params = [_voice_params(eng_name, voice, rng) for _ in batch]
        for text, result in zip(batch, engine(eng_name).synth_many(batch, voice, params), strict=True):
            if isinstance(result, EngineError):
                errors.append(f"{eng_name}:{voice}: {result}"[:200])
                continue
            out.append((result, text))
            seconds += result.duration
    return out, errors


# ------------------------------------------------------------------ augmentation


def _variants(recipe: Recipe, synth: Synth, rng: np.random.Generator) -> list[tuple[np.ndarray, dict]]:
    """The 16 kHz base utterance and its WORLD pitch/formant variants."""
    audio = resample(synth.audio, synth.sr, SAMPLE_RATE)
    out = [(audio, {})]
    if recipe.world_variants:
        analysis = augment.world_analyze(audio, SAMPLE_RATE)
        settings = augment.world_voices(rng, recipe.world_variants)
        for (f0, alpha), variant in zip(settings, augment.world_variants(analysis, settings), strict=True):
            out.append((variant, {"world_f0_scale": round(f0, 3), "world_formant_alpha": round(alpha, 3)}))
    return out


def run_job(job: Job, out_dir: Path) -> dict:
    """Synthesise, augment and write one shard; returns its summary."""
    rng = np.random.default_rng([job.seed, job.index])
    recipe = job.recipe
    utterances: list[Utterance] = []
    synths, errors = _synthesize(recipe, job, rng)
    for k, (synth, text) in enumerate(synths):
        for v, (audio, world) in enumerate(_variants(recipe, synth, rng)):
            phones, chain = synth.phones, {}
            if rng.random() < recipe.augment_prob:
                audio, phones, chain = augment.random_chain(audio, SAMPLE_RATE, phones, rng, strength=1.0)
            meta = {
                "engine_params": synth.params,
                **world,
                "augment": chain,
                "recipe": recipe.name,
                "engine_voice": synth.voice,
            }
            utterances.append(
                Utterance(
                    f"{recipe.name}-{job.index:05d}-{k:04d}-{v}",
                    np.asarray(audio, np.float32),
                    list(phones),
                    text,
                    synth.lang,
                    synth.engine,
                    synth.voice,
                    meta,
                )
            )
    summary = write_shard(out_dir, recipe.split, job.index, utterances)
    return {
        **summary,
        "recipe": recipe.name,
        "split": recipe.split,
        "job": job.index,
        "failures": len(errors),
        "failure_examples": sorted(set(errors))[:3],
    }


# ------------------------------------------------------------------ manifest and CLI


@dataclass
class Manifest:
    seed: int
    scale: float
    recipes: list[dict]
    shards: dict[str, dict] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)
    avoided_text_of: str | None = None  # the corpus whose sentences this one leaves out

    @classmethod
    def load_or_create(
        cls, path: Path, seed: int, scale: float, recipes: list[Recipe], avoided: str | None = None
    ) -> Manifest:
        if path.is_file():
            data = json.loads(path.read_text())
            made_with = (data["seed"], data["scale"], data.get("avoided_text_of"))
            if made_with != (seed, scale, avoided):
                sys.exit(
                    f"{path} was made with seed {made_with[0]} scale {made_with[1]} "
                    f"avoiding the text of {made_with[2]}; use those, or another --out"
                )
            manifest = cls(**data)
            known = {r["name"] for r in manifest.recipes}
            manifest.recipes += [asdict(r) for r in recipes if r.name not in known]  # a later wave
            return manifest
        return cls(seed, scale, [asdict(r) for r in recipes], avoided_text_of=avoided)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1, ensure_ascii=False))
        os.replace(tmp, path)


def in_workers(
    fn: Callable[[T], R], items: list[T], workers: int, tasks_per_worker: int = 20
) -> Iterator[tuple[T, R | BrokenProcessPool]]:
    """``(item, fn(item))`` in worker processes, as each finishes.  A worker that dies (a crash inside
    an engine's C library) fails the items still out with ``BrokenProcessPool`` instead of hanging.

    Workers are recycled every ``tasks_per_worker`` items (the engines' C libraries leak) by giving
    each batch a fresh pool: ``max_tasks_per_child`` can hang on Python 3.11, whose executor stops
    replacing retired workers when every task was queued up front (CPython gh-115634)."""
    context = get_context("spawn")
    batch = max(1, workers * tasks_per_worker)
    for first in range(0, len(items), batch):
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = {pool.submit(fn, item): item for item in items[first : first + batch]}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except BrokenProcessPool as exc:
                    yield futures[future], exc


def _run_job_star(args: tuple[Job, Path]) -> dict:
    job, out = args
    try:
        return run_job(job, out)
    except Exception as exc:  # one bad job must not lose the others' hours
        return {"error": f"{type(exc).__name__}: {exc}", "job": job.index, "recipe": job.recipe.name}


def generate(
    out: Path,
    seed: int,
    scale: float,
    workers: int,
    max_jobs: int | None,
    only: list[str],
    avoid_text_of: Path | None = None,
) -> int:
    recipes = [r for r in default_recipes(scale) if not only or r.name in only]
    avoid = spoken_texts(avoid_text_of) if avoid_text_of else frozenset()
    if avoid_text_of and not avoid:
        sys.exit(f"--avoid-text {avoid_text_of}: no corpus shards there")
    jobs = [
        replace(j, avoid=avoid)
        for j in plan(default_recipes(scale), seed)
        if j.recipe.name in {r.name for r in recipes}
    ]
    manifest_path = out / "manifest.json"
    avoided = str(avoid_text_of.resolve()) if avoid_text_of else None
    manifest = Manifest.load_or_create(manifest_path, seed, scale, recipes, avoided)
    missing = [j for j in jobs if not shard_done(out, j.recipe.split, j.index)]
    todo = missing[:max_jobs]
    print(
        f"{len(jobs)} jobs planned, {len(jobs) - len(missing)} done, "
        f"running {len(todo)} on {workers} workers",
        flush=True,
    )
    started, errors, lost = time.time(), 0, []
    for n, ((job, _), result) in enumerate(in_workers(_run_job_star, [(j, out) for j in todo], workers), 1):
        if isinstance(result, BrokenProcessPool):
            lost.append(job.index)
            continue
        if "error" in result:
            errors += 1
            print(f"job {result['job']} ({result['recipe']}) failed: {result['error']}", flush=True)
            continue
        manifest.shards[str(result["job"])] = result
        manifest.save(manifest_path)
        elapsed = time.time() - started
        print(
            f"[{n}/{len(todo)}] job {result['job']:4d} {result['recipe']:16s} "
            f"{result['seconds'] / 60:5.1f} min audio  {elapsed / 60:6.1f} min elapsed",
            flush=True,
        )
        if result["failures"]:
            print(
                f"    {result['failures']} sentences failed, e.g. {result['failure_examples'][0]}",
                flush=True,
            )
    if lost:
        errors += len(lost)
        print(
            f"a worker process died (a crash inside a speech engine's library) with {len(lost)} jobs not "
            f"finished (jobs {', '.join(map(str, sorted(lost)[:10]))}{' ...' if len(lost) > 10 else ''}); "
            "the finished shards are kept: rerun to resume, with --workers 1 to see which sentence crashes",
            flush=True,
        )
    manifest.runs.append(
        {
            "started": started,
            "wall_seconds": round(time.time() - started, 1),
            "jobs": len(todo),
            "errors": errors,
            "workers": workers,
            "cpus": os.cpu_count(),
            "system_packages": installed_versions(apt_packages()),
        }
    )
    manifest.save(manifest_path)
    print_stats(manifest)
    return 1 if errors else 0


def stats(manifest: Manifest) -> dict:
    """Hours per split, language, base voice and recipe; distinct voices; wall time."""
    totals: dict = {"splits": {}}
    for shard in manifest.shards.values():
        split = totals["splits"].setdefault(
            shard["split"], {"seconds": 0.0, "utterances": 0, "by_lang": {}, "by_voice": {}, "by_recipe": {}}
        )
        split["seconds"] += shard["seconds"]
        split["utterances"] += shard["utterances"]
        split["by_recipe"][shard["recipe"]] = split["by_recipe"].get(shard["recipe"], 0.0) + shard["seconds"]
        for key, src in (("by_lang", "seconds_by_lang"), ("by_voice", "seconds_by_voice")):
            for name, sec in shard[src].items():
                split[key][name] = split[key].get(name, 0.0) + sec
    totals["wall_seconds"] = sum(r["wall_seconds"] for r in manifest.runs)
    totals["failed_sentences"] = sum(s.get("failures", 0) for s in manifest.shards.values())
    return totals


def print_stats(manifest: Manifest) -> None:
    totals = stats(manifest)
    print(
        f"\ncorpus: seed {manifest.seed}, scale {manifest.scale}, {len(manifest.shards)} shards, "
        f"generation wall time {totals['wall_seconds'] / 60:.1f} min over {len(manifest.runs)} run(s), "
        f"{totals['failed_sentences']} sentences failed to synthesise"
    )
    for split, s in sorted(totals["splits"].items()):
        en = sum(v for k, v in s["by_lang"].items() if k.startswith("en"))
        other = {k: v for k, v in s["by_lang"].items() if not k.startswith("en")}
        base_voices = {v.split("+")[0] if v.startswith("espeak:") else v for v in s["by_voice"]}
        natural = sorted(v for v in s["by_voice"] if not v.startswith("espeak:"))
        print(f"  {split}: {s['seconds'] / 3600:.2f} h, {s['utterances']} utterances")
        print(
            f"    English {en / 3600:.2f} h from {len(natural)} natural base voices {natural} "
            f"+ {len(s['by_voice']) - len(natural)} espeak voice settings "
            f"({len(base_voices)} base identities)"
        )
        print(
            f"    other languages: {sum(other.values()) / 3600:.2f} h in {len(other)} languages: "
            + ", ".join(f"{k} {v / 60:.0f} min" for k, v in sorted(other.items()))
        )
        print(
            "    by recipe: " + ", ".join(f"{k} {v / 3600:.2f} h" for k, v in sorted(s["by_recipe"].items()))
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE, help="multiply every recipe's hours")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--max-jobs", type=int, default=None, help="stop after this many jobs (resume later)")
    parser.add_argument("--only", action="append", default=[], help="recipe name(s) to run")
    parser.add_argument(
        "--avoid-text",
        type=Path,
        metavar="CORPUS",
        help="leave out every sentence that corpus says (a fresh held-out set no choice has read)",
    )
    parser.add_argument("--stats", action="store_true", help="print the figures of an existing corpus")
    parser.add_argument("--list", action="store_true", help="print the recipes and planned hours")
    parser.add_argument(
        "--check",
        type=int,
        metavar="N",
        help="re-align N English utterances per recipe with pocketsphinx and print the label boundary errors",
    )
    args = parser.parse_args(argv)
    if args.list:
        for r in default_recipes(args.scale):
            print(
                f"{r.name:16s} {r.split:8s} {r.engine:15s} base {r.hours:5.2f} h x{1 + r.world_variants} "
                f"= {r.output_hours:5.2f} h in {r.jobs} jobs"
            )
        return 0
    if args.check:
        from .corpus_check import check, print_check

        print_check(check(args.out, args.check))
        return 0
    if args.stats:
        path = args.out / "manifest.json"
        if not path.is_file():
            sys.exit(f"no corpus at {args.out}: run `python build.py corpus` first")
        print_stats(Manifest(**json.loads(path.read_text())))
        return 0
    return generate(args.out, args.seed, args.scale, args.workers, args.max_jobs, args.only, args.avoid_text)


if __name__ == "__main__":
    sys.exit(main())
