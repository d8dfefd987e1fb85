"""The CLI behaves like its neighbours: ``python -m``, GitHub annotations inside Actions, and a
passing run that says what it tested (per family, how often; why an operation got few requests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from twilio_webhook_contracts.annotations import annotation, github_annotations
from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.contract_tests.checks import CHECKS
from twilio_webhook_contracts.mock import serve_mock

from live_helpers import DropsTarget

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "AC" + "5" * 32
TOKEN = "conv-Token+Distinctive/9a8b7c6d5e4f"
SMALL = ["--max-examples", "3", "--database", "none", "--seed", "3"]


@pytest.fixture(autouse=True)
def hermetic(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_python_dash_m_is_the_command():
    result = subprocess.run([sys.executable, "-m", "twilio_webhook_contracts", "--help"], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0 and "run" in result.stdout and "verify" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "twilio_webhook_contracts", "run", "--max-examples", "0"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.strip() == "webhook-contracts: error: --max-examples must be at least 1"


def test_a_passing_run_lists_per_family_the_checks_that_held_and_explains_low_counts(capsys):
    code, out, err = _run(capsys, "run", *SMALL)
    assert code == 0, out + err
    block = out[out.index("held (times judged):"):]
    families = {check.family for check in CHECKS.values()}
    listed = re.findall(r"^  (\w+) +(\S.*)$", block, re.M)
    assert {family for family, _ in listed if family in families} == families
    for family, names in listed:
        if family in families:
            for item in names.split(", "):
                name, count = item.split(" ×")
                assert CHECKS[name].family == family and int(count) >= 1
    assert re.search(r"^  FetchConfigurationWebhook: few requests of its own: nothing to vary: no parameters", block, re.M)
    # and only operations without parameters are said to have nothing to vary
    assert len(re.findall("nothing to vary", block)) == 1


def test_quiet_hides_the_block(capsys):
    code, out, _ = _run(capsys, "run", *SMALL, "--no-stateful", "-q")
    assert code == 0 and "held (times judged)" not in out and "seed 3" in out


def test_github_annotations_name_each_violation_inside_actions_only(capsys, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    with serve_mock(DropsTarget(accounts={ACCOUNT: TOKEN})) as mock:
        code, outside, _ = _run(capsys, "run", *SMALL, "--no-stateful", "--target", mock.url)
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
        code_inside, inside, _ = _run(capsys, "run", *SMALL, "--no-stateful", "--target", mock.url)
    assert code == code_inside == 1
    assert "::error" not in outside
    lines = [line for line in inside.splitlines() if line.startswith("::error")]
    assert len(lines) == 2, inside
    for line in lines:
        match = re.fullmatch(r"::error file=([^,]+),line=(\d+),title=([^:]+)::(.+)", line)
        assert match, line
        file, number, title, message = match.groups()
        assert file.endswith("checks.py") and int(number) > 1
        source = (ROOT / file).read_text().splitlines() if (ROOT / file).exists() else Path(file).read_text().splitlines()
        assert "def response_schema_conforms(" in "\n".join(source[int(number) - 1:int(number) + 3])  # its definition
        assert title.startswith("response_schema_conforms [") and "ConfigurationWebhook]" in title
        assert "%0Areproduce%3A" not in message and "%0Areproduce:%0Acurl " in message
        assert "\n" not in message and TOKEN not in line


def test_annotation_escapes_keep_one_line():
    line = annotation("error", "50% bad\r\nnext", file="a,b:c.py", line=3, title="t: x, y")
    assert line == "::error file=a%2Cb%3Ac.py,line=3,title=t%3A x%2C y::50%25 bad%0D%0Anext"


def test_annotations_are_redacted_like_the_reports():
    from twilio_webhook_contracts.contract_tests.results import Results

    results = Results(seed=1)
    results.ran("no_server_error", operation="FetchConfigurationWebhook")
    results.record("no_server_error", "FetchConfigurationWebhook", [f"echoed {TOKEN}"], curl="curl x")
    (line,) = github_annotations(results, secrets=(TOKEN,))
    assert TOKEN not in line and "echoed ***" in line


def test_annotations_point_at_the_function_that_holds_the_check():
    from twilio_webhook_contracts.annotations import check_location
    from twilio_webhook_contracts.contract_tests import state_checks

    path, line = check_location("write_read_back")  # a state check: its function in state_checks.py
    assert path.endswith("state_checks.py")
    assert open(state_checks.__file__, encoding="utf-8").read().splitlines()[line - 1].startswith("def write_read_back(")
    path, line = check_location("no_server_error")  # a response check: its function in checks.py
    assert path.endswith("checks.py") and line
    path, line = check_location("responds_within_timeout")  # no function: the line that registers it
    assert path.endswith("checks.py") and line
