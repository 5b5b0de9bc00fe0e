"""The benchmark run: predictors x data sets -> JSON report, plots and a compact table.

Each file's reference is the teacher rendered on its true phone timing (TextGrid,
forced alignment, or the synthetic corpus's engine timing) at the requested fps; every
predictor is scored against it with :mod:`.metrics`, per file and pooled per data set.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from blender_lipsync.core.audio import MODEL_SAMPLE_RATE
from blender_lipsync.core.contract import CLOSED_LIPS_APERTURE, VISEMES, Curves, lip_aperture
from lipsync_train.augment import add_breaths, add_rumble, channel_chain, limit_peak, world_voice
from lipsync_train.corpus_io import iter_utterances
from lipsync_train.dataset import join_utterances, level_matched
from lipsync_train.phonemes import SILENCE, Phone

from . import metrics, reference
from .predictors import LoadedPredictor, teacher_curves

LONG_DATASETS = ("heldout-long", "heldout-long-level", "heldout-room", "heldout-voice")
HELDOUT_DATASETS = (
    "heldout",
    "heldout-lang",
    "heldout-rumble",
    "heldout-breath",
    "heldout-cough",
    *LONG_DATASETS,
)
"""The data sets read from the synthetic corpus' held-out split (rumble, breath and cough are
stress sets; the long ones join utterances into long files)."""
DATASETS = ("realspeech", *HELDOUT_DATASETS)
RUMBLE_DB = 10.0
"""``heldout-rumble``: the English held-out files with sub-audio rumble this far above the
speech (``augment.add_rumble``, seeded per file), a stress test for the input filter.
``heldout-breath``: the same files with breaths and clicks right at the speech edges of half
their pauses (``augment.add_breaths`` at full strength, all at edges, seeded per file), as
real talkers inhale before a phrase and smack their lips after one.  ``heldout-cough``: the
same files with a loud cough or sniff (0-12 dB under the speech) in half of the pauses with
room for one (``augment.add_breaths``, all loud, seeded per file).  ``heldout-long``: the
English held-out utterances of each voice, in corpus order, joined end to end into files of
at least ``LONG_FILE_S`` (a voice's shorter remainder kept from ``LONG_REST_S``): real
recordings run up to half a minute, the training windows are 4 s.  Each utterance keeps the
gain the corpus gave it, so the level jumps at the joins.  ``heldout-long-level``: the same
files with every utterance brought to the first one's speech level (``dataset.level_matched``),
as one talker in one recording is.  ``heldout-room``: like ``heldout-long-level``, but only from
the utterances the corpus stored clean (the rest each carry their own room and microphone, so
the other long sets change channel at every join), with one channel chain over the whole file
(``augment.channel_chain`` at ``ROOM_STRENGTH``, seeded per file): one talker, one room and
one microphone per file, as in a real recording.  ``heldout-voice``: the ``heldout-room`` files,
each first resynthesised by WORLD as one voice the corpus never had (``augment.world_voice``: a
pitch and vocal-tract pair drawn as the corpus draws its variants, seeded per file), then given
its room: one unfamiliar talker per file, as every real recording is to the model."""
LONG_FILE_S, LONG_REST_S = 20.0, 8.0
ROOM_STRENGTH = 0.5  # the training chain's default strength
VOICE_SEED = 1  # heldout-voice draws file i's voice from default_rng([i, VOICE_SEED]), apart from its room
DEFAULT_CORPUS = reference.REPO_ROOT / "data" / "corpus"
DEFAULT_OUT = reference.REPO_ROOT / "out" / "eval"
PLOT_SECONDS = 8.0  # plots show at most this much of a file, so phone labels stay legible


class DatasetUnavailable(RuntimeError):
    """A data set that cannot be evaluated on this machine (message says what to do)."""


@dataclass
class Sample:
    """One evaluation file: audio and its true phone timeline."""

    dataset: str
    id: str
    audio: np.ndarray  # float32 mono 16 kHz
    phones: list[Phone]
    reference: str  # where the timing comes from: textgrid, pocketsphinx, engine:<name>
    lang: str = "en"

    @property
    def duration(self) -> float:
        return len(self.audio) / MODEL_SAMPLE_RATE


@dataclass
class Settings:
    """What a run evaluates; recorded in the report."""

    predictors: list[str]
    datasets: list[str]
    fps: float = 24.0
    corpus: Path = DEFAULT_CORPUS
    realspeech: Path = reference.DEFAULT_REALSPEECH
    out: Path = DEFAULT_OUT
    max_files: int | None = None
    plots: int = 3  # files plotted per data set
    skipped: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- data sets


def open_dataset(dataset: str, settings: Settings) -> tuple[int, Iterator[Sample]]:
    """(number of files, the files) of one data set.

    Raises DatasetUnavailable when it cannot be read here.  Files that fail to load are
    recorded in ``settings.skipped`` and left out of the iteration.
    """
    if dataset == "realspeech":
        return _realspeech(settings)
    if dataset in LONG_DATASETS:
        return _heldout_long(settings.corpus, dataset, settings.max_files)
    if dataset in HELDOUT_DATASETS:
        return _heldout(settings.corpus, dataset, settings.max_files)
    raise ValueError(f"unknown data set {dataset!r}; choose from {DATASETS}")


def _realspeech(settings: Settings) -> tuple[int, Iterator[Sample]]:
    try:
        ids = reference.recording_ids(settings.realspeech)
    except FileNotFoundError as exc:
        raise DatasetUnavailable(str(exc)) from exc
    # ids sort by source (cv, lj, ls, mfa, prio): a limited run takes some of each.
    ids = [ids[i] for i in sorted(_spread(len(ids), settings.max_files or len(ids)))]

    def samples() -> Iterator[Sample]:
        for rec_id in ids:
            try:
                rec = reference.load_recording(rec_id, settings.realspeech)
            except (reference.AlignmentError, ValueError) as exc:  # one bad file must not sink the run
                settings.skipped.append({"dataset": "realspeech", "id": rec_id, "reason": str(exc)})
                continue
            yield Sample("realspeech", rec.id, rec.audio, rec.phones, rec.method, "en")

    return len(ids), samples()


def _require_heldout(corpus: Path) -> None:
    if not any((Path(corpus) / "heldout").glob("shard-*.jsonl")):
        raise DatasetUnavailable(
            f"no synthetic corpus at {corpus} (no heldout shards): run `python build.py corpus` first"
        )


def _heldout(corpus: Path, name: str, max_files: int | None) -> tuple[int, Iterator[Sample]]:
    _require_heldout(corpus)
    other_languages = name == "heldout-lang"

    def wanted(lang: str) -> bool:
        return lang.startswith("en") != other_languages

    matching = sum(wanted(u.lang) for u in iter_utterances(corpus, "heldout"))
    if matching == 0:
        kind = "non-English" if other_languages else "English"
        raise DatasetUnavailable(f"the held-out split at {corpus} has no {kind} utterances")
    # Evenly spaced picks: shards run voice by voice, so the first N would be one voice.
    keep = _spread(matching, min(max_files or matching, matching))

    def samples() -> Iterator[Sample]:
        index = 0
        for u in iter_utterances(corpus, "heldout"):
            if wanted(u.lang):
                if index in keep:
                    audio = _stressed(name, u.audio, u.phones, np.random.default_rng(index))
                    yield Sample(name, u.id, audio, list(u.phones), f"engine:{u.engine}", u.lang)
                index += 1

    return len(keep), samples()


def _heldout_long(corpus: Path, name: str, max_files: int | None) -> tuple[int, Iterator[Sample]]:
    _require_heldout(corpus)
    one_voice = name == "heldout-voice"
    one_room, one_level = one_voice or name == "heldout-room", name != "heldout-long"
    groups: dict[str, list[list]] = {}  # voice -> runs of utterances, the last one still growing
    for u in iter_utterances(corpus, "heldout"):
        if u.lang.startswith("en") and not (one_room and u.meta.get("augment")):
            runs = groups.setdefault(u.voice, [[]])
            if sum(x.duration for x in runs[-1]) >= LONG_FILE_S:
                runs.append([])
            runs[-1].append(u)
    # Every run but a voice's last reached LONG_FILE_S when it was closed.
    joined = [run for runs in groups.values() for run in runs if sum(x.duration for x in run) >= LONG_REST_S]
    if not joined:
        raise DatasetUnavailable(
            f"the held-out split at {corpus} has under {LONG_REST_S:g} s of any English voice"
        )
    keep = sorted(_spread(len(joined), min(max_files or len(joined), len(joined))))

    def samples() -> Iterator[Sample]:
        for i in keep:
            parts = [(u.audio, u.phones) for u in joined[i]]
            audio, phones = join_utterances(level_matched(parts) if one_level else parts)
            if one_voice:
                audio = world_voice(audio, MODEL_SAMPLE_RATE, np.random.default_rng([i, VOICE_SEED]))
            if one_room:
                audio = channel_chain(audio, MODEL_SAMPLE_RATE, np.random.default_rng(i), ROOM_STRENGTH)[0]
            first = joined[i][0]
            yield Sample(name, f"{first.id}+{len(joined[i]) - 1}", audio, phones, f"engine:{first.engine}")

    return len(keep), samples()


def _stressed(name: str, audio: np.ndarray, phones: Sequence[Phone], rng: np.random.Generator) -> np.ndarray:
    """A held-out file as the stress set ``name`` hears it (plain sets: as stored)."""
    if name == "heldout-rumble":
        return limit_peak(add_rumble(audio, MODEL_SAMPLE_RATE, RUMBLE_DB, rng))
    if name in ("heldout-breath", "heldout-cough"):
        silent = np.zeros(len(audio), bool)
        for p in phones:
            if p.label == SILENCE:
                silent[round(p.start * MODEL_SAMPLE_RATE) : round(p.end * MODEL_SAMPLE_RATE)] = True
        where = {"edge_share": 1.0} if name == "heldout-breath" else {"loud_share": 1.0}
        return add_breaths(audio, MODEL_SAMPLE_RATE, silent, rng, strength=1.0, **where)[0]
    return audio


# ---------------------------------------------------------------- running


def evaluate(predictors: Sequence[LoadedPredictor], settings: Settings) -> dict:
    """Score every predictor on every data set; returns the report (also plots to settings.out)."""
    results: dict[str, dict] = {p.name: {} for p in predictors}
    files: dict[str, list[dict]] = {}
    unavailable: dict[str, str] = {}
    plots: list[str] = []
    for dataset in settings.datasets:
        tallies: dict[str, list[tuple[Sample, metrics.Tally]]] = {p.name: [] for p in predictors}
        try:
            count, samples = open_dataset(dataset, settings)
        except DatasetUnavailable as exc:
            unavailable[dataset] = str(exc)
            continue
        # Plot files spread over the set (ids sort by source, so the first few are alike).
        files[dataset] = []
        plotted = _spread(count, settings.plots)
        for n, sample in enumerate(samples):
            ref = teacher_curves(sample.audio, sample.phones, settings.fps)
            preds = {p.name: p(sample.audio, settings.fps, sample.phones) for p in predictors}
            for name, curves in preds.items():
                tallies[name].append((sample, metrics.tally(curves, ref, sample.phones)))
            files[dataset].append(_file_entry(sample))
            if n in plotted:
                plots.append(str(plot_sample(sample, ref, preds, settings.out)))
        for name, scored in tallies.items():
            results[name][dataset] = _dataset_result(scored)
    return {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "settings": _settings_entry(settings),
        "datasets": {d: {"files": f} for d, f in files.items()},
        "unavailable": unavailable,
        "skipped": settings.skipped,
        "results": results,
        "plots": plots,
    }


def _spread(count: int, wanted: int) -> set[int]:
    """``wanted`` indices spread evenly over ``range(count)`` (all of them if fewer)."""
    wanted = max(0, min(wanted, count))
    return set(np.linspace(0, count - 1, wanted).round().astype(int).tolist())


def _dataset_result(scored: list[tuple[Sample, metrics.Tally]]) -> dict:
    by_lang: dict[str, list[metrics.Tally]] = {}
    for sample, t in scored:
        by_lang.setdefault(sample.lang, []).append(t)
    pooled = metrics.pool(t for _, t in scored)
    return {
        "pooled": pooled.scores(),
        "viseme_recall": pooled.viseme_recall(),
        "viseme_confusion": {
            "rows_reference_columns_predicted": list(VISEMES),
            "frames": pooled.confusion.tolist(),
        },
        "by_lang": {lang: metrics.pool(ts).scores() for lang, ts in sorted(by_lang.items())},
        "files": {sample.id: t.scores() for sample, t in scored},
    }


def _file_entry(sample: Sample) -> dict:
    return {
        "id": sample.id,
        "seconds": round(sample.duration, 3),
        "reference": sample.reference,
        "lang": sample.lang,
    }


def _settings_entry(settings: Settings) -> dict:
    from importlib.metadata import version

    return {
        "fps": settings.fps,
        "predictors": settings.predictors,
        "datasets": settings.datasets,
        "max_files": settings.max_files,
        "corpus": str(settings.corpus),
        "realspeech": str(settings.realspeech),
        "reference": "teacher.render, neutral Style, true timing",
        "max_lag_frames": metrics.MAX_LAG,
        "closed_lips_aperture": CLOSED_LIPS_APERTURE,
        "aligner": reference.ALIGNER_VERSION,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pocketsphinx": version("pocketsphinx"),
    }


def write_report(report: dict, out: Path) -> Path:
    """``report.json`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- table

_COLUMNS = (
    ("viseme_accuracy", "vis.acc", "{:.3f}"),
    ("bilabial_recall", "bilab.rec", "{:.3f}"),
    ("false_closure_rate", "false.cl", "{:.3f}"),
    ("jaw_correlation", "jaw.r", "{:.3f}"),
    ("mouth_l2", "L2", "{:.3f}"),
    ("lag_frames", "lag", "{:+d}"),
)


SCORE_TITLES = " ".join(f"{title:>9}" for _, title, _ in _COLUMNS)
"""The header cells of :func:`score_cells`."""


def score_cells(scores: dict) -> str:
    """The yardstick's metrics of one row of scores, as fixed-width table cells ("-": none)."""
    return " ".join(f"{'-' if scores[k] is None else fmt.format(scores[k]):>9}" for k, _, fmt in _COLUMNS)


def format_table(report: dict) -> str:
    """Pooled scores, one row per predictor and data set."""
    head = f"{'predictor':<18} {'dataset':<13} {'files':>5} {'sec':>7} {SCORE_TITLES}"
    lines = [head, "-" * len(head)]
    for name, per_dataset in report["results"].items():
        for dataset, result in per_dataset.items():
            secs = sum(f["seconds"] for f in report["datasets"][dataset]["files"])
            cells = score_cells(result["pooled"])
            lines.append(f"{name:<18} {dataset:<13} {len(result['files']):>5} {secs:>7.1f} {cells}")
    for dataset, why in report["unavailable"].items():
        lines.append(f"{dataset}: skipped: {why}")
    return "\n".join(lines)


# ---------------------------------------------------------------- plots


def plot_sample(sample: Sample, ref: Curves, preds: dict[str, Curves], out: Path) -> Path:
    """jawOpen, lip aperture and viseme track, reference vs predictions, phones on the time axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(ref.frames, int(PLOT_SECONDS * ref.fps) + 1)
    t = ref.times[:n]
    fig, axes = plt.subplots(
        3,
        1,
        figsize=(min(4 + 2.2 * t[-1], 20), 8),
        sharex=True,
        gridspec_kw={"height_ratios": [1.0, 1.0, 1.4]},
    )
    tracks = [("reference (teacher)", ref), *preds.items()]
    for i, (name, curves) in enumerate(tracks):
        style = {"color": "k", "lw": 2.2, "alpha": 0.5} if i == 0 else {"lw": 1.2}
        axes[0].plot(t, curves.channel("jawOpen")[:n], label=name, **style)
        axes[1].plot(t, lip_aperture(curves.channels[:n]), **style)
        axes[2].plot(
            t,
            curves.viseme_ids()[:n] + 0.12 * i,
            ".",
            ms=4 if i else 7,
            color=style.get("color"),
            alpha=style.get("alpha", 1.0),
        )
    axes[1].axhline(CLOSED_LIPS_APERTURE, color="r", ls=":", lw=1)
    axes[0].set_ylabel("jawOpen")
    axes[1].set_ylabel("lip aperture")
    axes[2].set_yticks(range(len(VISEMES)), VISEMES, fontsize=7)
    axes[2].set_ylabel("viseme")
    axes[0].legend(loc="upper right", fontsize=8)
    _phone_axis(axes, sample.phones, t[-1])
    shown = "" if n == ref.frames else f" (first {PLOT_SECONDS:.0f} s)"
    axes[0].set_title(
        f"{sample.dataset} / {sample.id}{shown}: reference from {sample.reference}, {ref.fps:g} fps"
    )
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{sample.dataset}_{sample.id}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _phone_axis(axes: Sequence, phones: Sequence[Phone], end: float) -> None:
    shown = [p for p in phones if p.start < end]
    for ax in axes:
        for p in shown:
            ax.axvline(p.start, color="0.8", lw=0.5, zorder=0)
    ax = axes[-1]
    ax.set_xlim(0, end)
    ax.set_xticks(
        [(p.start + min(p.end, end)) / 2 for p in shown],
        [("" if p.label == SILENCE else p.label) for p in shown],
        fontsize=8,
    )
    ax.set_xlabel("phones (time runs left to right; grid lines are phone boundaries)")
    seconds = axes[0].secondary_xaxis("top")
    seconds.set_xticks(np.arange(0, end + 1e-9, 0.5))
    seconds.set_xlabel("seconds")
