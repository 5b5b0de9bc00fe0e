"""The corpus generator: deterministic plans, real shards, resume, held-out separation."""

from __future__ import annotations

import json
import math
import os
import zlib
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from lipsync_train import corpus
from lipsync_train.corpus_check import check
from lipsync_train.corpus_io import iter_utterances, shard_done, spoken_texts
from lipsync_train.engines.espeak import get_espeak
from lipsync_train.phonemes import CANONICAL
from lipsync_train.text import LANGUAGES, is_heldout_sentence
from lipsync_train.text import sentences as sentences_of


def corpus_languages() -> list[str]:
    return [code for code in LANGUAGES if not code.startswith("en")]


def test_plan_is_deterministic_and_interleaved() -> None:
    recipes = corpus.default_recipes(1.0)
    a, b = corpus.plan(recipes, seed=0), corpus.plan(recipes, seed=0)
    assert [(j.recipe.name, j.part) for j in a] == [(j.recipe.name, j.part) for j in b]
    assert sorted(j.index for j in a) == list(range(len(a)))
    first_tenth = {j.recipe.name for j in a[: len(a) // 10]}
    assert len(first_tenth) >= 5, "a partial run must already mix recipes"


def test_plan_meets_the_hour_targets() -> None:
    recipes = corpus.default_recipes(1.0)
    train = [r for r in recipes if r.split == "train"]
    english = sum(r.output_hours for r in train if r.languages == ("en-us",))
    natural = sum(r.output_hours for r in train if r.engine != "espeak")
    espeak_en = sum(r.output_hours for r in recipes if r.name == "espeak-en")
    other = sum(r.output_hours for r in train if r.languages != ("en-us",))
    assert english >= 30 and other >= 10
    assert natural >= 8 * espeak_en, "natural voices must outweigh espeak's robotic ones"
    assert {r.split for r in recipes} == {"train", "heldout"}


@pytest.mark.slow
def test_jobs_write_real_aligned_shards_and_resume(tmp_path: Path) -> None:
    recipes = [r for r in corpus.default_recipes(0.004) if r.name in ("diphone", "heldout-ked")]
    assert all(r.jobs == 1 for r in recipes)
    jobs = [corpus.Job(i, r, 0, seed=3) for i, r in enumerate(recipes)]
    for job in jobs:
        corpus.run_job(job, tmp_path)
        assert shard_done(tmp_path, job.recipe.split, job.index)
    train = list(iter_utterances(tmp_path, "train"))
    heldout = list(iter_utterances(tmp_path, "heldout"))
    assert train and heldout
    for utt in train + heldout:
        assert utt.audio.dtype == np.float32 and np.isfinite(utt.audio).all()
        starts = np.array([p.start for p in utt.phones])
        assert abs(utt.phones[-1].end - utt.duration) < 2e-3 and utt.phones[0].start == 0.0
        assert np.all(np.diff(starts) > 0) and all(p.label in CANONICAL for p in utt.phones)
    # diphone recipe doubles each utterance with a WORLD variant of the same timing
    variants = [u for u in train if "world_f0_scale" in u.meta]
    assert variants and len(variants) * 2 == len(train)
    assert not any(is_heldout_sentence(u.text) for u in train)
    assert all(is_heldout_sentence(u.text) for u in heldout)
    assert {u.voice for u in heldout} == {"festival:ked"}
    assert "festival:ked" not in {u.voice for u in train}

    # the labels still sit on the audio after resampling, WORLD and the augmentation chain
    agreement = check(tmp_path, per_recipe=3)["diphone"]
    assert agreement["boundaries"] > 50 and agreement["median_ms"] < 20 and agreement["mae_ms"] < 30
    assert abs(agreement["bias_ms"]) < 15  # neither early nor late on the whole

    # same seed -> same text, voices and engine settings (Festival is bit-exact too)
    again = tmp_path / "again"
    corpus.run_job(jobs[0], again)
    first = [(u.text, u.voice, json.dumps(u.meta, sort_keys=True)) for u in train]
    second = [(u.text, u.voice, json.dumps(u.meta, sort_keys=True)) for u in iter_utterances(again, "train")]
    assert first == second


@pytest.mark.slow
def test_generate_resumes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "--out",
        str(tmp_path),
        "--scale",
        "0.004",
        "--only",
        "heldout-ked",
        "--only",
        "diphone",
        "--workers",
        "1",
    ]
    assert corpus.main([*args, "--max-jobs", "1"]) == 0
    assert "2 jobs planned, 0 done, running 1" in capsys.readouterr().out  # done: shards on disk
    assert corpus.main(args) == 0
    out = capsys.readouterr().out
    assert "2 jobs planned, 1 done, running 1" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["shards"]) == 2 and len(manifest["runs"]) == 2
    engines = manifest["runs"][-1]["system_packages"]  # what the voices came from, for a later rerun
    assert engines["festival"] and engines["espeak-ng"] and engines["festvox-kdlpc16k"]
    assert corpus.main(["--out", str(tmp_path), "--stats"]) == 0
    assert "English" in capsys.readouterr().out


