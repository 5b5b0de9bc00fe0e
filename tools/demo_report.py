"""Pictures of the demo run: a contact sheet of the rendered frames and a plot of the curves.

    .venv/py311/bin/python tools/demo_report.py [--out out/demo]

Reads ``curves.json`` and ``frames/`` written by ``tools/demo_scene.py`` and writes
``preview.png`` (each rendered frame with its time, phone and mouth values under it) and
``curves.png`` (jawOpen, mouthClose, mouthFunnel, mouthPucker, mouthSmileLeft and the lip
aperture over time, with the clip's phones along the time axis).  Needs matplotlib and
Pillow, not Blender.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from blender_lipsync.core.contract import CLOSED_LIPS_APERTURE, MOUTH_CHANNELS, lip_aperture  # noqa: E402

PLOTTED = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft")
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:olive")
BILABIALS = frozenset({"p", "b", "m"})


def load(out: Path) -> dict:
    return json.loads((out / "curves.json").read_text())


def channel_matrix(doc: dict) -> np.ndarray:
    """(frames, 29) values in MOUTH_CHANNELS order; channels the head did not key stay 0."""
    frames = len(doc["frames"])
    keys = doc["shape_keys"]
    return np.stack([np.asarray(keys.get(name, np.zeros(frames)), float) for name in MOUTH_CHANNELS], axis=1)


def values_at(doc: dict, channels: np.ndarray, frame: int) -> tuple[float, float, float]:
    """(jawOpen, mouthClose, lip aperture) at a scene frame."""
    i = doc["frames"].index(frame)
    row = channels[i]
    return row[MOUTH_CHANNELS.index("jawOpen")], row[MOUTH_CHANNELS.index("mouthClose")], lip_aperture(row)


def image_sheet(cells: list[tuple[Path, str]], title: str, path: Path, columns: int = 4) -> Path:
    """A grid of images, each with a (multi-line) caption under it."""
    rows = -(-len(cells) // columns)
    lines = max(caption.count("\n") + 1 for _, caption in cells)
    cell, caption_h, title_h = 2.5, 0.2 + 0.15 * lines, 0.45  # inches
    height = title_h + rows * (cell + caption_h)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, height), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (image, caption) in zip(axes.ravel(), cells, strict=False):
        ax.imshow(Image.open(image).convert("RGB"))
        ax.text(0.5, -0.02, caption, transform=ax.transAxes, ha="center", va="top", fontsize=8.5)
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(
        left=0.01,
        right=0.99,
        top=1 - title_h / height,
        bottom=caption_h / height,
        wspace=0.04,
        hspace=caption_h / cell,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def contact_sheet(doc: dict, out: Path) -> Path:
    """``preview.png``: the rendered frames in a grid, each captioned with time, phone and values."""
    shots = doc["renders"]
    if not shots:
        raise SystemExit("no rendered frames in curves.json: run demo_scene.py with --frames > 0")
    channels = channel_matrix(doc)
    cells = []
    for shot in shots:
        jaw, close, aperture = values_at(doc, channels, shot["frame"])
        state = "closed" if aperture < CLOSED_LIPS_APERTURE else "open"
        cells.append(
            (
                out / shot["file"],
                f"{shot['time']:.2f} s  /{shot['phone']}/  ({shot['category']})\n"
                f"frame {shot['frame']}  jaw {jaw:.2f}  close {close:.2f}\n"
                f"lip aperture {aperture:.2f} ({state})",
            )
        )
    return image_sheet(cells, f"“{doc['text']}”", out / "preview.png")


def pose_sheet(out: Path) -> Path | None:
    """``poses.png`` from ``poses/pose_*.png`` (hand-set shape keys: tools/demo_head.py), if there."""
    images = sorted((out / "poses").glob("pose_*.png"), key=lambda p: p.stat().st_mtime)
    if not images:
        return None
    cells = [(image, image.stem.removeprefix("pose_")) for image in images]
    return image_sheet(cells, "demo head, shape keys set by hand", out / "poses.png")


def phone_axis(ax, phones: list, top: float) -> None:
    """Grid lines at phone boundaries, labels at phone centres, /p b m/ shaded."""
    for label, start, end in phones:
        ax.axvline(start, color="0.85", lw=0.6, zorder=0)
        if label in BILABIALS:
            ax.axvspan(start, end, color="tab:red", alpha=0.12, lw=0, zorder=0)
        shown = "" if label == "_" else label
        ax.text(
            (start + end) / 2,
            top,
            shown,
            ha="center",
            va="bottom",
            fontsize=8.5,
            color="tab:red" if label in BILABIALS else "0.2",
        )


def curves_plot(doc: dict, out: Path) -> Path:
    """``curves.png``: the main mouth channels and the lip aperture over time, phones on top."""
    times = np.asarray(doc["times"])
    channels = channel_matrix(doc)
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(13, 6.2), sharex=True, gridspec_kw={"height_ratios": [2.2, 1]}
    )
    for name, color in zip(PLOTTED, COLORS, strict=True):
        ax.plot(times, channels[:, MOUTH_CHANNELS.index(name)], color=color, lw=1.6, label=name)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("shape-key value")
    phone_axis(ax, doc["phones"], 1.01)
    ax.legend(loc="upper right", fontsize=8.5, ncol=len(PLOTTED), framealpha=0.9)
    aperture = lip_aperture(channels)
    ax2.plot(times, aperture, color="black", lw=1.6, label="lip aperture")
    ax2.axhline(CLOSED_LIPS_APERTURE, color="tab:red", ls="--", lw=0.9, label="closed below")
    for label, start, _end in doc["phones"]:
        ax2.axvline(start, color="0.85", lw=0.6, zorder=0)
        if label in BILABIALS:
            ax2.axvspan(start, _end, color="tab:red", alpha=0.12, lw=0, zorder=0)
    for shot in doc["renders"]:
        ax2.axvline(shot["time"], color="tab:blue", ls=":", lw=1.0)
    ax2.set_ylim(0.0, max(0.6, float(aperture.max()) * 1.1))
    ax2.set_ylabel("lip aperture")
    ax2.set_xlabel("time (s)   ·   dotted: rendered frames   ·   red: /p b m/")
    ax2.legend(loc="upper right", fontsize=8.5)
    ax2.set_xlim(times[0], times[-1])
    fig.suptitle(f"{doc['report']}", fontsize=9, y=0.995)
    fig.tight_layout()
    path = out / "curves.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "demo")
    args = parser.parse_args(argv)
    doc = load(args.out)
    for path in (contact_sheet(doc, args.out), curves_plot(doc, args.out), pose_sheet(args.out)):
        if path:
            print(path)


if __name__ == "__main__":
    main()
