"""Training batches drawn ahead of the optimiser, in a thread or in worker processes.

Drawing a batch (crops, teacher targets under random styles, the augmentation chain)
is numpy work on the CPU: about 0.4 s for 32 windows of 4 s on one core.  On this
project's 2-core machine one background thread keeps up with the network; a GPU
trains many times faster and would sit waiting, so there ``workers`` processes draw
batches in parallel.

Batch ``i`` of a run comes from its own generator, seeded by ``(seed, i)``: the
stream is the same whatever the number of workers, and a resumed run needs only its
step count to carry on where it stopped.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dataset import CorpusWindows


@dataclass(frozen=True)
class BatchSource:
    """What a worker needs to draw batches on its own: the corpus split and the draw settings."""

    corpus: Path
    window_s: float
    augment: float
    other_languages: float | None
    batch: int
    seed: int
    recipe_shares: tuple[tuple[str, float], ...] = ()  # (recipe, share of the draws) pairs
    breath_edges: float = 0.0  # share of augmentation breaths put at a speech edge
    loud_sounds: float = 0.0  # share of pauses given a loud cough or sniff
    joined: float = 0.0  # share of windows cut from utterances of one voice joined end to end

    def windows(self) -> CorpusWindows:
        return CorpusWindows(
            self.corpus,
            "train",
            window_s=self.window_s,
            augment=self.augment,
            other_languages=self.other_languages,
            recipe_shares=dict(self.recipe_shares),
            breath_edges=self.breath_edges,
            loud_sounds=self.loud_sounds,
            joined=self.joined,
        )

    def draw(self, windows: CorpusWindows, index: int) -> dict[str, np.ndarray]:
        return windows.batch(np.random.default_rng([self.seed, index]), self.batch)


_worker: tuple[BatchSource, CorpusWindows] | None = None  # this process's source, set once per worker


def _start_worker(source: BatchSource, windows: CorpusWindows | None = None) -> None:
    global _worker
    _worker = (source, windows if windows is not None else source.windows())


def _draw(index: int) -> dict[str, np.ndarray]:
    source, windows = _worker
    return source.draw(windows, index)


def default_workers(device: str) -> int:
    """Worker processes for ``device``: none on a CPU (the network needs the cores), else all but one core."""
    return 0 if device == "cpu" else max(1, (os.cpu_count() or 2) - 1)


def batches(
    source: BatchSource, start: int, stop: int, workers: int = 0, windows: CorpusWindows | None = None
) -> Iterator[dict[str, np.ndarray]]:
    """Batches ``start`` .. ``stop - 1`` in order, drawn ahead: by one background thread when
    ``workers`` is 0 (from ``windows`` when given: ``source.windows()`` already loaded), else by
    that many processes (each with its own copy of the corpus index)."""
    if workers < 0:
        raise ValueError(f"workers must be 0 or more, got {workers}")
    executor: Executor
    if workers == 0:
        executor, ahead = ThreadPoolExecutor(1, initializer=_start_worker, initargs=(source, windows)), 1
    else:
        # spawn: the parent may hold CUDA and torch threads, which a forked child must not inherit
        context = multiprocessing.get_context("spawn")
        executor = ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(source,))
        ahead = 2 * workers
    with executor:
        pending: deque = deque()
        next_index = start
        try:
            while next_index < stop or pending:
                while next_index < stop and len(pending) < ahead:
                    pending.append(executor.submit(_draw, next_index))
                    next_index += 1
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
