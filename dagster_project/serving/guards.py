"""API keys and a per-key rate limit.

Keys come from ``JOURNEY_API_KEYS`` (comma-separated) and are compared in constant time. Each
key has a token bucket: ``rate`` requests a second on average, bursts up to ``burst``. Log lines
and metrics name a key by a short digest, never the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time

API_KEYS_ENV = "JOURNEY_API_KEYS"
RATE_ENV = "JOURNEY_API_RATE"  # requests per second per key
DEFAULT_RATE = 2000.0


def keys_from_environment() -> tuple[str, ...]:
    raw = os.environ.get(API_KEYS_ENV, "")
    return tuple(k.strip() for k in raw.split(",") if k.strip())


def rate_from_environment() -> float:
    return float(os.environ.get(RATE_ENV) or DEFAULT_RATE)


def key_label(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


class ApiKeys:
    def __init__(self, keys: tuple[str, ...]):
        self._keys = tuple(k.encode() for k in keys)

    def __len__(self) -> int:
        return len(self._keys)

    def known(self, key: str) -> bool:
        given = key.encode()
        found = False
        for k in self._keys:  # every key compared, so timing says nothing of which matched
            found |= hmac.compare_digest(given, k)
        return found


class RateLimiter:
    """A token bucket per key; ``allow`` answers 0 when allowed, else seconds to wait."""

    def __init__(self, rate: float, burst: float | None = None):
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
