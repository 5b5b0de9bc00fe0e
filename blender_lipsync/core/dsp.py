"""Numpy-only signal helpers: replacements for the two scipy.signal functions the core
needs, and the runs of a boolean signal.

Blender bundles numpy but not scipy, so the shipped core cannot import it. Both scipy
replacements reproduce scipy's default behaviour (tests/test_dsp.py checks them against
scipy): both agree with it to ~1e-14 in float64.
"""

from __future__ import annotations

from math import gcd

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

KAISER_BETA = 5.0  # scipy.signal.resample_poly's default window=("kaiser", 5.0)
# Block limits that keep resample_poly's float64 scratch to tens of MB whatever the length.
_BLOCK_OUTPUTS = 1 << 16
_BLOCK_INPUTS = 1 << 20  # input samples a block may span (matters for large down / up)
_MAX_LOOPED_PHASES = 1024  # above this many phases, gather instead of looping over them


def true_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, stops) of the runs of True in a 1-D boolean array, ``stops`` exclusive."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask, np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def lowpass_kaiser(num_taps: int, cutoff: float, beta: float = KAISER_BETA) -> np.ndarray:
    """scipy.signal.firwin(num_taps, cutoff, window=("kaiser", beta)): cutoff relative to Nyquist."""
    m = np.arange(num_taps, dtype=np.float64) - 0.5 * (num_taps - 1)
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(num_taps, beta)
    return h / h.sum()  # firwin scales the passband (DC) gain to exactly 1


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """Resample a 1-D signal by ``up / down`` like scipy.signal.resample_poly with its defaults.

    The signal is (conceptually) upsampled by ``up`` with zeros, filtered by a Kaiser
    lowpass of 2 * 10 * max(up, down) + 1 taps and kept every ``down``-th sample, with
    the filter delay removed; the output has ``ceil(len(x) * up / down)`` samples.
    Only the taps that meet real samples are computed (polyphase), in blocks of
    outputs, so scratch memory stays under a few tens of MB whatever the length.
    Float input keeps its dtype; anything else comes back as float64.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"resample_poly needs a 1-D signal, got shape {x.shape}")
    up, down = int(up), int(down)
    if up < 1 or down < 1:
        raise ValueError("up and down must be >= 1")
    g = gcd(up, down)
    up, down = up // g, down // g
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    if up == down == 1:
        return x.astype(out_dtype, copy=True)
    n_in = len(x)
    n_out = -(-n_in * up // down)
    out = np.zeros(n_out, dtype=out_dtype)
    if n_out == 0:
        return out

    half_len = 10 * max(up, down)
    h = lowpass_kaiser(2 * half_len + 1, 1.0 / max(up, down)) * up
    # Output n is sum_i x[i] * h[n*down + half_len - i*up] (scipy's delay compensation
    # worked out). With c = n*down + half_len, only taps h[c % up + m*up] meet samples,
    # namely x[c // up - m]: phase c % up selects one row of the polyphase matrix.
    taps = -(-len(h) // up)
    phases = np.zeros(up * taps)
    phases[: len(h)] = h
    # Row p reversed so that a phase is a dot product with the window x[c//up - taps + 1 : c//up + 1].
    phases = phases.reshape(taps, up).T[:, ::-1]

    # Outputs n and n + up share a phase and their windows are `down` samples apart, so each
    # of the `up` residues of n within a block is one matrix-vector product on a strided view.
    # With many phases (odd rates such as 16001 Hz) that Python loop gets long, so then each
    # block gathers its windows and phase rows instead (slower per output, no loop).
    per_block = max(1, min(_BLOCK_OUTPUTS, _BLOCK_INPUTS * up // down, _BLOCK_INPUTS * 2 // taps))
    by_residue = up <= _MAX_LOOPED_PHASES
    block = max(1, per_block // up) * up if by_residue else per_block  # multiple of up: fixed phases
    residues = np.arange(up if by_residue else 0)
    res_phase = (residues * down + half_len) % up
    res_offset = (residues * down + half_len) // up - half_len // up  # window start vs residue 0
    for n0 in range(0, n_out, block):
        n1 = min(n0 + block, n_out)
        start = (n0 * down + half_len) // up - taps + 1  # first input sample of the block
        stop = ((n1 - 1) * down + half_len) // up + 1
        seg = np.zeros(stop - start)  # float64 scratch, zeros stand for samples outside x
        lo, hi = max(start, 0), min(stop, n_in)
        if lo < hi:
            seg[lo - start : hi - start] = x[lo:hi]
        windows = sliding_window_view(seg, taps)
        if by_residue:
            for r in range(min(up, n1 - n0)):
                count = -(-(n1 - n0 - r) // up)
                out[n0 + r : n1 : up] = windows[res_offset[r] :: down][:count] @ phases[res_phase[r]]
        else:
            c = np.arange(n0, n1, dtype=np.int64) * down + half_len
            out[n0:n1] = np.einsum("ij,ij->i", windows[c // up - taps + 1 - start], phases[c % up])
    return out


def savgol_coeffs(window_length: int, polyorder: int) -> np.ndarray:
    """Least-squares smoothing weights, ordered for a dot product with the window (scipy use="dot")."""
    half, odd = divmod(window_length, 2)
    pos = half if odd else half - 0.5  # the window centre, between two samples when even
    t = np.arange(window_length, dtype=np.float64) - pos
    vander = t ** np.arange(polyorder + 1, dtype=np.float64).reshape(-1, 1)
    rhs = np.zeros(polyorder + 1)
    rhs[0] = 1.0  # the fitted polynomial's value at the centre
    return np.linalg.lstsq(vander, rhs, rcond=None)[0]


def savgol_filter(x: np.ndarray, window_length: int, polyorder: int, axis: int = 0) -> np.ndarray:
    """Savitzky-Golay smoothing along ``axis``, like scipy.signal.savgol_filter(..., mode="interp").

    Inside, each sample becomes the value at the window centre of the polynomial
    fitted (least squares) to its window. The first and last ``window_length // 2``
    samples, whose window would leave the signal, instead take the values of the
    polynomial fitted to the first / last full window, so the ends are not dragged
    towards zero. float32 input stays float32; anything else becomes float64.
    """
    x = np.asarray(x)
    out_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    window_length, polyorder = int(window_length), int(polyorder)
    if polyorder >= window_length:
        raise ValueError("polyorder must be less than window_length.")
    n = x.shape[axis]
    if window_length > n:
        raise ValueError("If mode is 'interp', window_length must be less than or equal to the size of x.")
    data = np.moveaxis(x, axis, 0).astype(np.float64)
    shape = data.shape
    data = data.reshape(n, -1)  # (samples, everything else)

    y = np.empty_like(data)
    half = window_length // 2
    # scipy's convolve1d alignment: output i uses the window starting at i - (window_length - 1) // 2.
    # With an even window the first and last outputs written here are replaced by the edge fits below.
    lead = (window_length - 1) // 2
    y[lead : lead + n - window_length + 1] = np.einsum(
        "wcs,s->wc", sliding_window_view(data, window_length, axis=0), savgol_coeffs(window_length, polyorder)
    )
    positions = np.arange(window_length, dtype=np.float64)
    for first, rows in ((0, slice(0, half)), (n - window_length, slice(n - half, n))):
        poly = np.polyfit(positions, data[first : first + window_length], polyorder)
        at = np.arange(rows.start, rows.stop, dtype=np.float64) - first
        y[rows] = np.polyval(poly, at.reshape(-1, 1))
    return np.moveaxis(y.reshape(shape), 0, axis).astype(out_dtype, copy=False)
