"""Festival 2.5 voices (kal, ked diphone; slt HTS) with their Segment relation as labels.

The Segment relation is Festival's synthesis plan, so its times are the ground truth
of the audio (slt: exact, 5 ms frames; diphone voices: the last pause may overrun the
wav by ~25 ms, which ``clean_timeline`` trims).  Starting festival costs ~0.3 s, so
``synth_many`` runs one festival process for a whole batch: a generated Scheme script
writes one wav + label file per utterance.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from .base import EngineError, RawLabel, Synth, make_synth

ENGINE = "festival"


@dataclass(frozen=True)
class _Voice:
    command: str  # Scheme function that selects the voice
    diphone: bool  # diphone voices honour Duration_Stretch and the F0 targets
    f0_mean: float = 0.0  # voice defaults for the diphone F0 model
    f0_std: float = 0.0
    stretch: float = 1.0


VOICES: dict[str, _Voice] = {
    "kal": _Voice("voice_kal_diphone", True, 105.0, 14.0, 1.1),
    "ked": _Voice("voice_ked_diphone", True, 105.0, 15.0, 1.1),
    "slt": _Voice("voice_cmu_us_slt_arctic_hts", False),
}
"""Usable English voices (Debian festvox-kallpc16k, festvox-kdlpc16k, festvox-us-slt-hts)."""

_PRELUDE = """
(define (lipsync_dump utt wavfile labfile)
  (utt.save.wave utt wavfile 'riff)
  (set! fd (fopen labfile "w"))
  (mapcar (lambda (seg)
            (format fd "%s %f %f\\n" (item.name seg) (item.feat seg "segment_start")
                    (item.feat seg "end")))
          (utt.relation.items utt 'Segment))
  (fclose fd))
(define (lipsync_fail errfile)
  (set! fd (fopen errfile "w"))
  (fclose fd))
"""
STALL_S = 60.0
"""A festival that finishes no utterance for this long is killed (that utterance fails)."""
_TYPOGRAPHY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": " - ", "…": "..."})


def scheme_string(text: str) -> str:
    """``text`` as a safe Scheme string literal (ASCII, quotes and backslashes escaped).

    Festival's English front end only reads ASCII: accents are stripped, other
    characters dropped, control characters become spaces.
    """
    text = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHY))
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = text.encode("ascii", "ignore").decode("ascii")
    text = " ".join(text.split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _voice(name: str) -> tuple[str, _Voice]:
    key = name.removeprefix("festival:").split("_")[0]
    key = {"cmu": "slt"}.get(key, key)
    if key not in VOICES:
        raise EngineError(f"unknown festival voice {name!r}; use one of {sorted(VOICES)}")
    return key, VOICES[key]


def _resolve_params(voice: _Voice, params: dict[str, Any]) -> dict[str, float]:
    """The parameters actually used (defaults filled in); rejects unknown names."""
    allowed = {"stretch", "f0_mean", "f0_std"} if voice.diphone else {"speed"}
    unknown = set(params) - allowed
    if unknown:
        raise EngineError(f"festival voice does not take {sorted(unknown)}; it takes {sorted(allowed)}")
    if voice.diphone:
        return {
            "stretch": float(params.get("stretch", voice.stretch)),
            "f0_mean": float(params.get("f0_mean", voice.f0_mean)),
            "f0_std": float(params.get("f0_std", voice.f0_std)),
        }
    return {"speed": float(params.get("speed", 1.0))}


def _settings(key: str, used: dict[str, float]) -> str:
    """Scheme that applies one utterance's parameters (set every time: they persist)."""
    if "speed" in used:  # HTS: -r scales the generated durations; labels follow
        return (
            f"(set! hts_engine_params (append cmu_us_slt_arctic_hts::hts_engine_params "
            f'\'(("-r" {used["speed"]:.4f}))))'
        )
    model_mean, model_std = 170, 34  # the f2b F0 model both diphone voices use
    return (
        f"(Parameter.set 'Duration_Stretch {used['stretch']:.4f})\n"
        f"(set! int_lr_params '((target_f0_mean {used['f0_mean']:.2f}) "
        f"(target_f0_std {used['f0_std']:.2f}) (model_f0_mean {model_mean}) "
        f"(model_f0_std {model_std})))"
    )


def _script(key: str, items: list[tuple[int, str, dict[str, float]]], work: Path) -> str:
    lines = [_PRELUDE, f"({VOICES[key].command})"]
    for index, text, used in items:
        lines.append(_settings(key, used))
        wav, lab, err = (scheme_string(str(work / f"{index}.{ext}")) for ext in ("wav", "lab", "err"))
        utt = f"(utt.synth (Utterance Text {scheme_string(text)}))"
        lines.append(f"(unwind-protect (lipsync_dump {utt} {wav} {lab}) (lipsync_fail {err}))")
    return "\n".join(lines) + "\n"


def _wait_while_progressing(proc: subprocess.Popen[bytes], work: Path, stall_s: float) -> None:
    """Wait for festival to exit; kill it when no utterance has finished for ``stall_s``."""
    count, changed = -1, time.monotonic()
    while True:
        try:
            proc.wait(timeout=0.25)
            return
        except subprocess.TimeoutExpired:
            pass
        now = sum(1 for p in work.iterdir() if p.suffix in (".lab", ".err"))
        if now != count:
            count, changed = now, time.monotonic()
        elif time.monotonic() - changed > stall_s:
            proc.kill()
            proc.wait()
            return


def read_labels(path: Path) -> list[RawLabel]:
    """A label file written by the script: ``name start end`` per segment."""
    raw = []
    for line in path.read_text().splitlines():
        name, start, end = line.split()
        raw.append((name, float(start), float(end)))
    return raw


class Festival:
    """Festival voices ``kal``, ``ked`` (diphone, 16 kHz) and ``slt`` (HTS, 32 kHz).

    Parameters: diphone voices take ``stretch`` (Duration_Stretch, default 1.1),
    ``f0_mean`` and ``f0_std`` (Hz, intonation targets); slt takes ``speed`` (HTS
    ``-r``, >1 is faster; Duration_Stretch and F0 targets do nothing there).
    """

    name = ENGINE

    def __init__(self, binary: str = "festival") -> None:
        self.binary = binary

    def voices(self) -> list[str]:
        """Voice names accepted by ``synth``."""
        return list(VOICES)

    def synth(self, text: str, voice: str = "kal", **params: Any) -> Synth:
        """Synthesise one utterance (starts one festival process; prefer ``synth_many``)."""
        result = self.synth_many([text], voice, [params])[0]
        if isinstance(result, EngineError):
            raise result
        return result

    def synth_many(
        self, texts: list[str], voice: str, params_list: list[dict[str, Any]] | None = None
    ) -> list[Synth | EngineError]:
        """Synthesise many utterances in one festival process.

        Returns one entry per text, in order: a ``Synth`` or the ``EngineError`` that
        says why that text failed (callers skip those).  A festival crash only costs
        the utterance it crashed on: the rest is re-run in a new process.
        """
        key, spec = _voice(voice)
        params_list = params_list or [{} for _ in texts]
        if len(params_list) != len(texts):
            raise ValueError("params_list must have one dict per text")
        used = [_resolve_params(spec, p) for p in params_list]
        results: list[Synth | EngineError | None] = [None] * len(texts)
        pending = []
        for i, text in enumerate(texts):
            if scheme_string(text) == '""':
                results[i] = EngineError(f"festival: nothing to say in {text!r}")
            else:
                pending.append(i)
        with tempfile.TemporaryDirectory(prefix="lipsync-festival-") as tmp:
            while pending:
                self._run(key, [(i, texts[i], used[i]) for i in pending], Path(tmp))
                pending = self._collect(key, texts, used, pending, Path(tmp), results)
        return [r if r is not None else EngineError("festival produced nothing") for r in results]

    def _run(self, key: str, items: list[tuple[int, str, dict[str, float]]], work: Path) -> None:
        script = work / "batch.scm"
        script.write_text(_script(key, items, work), encoding="ascii")
        with open(work / "festival.log", "wb") as log:
            try:
                proc = subprocess.Popen(
                    [self.binary, "-b", str(script)], cwd=work, stdout=log, stderr=subprocess.STDOUT
                )
            except FileNotFoundError as exc:
                raise EngineError(f"{self.binary} not found: apt-get install festival") from exc
            _wait_while_progressing(proc, work, STALL_S)

    def _collect(
        self,
        key: str,
        texts: list[str],
        used: list[dict[str, float]],
        pending: list[int],
        work: Path,
        results: list[Synth | EngineError | None],
    ) -> list[int]:
        """Fill ``results`` from the files written; return the indices still to run."""
        for n, i in enumerate(pending):
            wav, lab = work / f"{i}.wav", work / f"{i}.lab"
            if (work / f"{i}.err").exists():
                results[i] = EngineError(f"festival:{key} could not synthesise {texts[i]!r}")
                continue
            if not lab.exists():
                # festival stopped here: this item killed it (or hung); re-run the rest
                results[i] = EngineError(f"festival:{key} failed on {texts[i]!r}")
                return pending[n + 1 :]
            try:
                audio, sr = sf.read(str(wav), dtype="float32", always_2d=False)
                results[i] = make_synth(
                    audio,
                    sr,
                    read_labels(lab),
                    engine=ENGINE,
                    voice=key,
                    lang="en-us",
                    params=used[i],
                    arpabet=True,
                )
            except (EngineError, ValueError, RuntimeError) as exc:
                results[i] = exc if isinstance(exc, EngineError) else EngineError(str(exc))
        return []
