"""The open-point catalogue, the fragments' ``x-open`` and the README say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from twilio_webhook_contracts.contract_tests.checks import CHECKS
from twilio_webhook_contracts.open_points import OPEN_POINTS

ROOT = Path(__file__).resolve().parent.parent
NAMES = {point.name for point in OPEN_POINTS}


def _x_open_texts() -> list[str]:
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "x-open":
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted((ROOT / "openapi").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text()))
    return found


def test_every_x_open_in_the_fragments_names_catalogued_points():
    texts = _x_open_texts()
    assert len(texts) >= 3
    for text in texts:
        named = re.match(r"([a-z_]+(?:, [a-z_]+)*):", text)
        assert named, f"x-open must start with the points it covers: {text[:80]!r}"
        assert set(named.group(1).split(", ")) <= NAMES, text[:80]


def test_every_point_is_in_the_readme_with_its_choices():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## What the suite leaves to the server", 1)[1].split("\n## ", 1)[0]
    for point in OPEN_POINTS:
        row = next((line for line in section.splitlines() if line.startswith(f"| `{point.name}` |")), None)
        assert row is not None, point.name
        for choice in point.choices:
            assert f"`{choice}`" in row, (point.name, choice)


def test_the_checks_that_hold_open_points_exist():
    for point in OPEN_POINTS:
        for name in re.findall(r"\b([a-z]+(?:_[a-z]+)+)\b", point.held_by):
            if name.endswith(("_consistent", "_accepted", "_rejected", "_back", "_nothing", "_canonical",
                              "_twilio", "_webhooks")):
                assert name in CHECKS, (point.name, name)