@pytest.mark.slow
def test_a_fresh_set_says_none_of_another_corpus_sentences(tiny_corpus: Path, tmp_path: Path) -> None:
    said = spoken_texts(tiny_corpus)
    assert said == {u.text for split in ("train", "heldout") for u in iter_utterances(tiny_corpus, split)}
    ked = next(r for r in corpus.default_recipes(0.004) if r.name == "heldout-ked")
    same_stretch = corpus.sentence_pool("en-us", "heldout", 1).take(zlib.crc32(ked.name.encode()) % 100_000)
    assert said & {same_stretch() for _ in range(5)}, "same seed, same stretch: without avoidance they repeat"

    args = ["--out", str(tmp_path), "--scale", "0.004", "--only", "heldout-ked", "--workers", "1"]
    args += ["--seed", "1"]
    assert corpus.main([*args, "--avoid-text", str(tiny_corpus)]) == 0
    fresh = [u.text for u in iter_utterances(tmp_path, "heldout")]
    assert fresh and not said & set(fresh)
    assert all(is_heldout_sentence(t) for t in fresh)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["avoided_text_of"] == str(tiny_corpus.resolve())
    with pytest.raises(SystemExit, match="avoiding the text of"):  # the folder keeps what it was made from
        corpus.main(args)


@pytest.mark.slow
@pytest.mark.parametrize("code", sorted(corpus_languages()))
def test_every_language_synthesises_its_own_text(code: str) -> None:
    """Each language's espeak voice reads real sentences from its text source into known phones."""
    spec = LANGUAGES[code]
    split = "heldout" if spec.heldout_language else "train"
    sentences = sentences_of(code, split)
    picks = [sentences[i] for i in np.linspace(0, len(sentences) - 1, 6).astype(int)]
    results = get_espeak().synth_many(picks, spec.espeak_voice, [{} for _ in picks])
    failed = [str(r) for r in results if isinstance(r, Exception)]
    assert not failed, failed


def test_a_later_wave_is_planned_after_the_corpus_it_joins() -> None:
    recipes = corpus.default_recipes(2.0)
    first = [r for r in recipes if r.wave == 0]
    before = [(j.index, j.recipe.name, j.part) for j in corpus.plan(first, 0)]
    after = corpus.plan(recipes, 0)
    assert [(j.index, j.recipe.name, j.part) for j in after[: len(before)]] == before
    assert {j.recipe.name for j in after[len(before) :]} == {"kokoro", "espeak-multi2"}
    assert max(j.index for j in after if j.recipe.name == "kokoro") < min(
        j.index for j in after if j.recipe.name == "espeak-multi2"
    )


def test_every_training_language_is_spoken_by_one_recipe_and_no_heldout_one_trains() -> None:
    recipes = corpus.default_recipes(2.0)
    spoken = [lang for r in recipes if r.split == "train" for lang in r.languages if lang != "en-us"]
    training = {code for code, spec in LANGUAGES.items() if not spec.heldout_language and code != "en"}
    assert sorted(spoken) == sorted(training)
    multi2 = next(r for r in recipes if r.name == "espeak-multi2")
    assert multi2.wave == 2 and {LANGUAGES[c].wave for c in multi2.languages} == {2}


def test_a_worker_that_dies_fails_its_jobs_instead_of_hanging_the_run() -> None:
    """espeak-ng can crash its process (Vietnamese with the Demonic variant did); the run must go on
    to report it, not wait forever for the dead worker's result."""
    assert dict(corpus.in_workers(math.sqrt, [4.0, 9.0], workers=2)) == {4.0: 2.0, 9.0: 3.0}
    died = dict(corpus.in_workers(os._exit, [3], workers=1))
    assert isinstance(died[3], BrokenProcessPool)


def test_workers_are_recycled_and_every_job_comes_back() -> None:
    """Engines' C libraries leak, so each worker retires after a few jobs; the replacements must come
    (Python 3.11's ``max_tasks_per_child`` stopped replacing them and hung a corpus run at job 40)."""
    jobs = ["/proc/self"] * 7  # os.readlink of it is the worker's pid
    pids = [pid for _, pid in corpus.in_workers(os.readlink, jobs, workers=1, tasks_per_worker=2)]
    assert len(pids) == 7
    assert len(set(pids)) == 4  # a fresh worker for every two jobs
