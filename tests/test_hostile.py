"""The suite against a hostile target (issue 19): every break the red team found, one test each.

Each test fails on the code as it was before the fix: the transport raised,
hung, ate memory or leaked a secret. Targets are :class:`hostile_server.HostileServer`
on 127.0.0.1; runs are small (``--max-examples 1``, no stateful suite unless the
test is about it).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.contract_tests.checks import CHECKS
from twilio_webhook_contracts.credentials import Credentials, excerpt, forget_secrets, redact, secret_forms
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import Limits, Response, Target, TargetTimeout
from twilio_webhook_contracts.wire import retry_after_seconds

from hostile_server import HostileServer

ACCOUNT = "AC" + "5" * 32
TOKEN = "hostile0Tok3n+/=&\"\\-a1b2c3d4e5f6"
API_KEY = "SK" + "4" * 32
API_SECRET = "hostile1Secr3t+/=&\"\\-f6e5d4c3b2a1"
SMALL = ["--max-examples", "1", "--database", "none", "--no-stateful", "-q"]
CLI = [sys.executable, "-m", "twilio_webhook_contracts.cli"]


def _fetch() -> Request:
    return Request.build("FetchConfigurationWebhook", "GET", "/v1/Configuration/Webhooks")


def _target(url: str, **options) -> Target:
    return Target(url, credentials=Credentials(ACCOUNT, TOKEN), **options)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    return {**os.environ}


# ---------------------------------------------------------------------------
# 1, 2: redaction -- every form, before any cut


def test_secret_forms_cover_every_encoding() -> None:
    key = Credentials(ACCOUNT, API_SECRET, API_KEY)
    forms = secret_forms(key)
    for form in (API_SECRET, quote(API_SECRET, safe=""), quote_plus(API_SECRET), json.dumps(API_SECRET)[1:-1],
                 base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode(),
                 "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()):
        assert form in forms


def test_redact_removes_encoded_forms_and_cut_off_pieces() -> None:
    Credentials(ACCOUNT, TOKEN)
    basic = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    text = (f"internal error: ValueError: Invalid date value or format \"Mon, Basic {basic}\" "
            f"url {quote(TOKEN, safe='')} json {json.dumps(TOKEN)} cut {TOKEN[:9]} tail {TOKEN[-10:]}")
    out = redact(text)
    for piece in (basic[-20:], TOKEN[:8], TOKEN[-8:], quote(TOKEN, safe="")[:8], "Tok3n+/="):
        assert piece not in out
    assert out.startswith("internal error: ValueError: Invalid date value")


@pytest.mark.parametrize("limit", [120, 200, 300])
def test_excerpt_redacts_before_it_cuts(limit: int) -> None:
    """Issue 19.2: a secret straddling the excerpt limit left 31 of 32 characters in every report."""
    Credentials(ACCOUNT, TOKEN)
    body = ("x" * (limit - 4) + TOKEN + " and more").encode()
    response = Response(_fetch(), "http://127.0.0.1/x", 400, {}, body, 0.0)
    cut = response.excerpt(limit)
    assert len(cut) <= limit
    assert cut.startswith("x" * (limit - 10))
    assert not any(TOKEN[i:i + 4] in cut for i in range(len(TOKEN) - 3))
    assert excerpt("y" * 50 + TOKEN, 1000).endswith("***")


def test_cli_internal_error_line_is_redacted(env, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19.1: the exception text of an internal error carried the whole base64 SID:TOKEN."""
    forget_secrets()  # the CLI must know the environment's secret by itself
    basic = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()

    def explode(args):
        raise ValueError(f'Invalid date value or format "Mon, Basic {basic}"')

    from twilio_webhook_contracts.commands import history

    monkeypatch.setattr(history, "run", explode)
    assert main(["history", "--history", "/nonexistent/none.sqlite"]) == 4
    err = capsys.readouterr().err
    assert "internal error: ValueError" in err and basic[:20] not in err and basic[-12:] not in err


# ---------------------------------------------------------------------------
# 4 (transport), 6: Retry-After, deep JSON, broken encodings are the target's fault


@pytest.mark.parametrize("value", ["Mon, 99 Foo 2020 25:61:61 XYZ", "Mon, Basic QUMxMjM0NTY3ODk6c2VjcmV0", "soon",
                                   "1e999", "-5", "Wed, 21 Oct 99999 07:28:00 GMT", ""])
def test_unparsable_retry_after_never_raises(value: str) -> None:
    delay = retry_after_seconds(value)
    assert delay is None or 0 <= delay
    response = Response(_fetch(), "http://127.0.0.1/x", 429, {"Retry-After": value}, b"", 0.0)
    with _target("http://127.0.0.1:9", max_retry_wait=3.0) as target:
        assert 0 <= target._retry_delay(response, 1) <= 3.0


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("Mon, Basic abc") is None


