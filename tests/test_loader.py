"""Training batches: the same stream from a thread or from worker processes, and on resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lipsync_train.loader import BatchSource, batches, default_workers


def _source(corpus: Path, seed: int = 3) -> BatchSource:
    return BatchSource(corpus, window_s=1.0, augment=0.8, other_languages=None, batch=2, seed=seed)


def _assert_same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for name in x:
            np.testing.assert_array_equal(x[name], y[name], err_msg=name)


@pytest.mark.slow
def test_worker_processes_draw_the_threads_stream_and_resume_mid_way(tiny_corpus: Path) -> None:
    in_thread = list(batches(_source(tiny_corpus), 0, 4, workers=0))
    assert len(in_thread) == 4 and in_thread[0]["audio"].shape == (2, 16000)
    assert not np.array_equal(in_thread[0]["audio"], in_thread[1]["audio"])  # each step its own draw
    _assert_same(list(batches(_source(tiny_corpus), 0, 4, workers=2)), in_thread)
    _assert_same(list(batches(_source(tiny_corpus), 2, 4, workers=0)), in_thread[2:])  # a resumed run
    other_seed = next(batches(_source(tiny_corpus, seed=4), 0, 1))
    assert not np.array_equal(other_seed["style"], in_thread[0]["style"])


def test_stopping_early_and_bad_worker_counts(tiny_corpus: Path) -> None:
    stream = batches(_source(tiny_corpus), 0, 100)
    assert next(stream)["audio"].shape == (2, 16000)
    stream.close()  # what an early stop does: the background work is cancelled, nothing hangs
    with pytest.raises(ValueError, match="workers"):
        next(batches(_source(tiny_corpus), 0, 1, workers=-1))
    assert default_workers("cpu") == 0 and default_workers("cuda") >= 1
