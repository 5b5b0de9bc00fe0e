"""``python -m lipsync_train.evaluation``: the quality yardstick (DESIGN.md section 6).

Example::

    python -m lipsync_train.evaluation --predictor baseline --predictor teacher \\
        --dataset realspeech --dataset heldout --fps 24 --out out/eval

Writes ``report.json`` and PNG plots to ``--out`` and prints a table of pooled scores.
``--aligner-agreement`` instead scores two aligners of the real-speech set against each other.
Exits non-zero only when nothing could be evaluated.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from . import predictors as registry
from . import reference
from .agreement import aligner_agreement, format_agreement
from .reference import DEFAULT_REALSPEECH
from .report import DATASETS, DEFAULT_CORPUS, DEFAULT_OUT, Settings, evaluate, format_table, write_report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    known = ", ".join(f"{name} ({doc})" for name, doc in registry.available().items())
    ap = argparse.ArgumentParser(
        prog="python -m lipsync_train.evaluation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--predictor",
        action="append",
        default=None,
        help=f"predictor to score (repeatable; default baseline). Known: {known}; "
        "or package.module:attribute",
    )
    ap.add_argument(
        "--dataset",
        action="append",
        default=None,
        choices=DATASETS,
        help="data set (repeatable; default realspeech)",
    )
    ap.add_argument("--fps", type=float, default=24.0, help="frame rate of the comparison (default 24)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="synthetic corpus root")
    ap.add_argument("--realspeech", type=Path, default=DEFAULT_REALSPEECH, help="real-speech set")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report and plot folder")
    ap.add_argument("--max-files", type=int, default=None, help="at most N files per data set")
    ap.add_argument("--plots", type=int, default=3, help="files plotted per data set (default 3)")
    ap.add_argument(
        "--aligner-agreement",
        action="store_true",
        help="instead of scoring predictors: score pocketsphinx's timing of the real recordings that "
        "have a TextGrid against the TextGrid's (how much the reference itself costs every score)",
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.aligner_agreement:
        try:
            print(format_agreement(aligner_agreement(args.realspeech, args.fps)))
        except (FileNotFoundError, reference.AlignmentError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    settings = Settings(
        predictors=args.predictor or ["baseline"],
        datasets=args.dataset or ["realspeech"],
        fps=args.fps,
        corpus=args.corpus,
        realspeech=args.realspeech,
        out=args.out,
        max_files=args.max_files,
        plots=args.plots,
    )
    try:
        loaded = [registry.load(spec) for spec in settings.predictors]
    except (KeyError, ValueError, ImportError, AttributeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = evaluate(loaded, settings)
    path = write_report(report, settings.out)
    for dataset, entry in report["datasets"].items():
        methods = Counter(f["reference"] for f in entry["files"])
        print(f"{dataset}: reference timing " + ", ".join(f"{n} x {m}" for m, n in sorted(methods.items())))
    for skip in report["skipped"]:
        print(f"{skip['dataset']}/{skip['id']}: skipped: {skip['reason']}")
    print(format_table(report))
    print(f"report: {path}  plots: {len(report['plots'])} in {settings.out}")
    return 0 if any(entry["files"] for entry in report["datasets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
