"""Label check of a finished corpus: ``python build.py corpus --check N``.

The labels come from the engines' own synthesis plans, then go through resampling,
WORLD and speed perturbation.  This re-aligns a sample of English utterances with an
independent aligner (pocketsphinx, bundled model) and reports how far the corpus
boundaries are from it, per recipe, and their median offset (bias: positive where the
corpus labels come later than the audio says).  pocketsphinx agrees with Festival's exact
labels to about 10-14 ms (notes/speech-sources.md), so that is "as good as it gets".
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from .corpus_io import iter_utterances
from .evaluation.reference import AlignmentError, align_transcript, boundary_offsets


def sample_english(root: Path, per_recipe: int, split: str = "train") -> dict[str, list]:
    """Up to ``per_recipe`` English utterances of each recipe, spread over its shards."""
    by_recipe: dict[str, list] = defaultdict(list)
    seen: dict[str, int] = defaultdict(int)
    for utt in iter_utterances(root, split):
        recipe = utt.meta.get("recipe", utt.engine)
        if not utt.lang.startswith("en"):
            continue
        seen[recipe] += 1
        # every 37th utterance: spreads the sample over shards, voices and variants
        if seen[recipe] % 37 == 1 and len(by_recipe[recipe]) < per_recipe:
            by_recipe[recipe].append(utt)
    return by_recipe


def check(root: Path, per_recipe: int) -> dict[str, dict[str, float]]:
    """Boundary error statistics (ms) of corpus labels against pocketsphinx, per recipe."""
    results: dict[str, dict[str, float]] = {}
    for recipe, utterances in sorted(sample_english(root, per_recipe).items()):
        errors, failed = [], 0
        for utt in utterances:
            try:
                errors.append(boundary_offsets(align_transcript(utt.audio, utt.text), utt.phones))
            except AlignmentError:
                failed += 1
        late = np.concatenate(errors) * 1000 if errors else np.zeros(0)  # corpus minus aligner
        e = np.abs(late)
        results[recipe] = {
            "utterances": len(utterances),
            "unaligned": failed,
            "boundaries": int(e.size),
            "mae_ms": float(e.mean()) if e.size else float("nan"),
            "median_ms": float(np.median(e)) if e.size else float("nan"),
            "under_20ms": float(np.mean(e < 20)) if e.size else float("nan"),
            "bias_ms": float(np.median(late)) if e.size else float("nan"),
        }
    return results


def print_check(results: dict[str, dict[str, float]]) -> None:
    print(
        f"{'recipe':16s} {'utts':>5s} {'unaligned':>9s} {'bounds':>7s} "
        f"{'MAE ms':>7s} {'median':>7s} {'<20ms':>6s} {'bias ms':>8s}"
    )
    for recipe, r in results.items():
        print(
            f"{recipe:16s} {r['utterances']:5d} {r['unaligned']:9d} {r['boundaries']:7d} "
            f"{r['mae_ms']:7.1f} {r['median_ms']:7.1f} {r['under_20ms']:6.2f} {r['bias_ms']:8.1f}"
        )
