"""Offline speech engines that return audio together with exact phone timings.

    from lipsync_train.engines import load_engine
    s = load_engine("festival").synth("Bob may buy a map.", "slt")
    s.audio, s.sr, s.phones          # float32, native rate, canonical contiguous timeline

Engines: ``espeak`` (ctypes, ~25 voices x 101 variants), ``festival`` (kal, ked, slt),
``flite`` (kal16, slt, rms, awb), ``piper`` (joe), ``kokoro`` (five neural voice packs
and their mixes).  Heavy modules load on demand.
"""

from __future__ import annotations

from typing import Any

from .base import Engine, EngineError, LabelError, Synth

ENGINE_NAMES = ("espeak", "festival", "flite", "piper", "kokoro")

__all__ = ["ENGINE_NAMES", "Engine", "EngineError", "LabelError", "Synth", "load_engine"]


def load_engine(name: str, **kwargs: Any) -> Engine:
    """An engine by name; ``kwargs`` go to its constructor.

    ``espeak`` returns the process-wide instance (the library is global state).
    """
    if name == "espeak":
        from .espeak import get_espeak

        return get_espeak(**kwargs)
    if name == "festival":
        from .festival import Festival

        return Festival(**kwargs)
    if name == "flite":
        from .flite import Flite

        return Flite(**kwargs)
    if name == "piper":
        from .piper import Piper

        return Piper(**kwargs)
    if name == "kokoro":
        from .kokoro import Kokoro

        return Kokoro(**kwargs)
    raise ValueError(f"unknown engine {name!r}; use one of {ENGINE_NAMES}")
