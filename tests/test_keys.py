"""Keyframe selection: the error bound holds, smooth curves need few keys, stepped keys hold."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from blender_lipsync.core.keys import hold_steps, max_key_error, reduce_keys, stepped_keys


def speech_like(frames: int, seed: int, sigma: float = 3.0) -> np.ndarray:
    """Smooth bumps clipped to [0, 1] with flat silences, like a mouth channel at 24-50 fps."""
    rng = np.random.default_rng(seed)
    return np.clip(gaussian_filter1d(rng.random(frames), sigma) * 4 - 1.5, 0, 1)


def redraw(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """What Blender's LINEAR interpolation shows between the keys (independent of keys.py)."""
    return np.interp(np.arange(len(values)), keys, np.asarray(values, dtype=np.float64)[keys])


def check_keys(values: np.ndarray, keys: np.ndarray) -> None:
    assert keys.dtype.kind == "i"
    assert keys[0] == 0 and keys[-1] == len(values) - 1
    assert np.all(np.diff(keys) > 0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("tolerance", [0.001, 0.01, 0.05])
def test_error_bound_holds_on_smooth_and_noisy_signals(seed: int, tolerance: float) -> None:
    rng = np.random.default_rng(100 + seed)
    smooth = speech_like(3000, seed)
    noisy = smooth + rng.normal(0, 0.03, smooth.shape)
    walk = np.cumsum(rng.normal(0, 0.05, 3000))
    for values in (smooth, noisy, walk):
        keys = reduce_keys(values, tolerance)
        check_keys(values, keys)
        assert np.abs(redraw(values, keys) - values).max() <= tolerance + 1e-12
        assert max_key_error(values, keys) <= tolerance + 1e-12


def test_smooth_curves_need_few_keys() -> None:
    t = np.arange(2400) / 24.0
    sine = 0.5 + 0.4 * np.sin(2 * np.pi * 0.25 * t)  # a slow 4 s oscillation at 24 fps
    assert len(reduce_keys(sine, 0.01)) < 0.12 * len(sine)
    speech = speech_like(2400, 1, sigma=4.0)
    assert len(reduce_keys(speech, 0.05)) < 0.2 * len(speech)
    # a looser tolerance never needs more keys on the same curve
    assert len(reduce_keys(speech, 0.05)) < len(reduce_keys(speech, 0.01))


def test_noise_below_the_tolerance_is_not_keyed() -> None:
    rng = np.random.default_rng(3)
    ramp = np.linspace(0.2, 0.8, 5000) + rng.uniform(-0.004, 0.004, 5000)
    keys = reduce_keys(ramp, 0.01)
    assert len(keys) <= 5
    assert max_key_error(ramp, keys) <= 0.01


@pytest.mark.parametrize("values", [np.full(500, 0.3), np.zeros(10_000), np.linspace(0, 1, 800)])
def test_constant_and_straight_signals_give_two_keys(values: np.ndarray) -> None:
    np.testing.assert_array_equal(reduce_keys(values, 0.001), [0, len(values) - 1])


def test_corners_and_jumps_are_keyed_exactly() -> None:
    triangle = np.r_[np.linspace(0, 1, 21), np.linspace(1, 0, 21)[1:]]
    np.testing.assert_array_equal(reduce_keys(triangle, 1e-6), [0, 20, 40])
    step = np.r_[np.zeros(30), np.ones(30)]
    np.testing.assert_array_equal(reduce_keys(step, 0.0), [0, 29, 30, 59])


@pytest.mark.parametrize(("n", "expected"), [(0, []), (1, [0]), (2, [0, 1])])
def test_tiny_inputs(n: int, expected: list[int]) -> None:
    np.testing.assert_array_equal(reduce_keys(np.arange(n, dtype=float) ** 2, 0.0), expected)


def test_hundred_thousand_frames_are_fast() -> None:
    values = speech_like(100_000, 7) + np.random.default_rng(7).normal(0, 0.01, 100_000)
    started = time.perf_counter()
    keys = reduce_keys(values, 0.01)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"{elapsed:.2f} s for 100k frames"  # ~0.15 s alone; generous for a busy CI
    assert max_key_error(values, keys) <= 0.01


@pytest.mark.parametrize(
    ("values", "tolerance"), [(np.ones((4, 2)), 0.1), (np.array([0, np.nan, 1]), 0.1), (np.ones(4), -0.1)]
)
def test_bad_inputs_are_refused(values: np.ndarray, tolerance: float) -> None:
    with pytest.raises(ValueError):
        reduce_keys(values, tolerance)


def test_stepped_keys() -> None:
    np.testing.assert_array_equal(stepped_keys(9, 2), [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(stepped_keys(9, 3), [0, 3, 6])
    np.testing.assert_array_equal(stepped_keys(4, 1), [0, 1, 2, 3])
    assert len(stepped_keys(0, 2)) == 0
    with pytest.raises(ValueError):
        stepped_keys(10, 0)


def test_hold_steps_shows_each_key_until_the_next() -> None:
    values = np.arange(7, dtype=float) * 0.1
    np.testing.assert_allclose(hold_steps(values, 2), [0, 0, 0.2, 0.2, 0.4, 0.4, 0.6])
    np.testing.assert_allclose(hold_steps(values, 1), values)
    two_channels = np.stack([values, 1 - values], axis=1)
    held = hold_steps(two_channels, 3)
    assert held.shape == two_channels.shape
    np.testing.assert_allclose(held[:, 1], [1, 1, 1, 0.7, 0.7, 0.7, 0.4])
    # the held curve agrees with the source on every stepped key
    keys = stepped_keys(len(values), 3)
    np.testing.assert_allclose(held[keys], two_channels[keys])
