"""Counters and latency histograms in the Prometheus text format (no client library needed)."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS_MS = (0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self._hist: dict[str, list[float]] = {}
        self._gauges: dict[str, float] = {}

    def count(self, name: str, value: float = 1, **labels: str) -> None:
        with self._lock:
            self._counters[(name, tuple(sorted(labels.items())))] += value

    def observe_ms(self, route: str, ms: float) -> None:
        with self._lock:
            hist = self._hist.setdefault(route, [0.0] * (len(BUCKETS_MS) + 2))
            for i, bound in enumerate(BUCKETS_MS):
                if ms <= bound:
                    hist[i] += 1
            hist[-2] += 1  # count
            hist[-1] += ms  # sum

    def gauge(self, name: str, value: float) -> None:
        with self._lock:
            self._gauges[name] = value

    def render(self) -> str:
        lines = []
        with self._lock:
            names = sorted({n for n, _ in self._counters})
            for name in names:
                lines.append(f"# TYPE {name} counter")
                for (n, labels), value in sorted(self._counters.items()):
                    if n == name:
                        text = ",".join(f'{k}="{v}"' for k, v in labels)
                        lines.append(f"{name}{{{text}}} {value:g}")
            lines.append("# TYPE journey_request_duration_ms histogram")
            for route, hist in sorted(self._hist.items()):
                for bound, count in zip(BUCKETS_MS, hist, strict=False):
                    lines.append(
                        f'journey_request_duration_ms_bucket{{route="{route}",le="{bound:g}"}} '
                        f"{count:g}"
                    )
                lines.append(
                    f'journey_request_duration_ms_bucket{{route="{route}",le="+Inf"}} {hist[-2]:g}'
                )
                lines.append(f'journey_request_duration_ms_count{{route="{route}"}} {hist[-2]:g}')
                lines.append(f'journey_request_duration_ms_sum{{route="{route}"}} {hist[-1]:g}')
            for name, value in sorted(self._gauges.items()):
                lines.append(f"# TYPE {name} gauge")
                lines.append(f"{name} {value:g}")
        return "\n".join(lines) + "\n"