def test_invalid_retry_after_is_retried_with_the_default_wait_and_reported() -> None:
    with HostileServer("badretry") as server, _target(server.url, max_retry_wait=0.01) as target:
        response = target.send(_fetch())
    assert response.status == 429 and [r.status for r in response.retried] == [429] * target.max_retries
    problems = CHECKS["response_well_formed"].function(response, None)
    assert any("Retry-After" in problem for problem in problems)


@pytest.mark.parametrize("mode, words", [("deep", "nested too deeply"), ("badgzip", "not valid gzip"),
                                         ("baddeflate", "deflate")])
def test_hostile_bodies_are_violations_not_crashes(mode: str, words: str) -> None:
    with HostileServer(mode) as server, _target(server.url) as target:
        response = target.send(_fetch())
    assert response.status == 200
    assert response.json() is None
    problems = CHECKS["response_well_formed"].function(response, None)
    assert problems and words in " ".join(problems)


@pytest.mark.parametrize("mode", ["deep", "badgzip", "baddeflate", "badretry", "status", "longheader"])
def test_run_reports_hostile_answers_and_writes_everything(mode: str, env, tmp_path: Path, capsys) -> None:
    """Issue 19.6 and 11: exit 4 with no report became exit 1 with every report and the history written;
    malformed HTTP was 'cannot reach' (exit 3) although the target answered."""
    files = {"--report-json": tmp_path / "r.json", "--junitxml": tmp_path / "r.xml",
             "--report-markdown": tmp_path / "r.md", "--history": tmp_path / "h.sqlite"}
    options = [item for option, path in files.items() for item in (option, str(path))]
    with HostileServer(mode, every=2 if mode == "badretry" else 1) as server:
        status = main(["run", "--target", server.url, *SMALL, "--max-retry-wait", "0", *options])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "internal error" not in err and "cannot reach" not in err
    report = json.loads(files["--report-json"].read_text())
    assert any(v["check"] == "response_well_formed" for v in report["violations"])
    assert all(path.stat().st_size for path in files.values())
    with sqlite3.connect(files["--history"]) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_malformed_http_is_an_answer_with_status_0() -> None:
    with HostileServer("status") as server, _target(server.url) as target:
        response = target.send(_fetch())
    assert response.status == 0 and "not valid HTTP" in (response.problem or "")


# ---------------------------------------------------------------------------
# 7: whole-response deadline, size caps


def test_trickle_is_cut_at_the_request_timeout() -> None:
    """Issue 19.7: one byte per 0.5 s held a request 40 s under a 2 s timeout (the timeout was per read)."""
    with HostileServer("trickle", trickle_interval=0.5) as server, _target(server.url, timeout=1.0) as target:
        started = time.monotonic()
        with pytest.raises(TargetTimeout):
            target.send(_fetch())
        elapsed = time.monotonic() - started
    assert elapsed < 6.0, f"the answer (some 200 bytes at 2 bytes/s) was waited for {elapsed:.1f} s"


def test_huge_body_is_cut_at_the_cap() -> None:
    with HostileServer("huge", huge_bytes=20 * 1024 * 1024) as server, \
            _target(server.url, max_response_bytes=1024 * 1024) as target:
        response = target.send(_fetch())
    assert "response cap" in (response.problem or "")
    assert len(response.body) <= 1024 * 1024


def test_gzip_bomb_is_cut_at_the_cap_decompressed() -> None:
    with HostileServer("bomb", bomb_bytes=64 * 1024 * 1024) as server, \
            _target(server.url, max_response_bytes=1024 * 1024) as target:
        response = target.send(_fetch())
    assert "inflates" in (response.problem or "")
    assert len(response.body) <= 1024 * 1024


def test_gzip_and_deflate_still_decode() -> None:
    """The caps do not break honest compression (the mock's gzip=on policy)."""
    from twilio_webhook_contracts.wire import read_body
    import zlib

    payload = json.dumps({"x": "y" * 10000}).encode()
    for coding, packed in (("gzip", zlib.compress(payload, wbits=31)), ("deflate", zlib.compress(payload)),
                           ("deflate", zlib.compress(payload, wbits=-15))):
        chunks = [packed[i:i + 100] for i in range(0, len(packed), 100)] + [b""]
        body = read_body(lambda n: chunks.pop(0), coding, 1 << 20, lambda: False)
        assert body.data == payload and body.problem is None, coding


# ---------------------------------------------------------------------------
# 10: signals are prompt in every wait, and never swallowed


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_ends_a_rate_limit_wait_at_once(signum: int, status: int, env) -> None:
    """Issue 19.10: Ctrl-C waited out the rate-limit sleep; SIGTERM was ignored for 9 minutes at 0.001."""
    process = _spawn(["run", "--max-examples", "2", "--database", "none", "--rate-limit", "0.001"], env)
    assert process.stdout.readline().startswith("target:")
    time.sleep(1.0)  # the first request has gone; the second waits 1000 s for its slot
    process.send_signal(signum)
    sent = time.monotonic()
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the signal did not end the rate-limit wait within 20 s")
    assert time.monotonic() - sent < 10
    assert process.returncode == status, err


