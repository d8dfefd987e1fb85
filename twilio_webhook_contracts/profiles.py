"""Hypothesis settings profiles shared by the CLI, the pytest plugin and our tests.

``dev`` is for a quick local loop, ``ci`` for pull-request runs, ``nightly`` for the
thorough nightly job against live Twilio or a mock. Deadlines are off everywhere:
a request's time is the target's, not the generator's, and the liveness checks
judge it.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

__all__ = ["PROFILES", "register_profiles"]

#: profile name -> examples per operation and kind (``run --profile``; Hypothesis' max_examples)
PROFILES = {"dev": 10, "ci": 50, "nightly": 500}

_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


def register_profiles() -> None:
    """Register ``dev``, ``ci`` and ``nightly`` (idempotent; does not load one)."""
    for name, examples in PROFILES.items():
        settings.register_profile(
            name,
            max_examples=examples,
            deadline=None,
            suppress_health_check=_SUPPRESSED,
            print_blob=True,
        )
