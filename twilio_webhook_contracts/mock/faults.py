"""Fault injection: the slowness, rate limits and outages a client must survive.

Off by default. A faulted request is answered *instead of* being processed, so
the state is unchanged and a client's retry is always safe -- the point is to
exercise the client's retry logic, not to corrupt anything. Decisions come from
one seeded random generator behind a lock: the same seed and the same sequence
of requests give the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

__all__ = ["Fault", "FaultInjector", "Faults"]


@dataclass(frozen=True)
class Faults:
    """What to inject.

    ``latency`` seconds are added to every request. Every ``rate_limit_every``-th
    request (and, independently, a ``rate_limit_probability`` share of requests)
    is answered 429 with ``Retry-After: retry_after``. An ``error_rate`` share is
    answered with one of ``error_statuses`` (500 or 503).
    """

    latency: float = 0.0
    rate_limit_every: int = 0
    rate_limit_probability: float = 0.0
    retry_after: int = 1
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, not {self.latency}")
        if self.rate_limit_every < 0:
            raise ValueError(f"rate-limit-every must be >= 0 (0 is off), not {self.rate_limit_every}")
        for name in ("rate_limit_probability", "error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name.replace('_', '-')} must be between 0 and 1, not {value}")
        if self.retry_after < 0:
            raise ValueError(f"retry-after must be >= 0 seconds, not {self.retry_after}")
        if not self.error_statuses or any(s not in (500, 503) for s in self.error_statuses):
            raise ValueError(f"error statuses must be 500 and/or 503, not {list(self.error_statuses)}")

    @property
    def enabled(self) -> bool:
        return bool(self.latency or self.rate_limit_every or self.rate_limit_probability or self.error_rate)


@dataclass(frozen=True)
class Fault:
    """The fault chosen for one request: a delay, and perhaps a status to answer with."""

    delay: float
    status: int | None
    retry_after: int | None
    name: str


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Restart the request count and the random sequence (same seed, same faults)."""
        with self._lock:
            self._count = 0
            self._random = random.Random(self.faults.seed)

    def decide(self) -> Fault | None:
        f = self.faults
        with self._lock:
            self._count += 1
            # Always draw both numbers, so that one request's decision does not
            # shift the random sequence of the next: reproducible per request index.
            limit_draw, error_draw = self._random.random(), self._random.random()
            status_choice = self._random.choice(f.error_statuses)
            rate_limited = (f.rate_limit_every and self._count % f.rate_limit_every == 0) or (
                limit_draw < f.rate_limit_probability
            )
        if rate_limited:
            return Fault(f.latency, 429, f.retry_after, "rate-limit")
        if error_draw < f.error_rate:
            return Fault(f.latency, status_choice, None, f"error-{status_choice}")
        if f.latency:
            return Fault(f.latency, None, None, "latency")
        return None
