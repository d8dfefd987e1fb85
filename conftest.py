"""Test configuration for this repository's own test suite.

Hypothesis profiles (``dev``, ``ci``, ``nightly``) are registered by the plugin in
``contract_tests``; here we only choose one for our own tests: ``ci`` unless
``HYPOTHESIS_PROFILE`` says otherwise.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds, installs or runs many requests; still part of CI")
    if "ci" not in settings._profiles:  # the plugin normally registers it
        settings.register_profile("ci", max_examples=100, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
