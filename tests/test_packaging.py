"""The wheel ships the fragments: an installed copy, outside the checkout, finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
from twilio_webhook_contracts.spec import default_spec
import twilio_webhook_contracts, twilio_webhook_contracts.strategies, twilio_webhook_contracts.contract_tests
import importlib.util
assert importlib.util.find_spec("strategies") is None and importlib.util.find_spec("contract_tests") is None
spec = default_spec()
assert "site-packages" in str(spec.directory), spec.directory
assert "site-packages" in twilio_webhook_contracts.__file__
print(len(spec.operations), " ".join(sorted(spec.operations)))
"""


@pytest.mark.slow
def test_wheel_installs_outside_the_checkout_and_loads_every_operation(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    wheel = next(dist.glob("twilio_webhook_contracts-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True, text=True)
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(python), "-c", CHECK], cwd=tmp_path, env=environ,
                            check=True, capture_output=True, text=True)
    count, names = result.stdout.split(" ", 1)
    assert count == "9"
    assert "CreateChannelWebhook" in names and "UpdateServiceWebhookConfiguration" in names