def test_sigint_right_after_the_summary_is_not_swallowed(env, tmp_path: Path) -> None:
    """Issue 19.10: a SIGINT after the summary line was swallowed (exit 0). The JSON report goes to a
    FIFO, so the run provably sits between its summary and its last report when the signal comes."""
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    process = _spawn(["run", "--max-examples", "1", "--database", "none", "--report-json", str(fifo)], env)
    for line in process.stdout:
        if "violation(s) in" in line:
            break
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    reader = threading.Thread(target=fifo.read_text, daemon=True)  # blocks until the run opens the FIFO
    reader.start()
    reader.join(timeout=30)
    if reader.is_alive():  # the run died (or hangs) before writing its report: never wait forever
        process.kill()
        with open(fifo, "w"):  # unblock the reader
            pass
        pytest.fail(f"the run never wrote its JSON report after the SIGINT: {process.communicate()[1][-2000:]}")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "interrupted" in err


# ---------------------------------------------------------------------------
# 11: exit codes and one-line usage errors


@pytest.mark.parametrize("option", [["--rate-limit", "1e-300"], ["--request-timeout", "1e300"],
                                    ["--request-timeout", "-1"], ["--request-timeout", "nan"],
                                    ["--time-budget", "1e300"], ["--max-retry-wait", "1e300"],
                                    ["--max-requests", "-3"], ["--rate-limit", "nan"],
                                    ["--max-response-bytes", "10"], ["--database", "/proc/x"]])
def test_absurd_options_are_one_usage_line(option: list[str], env, capsys) -> None:
    assert main(["run", *SMALL[:1], "1", *option]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("webhook-contracts: error: ")


def test_live_run_against_a_refused_port_exits_3(env, capsys) -> None:
    """Issue 19.11: exit 2 ('live run refused'), though nothing answered; the README says 3."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    assert main(["run", "--live", "--conversations-url", url, "--chat-url", url, "-q"]) == 3
    assert "cannot reach" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# the secret grep: every output and every file, against a target that echoes the credentials


def _forbidden(account: str, username: str, secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
             base64.b64encode(f"{username}:{secret}".encode()).decode(),
             base64.b64encode(f"{account}:{secret}".encode()).decode()}
    pieces = {form[i:i + 8] for form in forms for i in range(len(form) - 7)}
    return forms | pieces


@pytest.mark.parametrize("kind", ["auth-token", "api-key"])
def test_no_secret_in_any_output_or_file(kind: str, env, tmp_path: Path) -> None:
    env = dict(env)
    if kind == "api-key":
        env.update(TWILIO_API_KEY=API_KEY, TWILIO_API_SECRET=API_SECRET)
        env.pop("TWILIO_AUTH_TOKEN")
        username, secret = API_KEY, API_SECRET
    else:
        username, secret = ACCOUNT, TOKEN
    out_dir = tmp_path / "out"
    reports = ["--report-json", str(out_dir / "r.json"), "--junitxml", str(out_dir / "r.xml"),
               "--report-markdown", str(out_dir / "r.md"), "--history", str(out_dir / "h.sqlite"),
               "--database", str(out_dir / "examples")]
    with HostileServer("echo") as server:
        run = subprocess.run([*CLI, "run", "--target", server.url, "--max-examples", "2", "-v", "--max-retry-wait",
                              "0", *reports], capture_output=True, text=True, env=env, timeout=300)
        assert server.requests > 20
    assert run.returncode == 1, run.stderr
    history = subprocess.run([*CLI, "history", "--history", str(out_dir / "h.sqlite")], capture_output=True,
                             text=True, env=env, timeout=60)
    history_json = subprocess.run([*CLI, "history", "--json", "--history", str(out_dir / "h.sqlite")],
                                  capture_output=True, text=True, env=env, timeout=60)
    outputs = {"stdout": run.stdout, "stderr": run.stderr, "history": history.stdout + history.stderr,
               "history --json": history_json.stdout}
    files = [path for path in out_dir.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"r.json", "r.xml", "r.md", "h.sqlite"}
    for path in files:
        outputs[str(path)] = path.read_bytes().decode("latin-1")
    assert "echo" in outputs[str(out_dir / "r.json")] or "20001" in outputs[str(out_dir / "r.json")]
    forbidden = _forbidden(ACCOUNT, username, secret)
    leaks = {(where, piece) for where, text in outputs.items() for piece in forbidden if piece in text}
    assert not leaks, sorted(leaks)[:10]
