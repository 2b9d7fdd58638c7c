"""Reproducible randomness: one independent stream per purpose and day, and ids drawn from it.

Every stream is a PCG64 generator seeded from (world seed, purpose, day). Deriving streams instead
of sharing one generator keeps sources independent: changing how email behaves never shifts a web
event, and a day can be regenerated without replaying the days before it.
"""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def stream(seed: int, purpose: str, day: int | None = None) -> np.random.Generator:
    """The generator for one purpose (and optionally one simulated day) of a world."""
    # crc32, not hash(): str hashes are salted per process and would break reproducibility.
    entropy = [seed, zlib.crc32(purpose.encode())]
    if day is not None:
        entropy.append(day)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def hex_ids(rng: np.random.Generator, n: int, width: int = 16, prefix: str = "") -> pa.Array:
    """``n`` random lowercase hex ids of ``width`` digits, built straight into an Arrow buffer."""
    if width % 2:
        raise ValueError("width must be even: each random byte gives two hex digits")
    raw = np.frombuffer(rng.bytes(n * width // 2), dtype=np.uint8).reshape(n, width // 2)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    chars = np.empty((n, len(head) + width), dtype=np.uint8)
    chars[:, : len(head)] = head
    chars[:, len(head) :: 2] = _HEX_DIGITS[raw >> 4]
    chars[:, len(head) + 1 :: 2] = _HEX_DIGITS[raw & 0x0F]
    offsets = np.arange(n + 1, dtype=np.int64) * chars.shape[1]
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())
    ).cast(pa.string())


def weighted_choice(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Indices into ``weights`` drawn in proportion to them."""
    cumulative = np.cumsum(weights, dtype=np.float64)
    picks = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return np.minimum(picks, len(weights) - 1)
