"""Test configuration for this repository's own test suite.

Our tests use the shared Hypothesis profiles (``dev``, ``ci``, ``nightly``); ``ci``
unless ``HYPOTHESIS_PROFILE`` says otherwise.
"""

from __future__ import annotations

import os

from hypothesis import settings

from twilio_webhook_contracts.profiles import register_profiles


def pytest_configure(config):
    register_profiles()
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
