"""The HTML report in a real browser: headless Chromium from Debian's packages renders it, takes a
screenshot, and dumps the DOM we assert on (the page's own script records errors into it;
Chromium's console log on stderr must hold no error either). No driver: ``--dump-dom`` and
``--screenshot`` are enough.

``.ci/run`` installs Chromium when missing and sets WEBHOOK_CONTRACTS_REQUIRE_CHROMIUM=1, so
in CI a missing browser fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.contract_tests.checks import CHECKS
from twilio_webhook_contracts.mock import MockApp, serve_mock

from live_helpers import DropsTarget

ACCOUNT = "AC" + "6" * 32
TOKEN = "html-Tok&n<b>+Distinctive/3c2b1a"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


@pytest.fixture(autouse=True)
def hermetic(monkeypatch):
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)


def chromium():
    if CHROMIUM is None:
        if os.environ.get("WEBHOOK_CONTRACTS_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return CHROMIUM


def render(page: Path, tmp_path: Path, screenshot: Path | None = None) -> tuple[str, str]:
    """(DOM after scripts ran, Chromium's stderr) for *page*; with *screenshot*, a PNG of it too."""
    profile = tmp_path / f"profile-{page.stem}"
    profile.mkdir()
    base = [chromium(), *FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    if screenshot is not None:
        shot_profile = tmp_path / f"profile-{page.stem}-shot"
        shot_profile.mkdir()
        shot = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={shot_profile}", f"--screenshot={screenshot}",
                               "--window-size=1280,2400", "--hide-scrollbars", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
        assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    return dom.stdout, dom.stderr


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line or "Uncaught" in line or "Content Security Policy" in line or "Refused to" in line]


class _Dom(HTMLParser):
    """The elements we assert on: (tag, attributes) in document order, plus the text."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A passing run, then a failing one, sharing a history; the second's HTML, JSON and cassette."""
    folder = tmp_path_factory.mktemp("html")
    history = folder / "history.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
        patch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        codes = []
        for name, app in (("good", MockApp), ("bad", DropsTarget)):
            with serve_mock(app(accounts={ACCOUNT: TOKEN})) as mock:
                codes.append(main(["run", "--max-examples", "3", "--database", "none", "--seed", "11", "-q",
                                   "--target", mock.url, "--history", str(history),
                                   "--report-html", str(folder / f"{name}.html"),
                                   "--report-json", str(folder / f"{name}.json")]))
    assert codes == [0, 1]
    return folder


def test_the_html_report_renders_in_chromium_with_every_violation_and_no_console_error(runs, tmp_path):
    page = runs / "bad.html"
    text = page.read_text(encoding="utf-8")
    report = json.loads((runs / "bad.json").read_text(encoding="utf-8"))
    assert report["violations"], "the failing run must have violations to show"
    # self-contained: no reference to anything outside the file
    assert not re.search(r"""(src|href)\s*=\s*["']?(?!#|data:)""", text, re.I)
    assert "@import" not in text and "url(" not in text and TOKEN not in text
    dom_text, stderr = render(page, tmp_path, screenshot=tmp_path / "bad.png")
    assert console_errors(stderr) == []
    dom = _Dom(dom_text)
    (body,) = dom.find("body")
    assert body["data-ready"] == "yes" and body["data-errors"] == ""
    assert int(body["data-violations-rendered"]) == len(report["violations"])
    sections = dom.find("section")
    shown = {(s["data-check"], s["data-operation"]) for s in sections if s.get("class") == "violation"}
    assert shown == {(v["check"], v["operation"]) for v in report["violations"]}
    rendered = "".join(dom.text)
    for violation in report["violations"]:
        assert violation["explanation"] in rendered
        assert violation["curl"] in rendered  # the reproduction, as the other reports give it
        assert violation["response_excerpt"][:40] in rendered
    statuses = {row["data-check"]: row["data-status"] for row in dom.find("tr") if "data-status" in row}
    assert statuses == {row["name"]: row["status"] for row in report["checks"]}
    # the timeline: the first (passing) run, then this failing one, for the failing check
    timeline = [a for t, a in dom.elements if t == "span" and a.get("title", "").endswith(("passed", "failed", "skipped"))]
    assert any(a["title"] == "this run: failed" for a in timeline)
    assert "fails from this run on" in rendered
    png = (tmp_path / "bad.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    shutil.copy(tmp_path / "bad.png", runs / "bad.png")  # kept beside the report for a person to look at


def test_the_harness_sees_a_broken_page(tmp_path):
    """The checks above can fail: a script error and an external asset are both caught."""
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                      'script-src \'unsafe-inline\'"><script>window.__e=[];window.addEventListener("error",e=>'
                      'document.documentElement.setAttribute("data-errors",e.message));</script></head><body>'
                      '<img src="https://example.invalid/x.png"><script>undefinedFunction()</script></body></html>')
    dom_text, stderr = render(broken, tmp_path)
    assert "undefinedFunction" in dom_text  # recorded into the DOM
    assert console_errors(stderr)  # and on Chromium's console log


def test_the_verify_matrix_is_a_coloured_grid(tmp_path):
    page = tmp_path / "matrix.html"
    with serve_mock(DropsTarget(accounts={ACCOUNT: TOKEN})) as broken:
        code = main(["verify", "mock", f"broken={broken.url}", "--max-examples", "2", "--seed", "4", "-q",
                     "--no-stateful", "--report-html", str(page), "--report-json", str(tmp_path / "m.json")])
    assert code == 1
    matrix = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    dom_text, stderr = render(page, tmp_path, screenshot=tmp_path / "matrix.png")
    assert console_errors(stderr) == []
    dom = _Dom(dom_text)
    (body,) = dom.find("body")
    assert body["data-ready"] == "yes" and body["data-errors"] == ""
    cells = [a for a in dom.find("td") if "data-target" in a]
    assert len(cells) == len(CHECKS) * 2
    expected = {(check["name"], label): cell["status"] for check in matrix["checks"] for label, cell in check["cells"].items()}
    rows = [a["data-check"] for a in dom.find("tr") if "data-check" in a]
    got = {(row, cell["data-target"]): cell["data-status"] for row, cell in zip([r for r in rows for _ in (0, 1)], cells)}
    assert got == expected
    assert {cell["class"] for cell in cells if cell["data-status"] == "fail"} == {"cell fail"}
    assert any(status == "fail" for status in expected.values()) and any(s == "pass" for s in expected.values())
    assert TOKEN not in page.read_text(encoding="utf-8")


def test_secrets_are_redacted_before_html_escaping():
    """A secret with & and < would hide from a redaction after escaping (as &amp; and &lt;)."""
    from twilio_webhook_contracts.credentials import secret_forms
    from twilio_webhook_contracts.contract_tests.results import Results
    from twilio_webhook_contracts.report import to_json
    from twilio_webhook_contracts.report_html import run_html
    from twilio_webhook_contracts.request import Request
    from twilio_webhook_contracts.target import Credentials, Response

    request = Request.build("FetchConfigurationWebhook", "GET", "/v1/Configuration/Webhooks")
    response = Response(request, "http://127.0.0.1:1/v1/Configuration/Webhooks", 500, {}, f"echo {TOKEN}".encode(), 0.1)
    results = Results(seed=2)
    results.ran("no_server_error", operation="FetchConfigurationWebhook")
    results.record("no_server_error", "FetchConfigurationWebhook", [f"server error, body echoes {TOKEN}"],
                   response=response, curl=f"curl -u 'x:{TOKEN}'")
    secrets = secret_forms(Credentials(ACCOUNT, TOKEN))
    text = run_html(results, secrets)
    import html as html_module

    for form in (TOKEN, html_module.escape(TOKEN), html_module.escape(TOKEN, quote=False), "Tok&amp;n", "Tok&n"):
        assert form not in text
    # the same redaction as the JSON report: the explanation reads the same with *** in place
    explanation = to_json(results, secrets)["violations"][0]["explanation"]
    assert "***" in explanation and html_module.escape(explanation) in text
