"""Teacher curves as pictures: ``python build.py teacher-plots [--out out/teacher]``.

Synthesises a few sentences with real engines, renders the teacher on their exact
phone timing under the neutral style and a contrasting one, and writes one PNG per
sentence: spectrogram with phone labels, the main mouth channels, lip aperture with
the closure threshold, and the viseme track.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from blender_lipsync.core.contract import CLOSED_LIPS_APERTURE, VISEMES, Curves, lip_aperture
from blender_lipsync.core.style import Style

from . import teacher
from .phonemes import SILENCE, Phone

SENTENCES = (
    ("espeak", "en-us", "Bob may buy a map of the five famous woods."),
    ("festival", "cmu_us_slt_arctic_hts", "Would you like some warm soup before we go?"),
    ("piper", "joe", "Please put the peppermint box back, Mum, it is for the party."),
    ("flite", "rms", "Very few of them know why the moon looks so blue."),
)
SHOWN = (
    "jawOpen",
    "mouthClose",
    "mouthPucker",
    "mouthFunnel",
    "mouthRollLower",
    "mouthStretchLeft",
    "mouthPressLeft",
    "tongueOut",
)


def plot_teacher(
    audio: np.ndarray,
    sr: int,
    phones: Sequence[Phone],
    curves: Sequence[tuple[str, Curves]],
    title: str,
    path: Path,
) -> None:
    """One figure: spectrogram + phones, channels, aperture, visemes (first curves)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        4, 1, figsize=(14, 10), sharex=True, gridspec_kw={"height_ratios": [1.2, 2.2, 1.0, 0.9]}
    )
    axes[0].specgram(audio, Fs=sr, NFFT=512, noverlap=384, cmap="magma")
    axes[0].set_ylim(0, 6000)
    for p in phones:
        axes[0].axvline(p.start, color="w", lw=0.5, alpha=0.6)
        if p.label != SILENCE:
            axes[0].text((p.start + p.end) / 2, 5400, p.label, color="w", ha="center", fontsize=9)
    axes[0].set_title(title)
    styles = ["-", "--", ":"]
    for (name, c), ls in zip(curves, styles, strict=False):
        for k, ch in enumerate(SHOWN):
            axes[1].plot(c.times, c.channel(ch), ls, color=f"C{k}", lw=1.2, label=ch if ls == "-" else None)
        axes[2].plot(c.times, lip_aperture(c.channels), ls, color="k", label=f"aperture ({name})")
    axes[1].legend(ncol=4, fontsize=8, loc="upper right")
    axes[1].set_ylabel("ARKit value")
    axes[1].set_ylim(0, 1.02)
    axes[2].axhline(CLOSED_LIPS_APERTURE, color="r", lw=0.8)
    axes[2].legend(fontsize=8, loc="upper right")
    axes[2].set_ylabel("lip gap")
    base = curves[0][1]
    axes[3].imshow(
        base.visemes.T,
        aspect="auto",
        origin="lower",
        cmap="Greys",
        interpolation="nearest",
        extent=(0, base.frames / base.fps, -0.5, len(VISEMES) - 0.5),
    )
    axes[3].set_yticks(range(len(VISEMES)), VISEMES, fontsize=7)
    axes[3].set_xlabel("seconds")
    for ax in axes[1:]:
        for p in phones:
            ax.axvline(p.start, color="0.85", lw=0.5, zorder=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from .corpus import engine

    parser = argparse.ArgumentParser(prog="build.py teacher-plots")
    parser.add_argument("--out", type=Path, default=Path("out/teacher"))
    parser.add_argument("--fps", type=float, default=50.0)
    args = parser.parse_args(argv)
    contrast = Style(jaw=1.6, lips=1.5, articulation=1.0, anticipation_ms=120.0)
    for k, (eng, voice, text) in enumerate(SENTENCES):
        synth = engine(eng).synth(text, voice)
        loud = teacher.loudness_envelope(synth.audio, synth.sr)
        curves = [
            (name, teacher.render(synth.phones, args.fps, style, loud, synth.duration))
            for name, style in (("natural", Style()), ("crisp+big", contrast))
        ]
        path = args.out / f"teacher_{k}_{eng}.png"
        plot_teacher(synth.audio, synth.sr, synth.phones, curves, f"{synth.voice}: {text}", path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
