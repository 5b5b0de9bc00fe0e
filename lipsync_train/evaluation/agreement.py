"""How far the real-speech reference can be trusted: two aligners scored against each other.

The yardstick's real-speech reference is the teacher on one alignment (a TextGrid where
there is one, pocketsphinx otherwise).  Alignments differ by tens of milliseconds at phone
boundaries, and each such shift moves whole frames of the reference.  Scoring the teacher on
pocketsphinx's timing against the teacher on the TextGrid, with the yardstick's own metrics,
shows how much of every score is lost to the reference alone: a predictor as good as an
aligner would read about this.  No model is involved.
"""

from __future__ import annotations

from pathlib import Path

from . import metrics, reference
from .predictors import teacher_curves
from .report import SCORE_TITLES, score_cells


def aligner_agreement(
    root: Path | None = None, fps: float = 24.0, cache_dir: Path | None = reference.ALIGNMENT_CACHE
) -> dict[str, metrics.Tally]:
    """Per recording with a TextGrid: pocketsphinx's timing scored against the TextGrid's.

    Both references are the teacher at the neutral style, jaw on the same audio, at ``fps``.
    """
    root = Path(root or reference.DEFAULT_REALSPEECH)
    tallies = {}
    for rec_id in reference.recording_ids(root):
        if not (root / f"{rec_id}.TextGrid").is_file():
            continue
        grid = reference.load_recording(rec_id, root, "textgrid")
        sphinx = reference.load_recording(rec_id, root, "pocketsphinx", cache_dir)
        truth = teacher_curves(grid.audio, grid.phones, fps)
        aligned = teacher_curves(sphinx.audio, sphinx.phones, fps)
        tallies[rec_id] = metrics.tally(aligned, truth, grid.phones)
    return tallies


def format_agreement(tallies: dict[str, metrics.Tally]) -> str:
    """One row per recording and the pooled row, in the yardstick's columns."""
    head = f"{'recording':<22} {'frames':>6} {SCORE_TITLES}"
    rows = [head, "-" * len(head)]
    for name, tally in [*tallies.items(), ("pooled", metrics.pool(tallies.values()))]:
        scores = tally.scores()
        rows.append(f"{name:<22} {scores['frames']:>6} {score_cells(scores)}")
    return "\n".join(rows)
