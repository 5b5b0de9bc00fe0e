"""flite 2.2 voices with segment end times from ``flite -psdur``.

``-psdur`` prints ``phone:end_time`` for every segment of the synthesis plan
(CMU radio phone set, like Festival).  CG voices end exactly at the wav length;
kal's final pause runs ~0.1 s past the file, which ``clean_timeline`` trims.
One process per sentence is cheap here (kal16 ~250x real time).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import soundfile as sf

from .base import EngineError, RawLabel, Synth, make_synth, synth_each

ENGINE = "flite"
VOICES = ("kal16", "slt", "rms", "awb")
"""Distinct usable speakers (``kal`` is kal16 at 8 kHz; ``awb_time`` is a talking clock)."""
_TIMEOUT_S = 60.0
_FEATURES = {"stretch": "duration_stretch", "f0_mean": "int_f0_target_mean", "f0_std": "int_f0_target_stddev"}
"""Parameters -> flite voice features (``--setf``); the labels follow them."""


def parse_psdur(output: str) -> list[RawLabel]:
    """``pau:0.184 dh:0.236 ...`` -> [(label, start, end), ...]."""
    raw: list[RawLabel] = []
    prev = 0.0
    for token in output.split():
        label, _, end = token.rpartition(":")
        if not label:
            raise EngineError(f"unexpected flite output {token!r}")
        raw.append((label, prev, float(end)))
        prev = float(end)
    return raw


class Flite:
    """flite voices ``kal16`` (diphone), ``slt``, ``rms``, ``awb`` (clustergen), 16 kHz.

    Parameters: ``stretch`` (duration_stretch, >1 is slower), ``f0_mean`` and
    ``f0_std`` (Hz; kal16 follows them fully, the CG voices only partly).
    """

    name = ENGINE

    def __init__(self, binary: str = "flite") -> None:
        self.binary = binary

    def voices(self) -> list[str]:
        """Voice names accepted by ``synth``."""
        return list(VOICES)

    def synth(self, text: str, voice: str = "slt", **params: Any) -> Synth:
        """Synthesise ``text`` with ``voice`` (see ``VOICES``) and optional parameters."""
        if voice not in VOICES:  # flite itself silently falls back to kal
            raise EngineError(f"unknown flite voice {voice!r}; use one of {list(VOICES)}")
        unknown = set(params) - set(_FEATURES)
        if unknown:
            raise EngineError(f"flite does not take {sorted(unknown)}; it takes {sorted(_FEATURES)}")
        used = {name: float(value) for name, value in params.items()}
        setf = [arg for name, value in used.items() for arg in ("--setf", f"{_FEATURES[name]}={value:g}")]
        text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
        if not text:
            raise EngineError("flite: nothing to say")
        with tempfile.TemporaryDirectory(prefix="lipsync-flite-") as tmp:
            wav = Path(tmp) / "out.wav"
            stdout = self._run(["-voice", voice, *setf, "-psdur", "-t", text, "-o", str(wav)])
            try:
                audio, sr = sf.read(str(wav), dtype="float32", always_2d=False)
            except (RuntimeError, OSError) as exc:
                raise EngineError(f"flite:{voice} wrote no readable wav: {exc}") from exc
        return make_synth(
            audio,
            sr,
            parse_psdur(stdout),
            engine=ENGINE,
            voice=voice,
            lang="en-us",
            params=used,
            arpabet=True,
        )

    def _run(self, args: list[str]) -> str:
        try:
            done = subprocess.run(
                [self.binary, *args], capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
            )
        except FileNotFoundError as exc:
            raise EngineError(f"{self.binary} not found: apt-get install flite") from exc
        except subprocess.TimeoutExpired as exc:
            raise EngineError("flite timed out") from exc
        if done.returncode != 0:
            raise EngineError(f"flite failed ({done.returncode}): {done.stderr.strip()[:200]}")
        return done.stdout

    def synth_many(
        self, texts: list[str], voice: str, params_list: list[dict[str, Any]] | None = None
    ) -> list[Synth | EngineError]:
        """One ``synth`` per text; failures are returned in place as ``EngineError``."""
        return synth_each(self, texts, voice, params_list)
