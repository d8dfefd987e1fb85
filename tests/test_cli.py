"""``webhook-contracts run`` as a user runs it: exit statuses, progress, the reports, and no secret anywhere.

Most runs call :func:`twilio_webhook_contracts.cli.main` in this process (fast); a
few go through the installed console script in a subprocess, end to end. Every
target is a mock on 127.0.0.1 -- the embedded one, or one this file serves, either
the reference mock or a variant with one defect -- and every run is small
(``--max-examples 2``/``3``), so the whole file takes seconds, not minutes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from requests.structures import CaseInsensitiveDict

from twilio_webhook_contracts.contract_tests import conformance_problems
from twilio_webhook_contracts.contract_tests.checks import CHECKS, FAMILIES
from twilio_webhook_contracts.cli import main
from twilio_webhook_contracts.mock import SUITE_EMBEDDED_POLICIES, MockApp, MockError, serve_mock
from twilio_webhook_contracts.mock.app import Call
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.spec import default_spec
from twilio_webhook_contracts.target import Response

from live_helpers import DropsTarget

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "AC" + "7" * 32
#: Distinctive, and full of characters that change under URL, JSON, XML or shell encoding.
TOKEN = "Tok3n+With/Odd=Chars&<more>-9f8e7d6c5b4a"
API_KEY = "SK" + "6" * 32
API_SECRET = "Ap1Secret+Also/Odd=&-1a2b3c4d5e6f"
ERROR_PREFIX = "webhook-contracts: error: "
SMALL = ["--max-examples", "2", "--database", "none"]
OPERATIONS = list(default_spec().operations)
PROGRESS = re.compile(r"^(%s)\s+\d+ requests\s+\d+ failed checks" % "|".join(OPERATIONS), re.M)


# ---------------------------------------------------------------------------
# variants of the mock with one defect each (the mock itself is not changed)


class AcceptsInvalidForms(MockApp):
    """Bad form values are not rejected: the request is processed as if the form were empty."""

    def parse(self, operation, raw_values, request, account_sid):
        try:
            return super().parse(operation, raw_values, request, account_sid)
        except MockError as error:
            if error.status != 400:
                raise
            from urllib.parse import unquote

            params = {name: unquote(raw) for name, raw in raw_values.items()}
            return Call(operation, account_sid, params, {}, {}, request.base_url, request)


class EchoesAuthorization(MockApp):
    """Answers errors to authenticated requests (400, 404) with the Authorization header it received, and no
    ``more_info``: a leaky proxy. Every such answer is a violation whose excerpt carries the credentials."""

    def handle(self, request):
        response = super().handle(request)
        if response.status in (400, 404) and request.headers.get("authorization"):
            body = json.dumps({"code": 20001, "message": "you sent " + request.headers["authorization"],
                               "status": response.status}).encode()
            headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
            return type(response)(response.status, [*headers, ("Content-Length", str(len(body)))], body)
        return response


@contextmanager
def served(app_class: type[MockApp] = MockApp, **options: Any) -> Iterator[Any]:
    options.setdefault("accounts", {ACCOUNT: TOKEN})
    options.setdefault("policies", SUITE_EMBEDDED_POLICIES)  # the spec's PageSize cap (see its definition)
    with serve_mock(app_class(**options)) as mock:
        yield mock


@pytest.fixture(autouse=True)
def hermetic(monkeypatch, tmp_path):
    """No credentials from the developer's shell; files (the example database) land in tmp_path."""
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, *fragments: str) -> None:
    assert err.startswith(ERROR_PREFIX), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# exit status 0 and what a passing run shows


def test_no_target_runs_the_embedded_mock_and_passes(capsys, tmp_path):
    code, out, err = run(capsys, *SMALL, "--report-json", str(tmp_path / "r.json"))
    assert (code, err) == (0, "")
    assert "target: embedded mock at http://127.0.0.1:" in out
    assert sorted(PROGRESS.findall(out)) == sorted(OPERATIONS)  # one progress line per operation
    assert "stateful suite" in out
    report = load(tmp_path / "r.json")
    counts = report["counts"]
    assert counts["violations"] == 0 and report["violations"] == [] and report["aborted"] is None
    assert counts["requests_sent"] > len(OPERATIONS) and counts["checks_failed"] == 0
    assert counts["checks_run"] == sum(row["runs"] for row in report["checks"]) > 0
    assert [row["name"] for row in report["checks"]] == list(CHECKS)
    for row in report["checks"]:  # every check either ran or says why not
        assert row["status"] in ("passed", "skipped"), row
        assert (row["runs"] > 0) == (row["status"] == "passed"), row
        assert row["status"] == "passed" or row["skip_reason"], row
    assert report["target"]["description"].startswith("embedded mock at http://127.0.0.1:")
    last = out.strip().splitlines()[-1]
    assert f"seed {report['seed']}" in last and f"--seed {report['seed']}" in last and "0 violation(s)" in last
    assert not list(tmp_path.glob(".hypothesis/webhook-contracts"))  # --database none


def test_quiet_prints_only_the_final_line_and_verbose_explains_skips(capsys):
    code, out, err = run(capsys, *SMALL, "--no-stateful", "-q")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 1 and "0 violation(s)" in out
    assert not PROGRESS.search(out) and "target:" not in out

    code, out, err = run(capsys, *SMALL, "--no-stateful", "-v")
    assert (code, err) == (0, "")
    assert PROGRESS.search(out)
    state_checks = [name for name, check in CHECKS.items() if check.family == "state"]
    for name in state_checks:
        assert f"skip {name}: the stateful suite was not run (--no-stateful)" in out


def test_a_replay_with_a_seed_uses_no_example_database(capsys, tmp_path, credentials):
    database = tmp_path / ".hypothesis" / "webhook-contracts"
    with served(DropsTarget) as mock:
        args = ["--max-examples", "1", "--no-stateful", "-q", "--checks", "response", "--target", mock.url]
        assert run(capsys, *args, "--seed", "3")[0] == 1
        assert not database.exists()  # a replay neither reads nor writes saved examples


def test_failing_examples_are_kept_in_the_example_database(capsys, tmp_path, credentials):
    with served(DropsTarget) as mock:
        args = ["--max-examples", "1", "--no-stateful", "-q", "--checks", "response", "--target", mock.url]
        assert run(capsys, *args, "--database", str(tmp_path / "db"))[0] == 1
        assert any(path.is_file() for path in (tmp_path / "db").rglob("*"))
        assert run(capsys, *args)[0] == 1
        assert any(path.is_file() for path in (tmp_path / ".hypothesis" / "webhook-contracts").rglob("*"))


def test_a_served_target_with_credentials_from_the_environment_passes(capsys, credentials):
    with served() as mock:
        code, out, err = run(capsys, *SMALL, "--target", mock.url)
        assert (code, err) == (0, ""), out
        assert f"target: {mock.url}" in out
        assert {entry.username for entry in mock.requests} >= {ACCOUNT}  # it really was this mock
        assert any(entry.status == 200 for entry in mock.requests)


def test_per_api_urls_send_each_api_to_its_own_server(capsys, credentials):
    with served() as conversations, served() as chat:
        code, out, err = run(capsys, *SMALL, "--no-stateful", "--conversations-url", conversations.url,
                             "--chat-url", chat.url)
        assert (code, err) == (0, ""), out
        assert {e.path.split("/")[1] for e in conversations.requests} == {"v1"}
        assert {e.path.split("/")[1] for e in chat.requests} == {"v2"}


def test_api_key_credentials_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_API_KEY", API_KEY)
    monkeypatch.setenv("TWILIO_API_SECRET", API_SECRET)
    with served(accounts={ACCOUNT: TOKEN}, api_keys={API_KEY: (API_SECRET, ACCOUNT)}) as mock:
        code, out, err = run(capsys, *SMALL, "--no-stateful", "--target", mock.url)
    assert (code, err) == (0, ""), out
    assert {e.username for e in mock.requests if e.status != 401} == {API_KEY}


# ---------------------------------------------------------------------------
# exit status 1: violations, and what the reports say about them


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    """One run against a mock whose account configuration lacks ``target``: its exit status, output and reports."""
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("failing-run")
    paths = {name: folder / name for name in ("r.json", "r.xml", "r.md")}
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, served(DropsTarget) as mock:
        patch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
        patch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        patch.delenv("TWILIO_API_KEY", raising=False)
        patch.delenv("TWILIO_API_SECRET", raising=False)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["run", *SMALL, "--no-stateful", "--seed", "12345", "--target", mock.url,
                         "--report-json", str(paths["r.json"]), "--junitxml", str(paths["r.xml"]),
                         "--report-markdown", str(paths["r.md"])])
        yield {"code": code, "out": out.getvalue(), "err": err.getvalue(), "url": mock.url,
               "requests": len(mock.requests), **paths}


def test_violations_exit_1_with_a_json_report_that_names_them(failing_run):
    assert failing_run["code"] == 1 and failing_run["err"] == ""
    report = load(failing_run["r.json"])
    assert report["schema_version"] == 1 and report["tool"]["name"] == "twilio-webhook-contracts"
    assert report["seed"] == 12345
    assert report["target"]["conversations_url"] == report["target"]["chat_url"] == failing_run["url"]
    assert isinstance(report["duration_seconds"], (int, float)) and report["duration_seconds"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report["started_at"])
    counts = report["counts"]
    assert counts["violations"] == len(report["violations"]) >= 1
    assert counts["checks_run"] == sum(row["runs"] for row in report["checks"])
    assert counts["checks_failed"] == sum(row["status"] == "failed" for row in report["checks"]) >= 1
    assert counts["requests_sent"] >= failing_run["requests"] > 0

    rows = {row["name"]: row for row in report["checks"]}
    assert rows["response_schema_conforms"]["status"] == "failed" and rows["response_schema_conforms"]["failures"] >= 1
    assert {v["check"] for v in report["violations"]} == {"response_schema_conforms"}  # the one defect, nothing else
    by_operation = {v["operation"]: v for v in report["violations"]}
    assert set(by_operation) == {"FetchConfigurationWebhook", "UpdateConfigurationWebhook"}
    for violation in report["violations"]:
        assert violation["family"] == "response" and violation["status"] == 200
        assert "$.target" in violation["explanation"] and "present" in violation["explanation"]
        assert violation["curl"].startswith("curl ") and '$TWILIO_AUTH_TOKEN"' in violation["curl"]
        assert f"{failing_run['url']}/v1/Configuration/Webhooks" in violation["curl"]
        assert violation["request"]["path"] == "/v1/Configuration/Webhooks"
        assert violation["occurrences"] >= 1 and '"target"' not in violation["response_excerpt"]
    assert by_operation["FetchConfigurationWebhook"]["request"]["method"] == "GET"
    assert by_operation["UpdateConfigurationWebhook"]["request"]["method"] == "POST"


def test_the_console_names_each_violation_and_how_to_replay_it(failing_run):
    out = failing_run["out"]
    assert "FAIL response_schema_conforms [FetchConfigurationWebhook] response $.target" in out
    assert "FAIL response_schema_conforms [UpdateConfigurationWebhook]" in out
    assert re.search(r"^\s+curl .*/v1/Configuration/Webhooks", out, re.M)
    assert out.strip().splitlines()[-1].endswith("seed 12345 (replay with --seed 12345)")
    assert re.search(r"\b2 violation\(s\)", out)


def test_junit_xml_has_one_case_per_check_and_operation_with_one_failure_each(failing_run):
    root = ET.parse(failing_run["r.xml"]).getroot()
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert {case.get("name").split("[")[0] for case in cases} == set(CHECKS)  # every check appears
    assert int(suite.get("tests")) == int(root.get("tests")) == len(cases)
    assert len({case.get("name") for case in cases}) == len(cases)
    failed = [case for case in cases if case.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed)
    assert sorted(c.get("name") for c in failed) == ["response_schema_conforms[FetchConfigurationWebhook]",
                                                     "response_schema_conforms[UpdateConfigurationWebhook]"]
    assert int(suite.get("skipped")) == sum(case.find("skipped") is not None for case in cases)
    for case in failed:
        (failure,) = case.findall("failure")  # exactly one each
        assert "$.target" in failure.get("message") and "curl " in failure.text
        assert not re.match(r"(\w+): \1:", failure.get("message"))  # the operation is named once
    ran = [case for case in cases if case.find("skipped") is None]
    assert all(float(case.get("time")) >= 0 for case in cases) and sum(float(c.get("time")) for c in ran) > 0
    assert {c.get("name") for c in ran if c.get("name").startswith("valid_request_accepted[")} >= {
        "valid_request_accepted[FetchConfigurationWebhook]", "valid_request_accepted[ListChannelWebhook]"}
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["seed"] == "12345"


def test_the_markdown_summary_has_the_verdict_and_the_reproductions(failing_run):
    text = failing_run["r.md"].read_text(encoding="utf-8")
    assert text.startswith("## ❌ Twilio webhook contracts: 2 violation(s)")
    assert "`response_schema_conforms` on `FetchConfigurationWebhook`" in text
    assert "```sh\ncurl " in text and "seed `12345`" in text


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("sh") is None, reason="needs curl and a shell")
def test_each_curl_line_reproduces_its_violation(capsys, tmp_path, credentials):
    """Run every reported curl line against the same server and judge its answer with the same check."""
    with served(AcceptsInvalidForms) as mock:
        code, out, err = run(capsys, "--max-examples", "3", "--database", "none", "--no-stateful", "--checks",
                             "input,response", "--target", mock.url, "--report-json", str(tmp_path / "r.json"))
        assert code == 1, out + err
        violations = load(tmp_path / "r.json")["violations"]
        assert {v["check"] for v in violations} == {"invalid_request_rejected"}
        # every invalid request to the account configuration has a bad form value (it has no path parameter)
        assert any(v["operation"] == "UpdateConfigurationWebhook" and v["request"]["form"] for v in violations)
        for violation in violations:
            answer = _run_curl(violation["curl"], tmp_path)
            sent = violation["request"]
            request = Request.build(violation["operation"], sent["method"], sent["path"],
                                    query=[tuple(pair) for pair in sent["query"]],
                                    form=[tuple(pair) for pair in sent["form"]] if sent["method"] == "POST" else None,
                                    defect=sent["defect"], defect_field=sent["defect_field"])
            response = Response(request, mock.url + request.target(), *answer, elapsed=0.0)
            problems = conformance_problems(response, checks=[violation["check"]])
            assert problems, f"{violation['curl']} answered {answer[0]}: not the reported violation"
            received = mock.requests[-1]  # what the server got from curl is what the suite sent
            assert (received.method, received.username) == (sent["method"], ACCOUNT)
            assert sorted(_form_of(received.body)) == sorted(tuple(pair) for pair in sent["form"])


def _run_curl(line: str, tmp_path: Path) -> tuple[int, CaseInsensitiveDict, bytes]:
    headers, body = tmp_path / "headers", tmp_path / "body"
    command = f"{line} -D {shlex.quote(str(headers))} -o {shlex.quote(str(body))}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TWILIO_AUTH_TOKEN": TOKEN}
    subprocess.run(["sh", "-c", command], check=True, env=env, timeout=60)
    status_line, *header_lines = headers.read_text("iso-8859-1").strip().splitlines()
    parsed = CaseInsensitiveDict(line.split(":", 1) for line in header_lines if ":" in line)
    return int(status_line.split()[1]), CaseInsensitiveDict({k: v.strip() for k, v in parsed.items()}), body.read_bytes()


def _form_of(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, keep_blank_values=True)


def test_reports_survive_binary_bodies_and_never_carry_an_escaped_secret():
    """A server answering garbage (control characters, the secret in a JSON- and XML-escaped body) still gets
    readable reports, with the secret redacted before any encoding could disguise it."""
    from twilio_webhook_contracts.contract_tests.results import Results
    from twilio_webhook_contracts.credentials import secret_forms
    from twilio_webhook_contracts.target import Credentials
    from twilio_webhook_contracts.report import console_summary, dumps, markdown_summary, to_json, to_junit_xml

    secret = 'Se"cr&t<1>\\x'
    request = Request.build("FetchConfigurationWebhook", "GET", "/v1/Configuration/Webhooks")
    body = b"\x00\x1b[31mboom\x07 " + json.dumps({"echo": secret}).encode() + b" " + secret.encode() + b"\xff"
    response = Response(request, "http://127.0.0.1:1/v1/Configuration/Webhooks", 500, {"Content-Type": "text/plain"},
                        body, 0.0)
    results = Results(seed=9)
    results.ran("no_server_error")
    results.record("no_server_error", "FetchConfigurationWebhook", [f"server error 500: {response.excerpt(200)}"],
                   response=response, curl=f"curl http://127.0.0.1:1 -u 'x:{secret}'")
    results.finished = results.started
    secrets = secret_forms(Credentials(ACCOUNT, secret))
    xml_text = to_junit_xml(results, secrets)
    root = ET.fromstring(xml_text)  # well-formed despite NUL, ESC, BEL
    failure = root.find("testsuite/testcase[@name='no_server_error[FetchConfigurationWebhook]']/failure")
    assert failure is not None and "\\x00" in failure.text and "boom" in failure.text
    json_text = dumps(to_json(results, secrets))
    assert json.loads(json_text)["violations"][0]["check"] == "no_server_error"
    texts = [xml_text, json_text, markdown_summary(results, secrets), console_summary(results, True, secrets)]
    escaped = [secret, json.dumps(secret)[1:-1], "Se&quot;cr&amp;t&lt;1&gt;", "Se\"cr&t<1>", "cr&amp;t", "cr&t"]
    assert [form for text in texts for form in escaped if form in text] == []
    assert all("***" in text for text in texts)


# ---------------------------------------------------------------------------
# selecting checks


def test_checks_and_exclude_checks_select_by_name_and_family(capsys, tmp_path, credentials):
    report_path = str(tmp_path / "r.json")
    with served(DropsTarget) as mock:
        code, _, err = run(capsys, *SMALL, "--no-stateful", "--target", mock.url, "--checks", "identity",
                           "--report-json", report_path)
        report = load(tmp_path / "r.json")
        assert (code, err) == (0, "")  # the defect is outside the identity family
        ran = {row["name"] for row in report["checks"] if row["runs"]}
        assert ran == {name for name, check in CHECKS.items() if check.family == "identity"}
        for row in report["checks"]:
            if row["name"] not in ran:
                assert row["status"] == "skipped" and "not selected" in row["skip_reason"]

        code, _, err = run(capsys, *SMALL, "--no-stateful", "--target", mock.url,
                           "--exclude-checks", "response_schema_conforms,liveness", "--report-json", report_path)
        report = load(tmp_path / "r.json")
        assert (code, err) == (0, "")
        rows = {row["name"]: row for row in report["checks"]}
        assert rows["response_schema_conforms"]["runs"] == 0 == rows["responds_within_timeout"]["runs"]
        assert rows["no_server_error"]["status"] == "passed"

        code, _, _ = run(capsys, *SMALL, "--no-stateful", "--target", mock.url, "--checks",
                         "response_schema_conforms", "--report-json", report_path)
        report = load(tmp_path / "r.json")
        assert code == 1 and {row["name"] for row in report["checks"] if row["runs"]} == {"response_schema_conforms"}


# ---------------------------------------------------------------------------
# exit status 2: usage and configuration errors, one line each


@pytest.mark.parametrize("args,fragments", [
    (["--bogus"], ["unrecognized arguments: --bogus"]),
    (["--max-examples", "0"], ["--max-examples must be at least 1"]),
    (["--max-examples", "many"], ["--max-examples", "invalid int value"]),
    (["--seed", "-1"], ["--seed must be a non-negative integer"]),
    (["--request-timeout", "0"], ["--request-timeout must be a positive number"]),
    (["--request-timeout", "inf"], ["--request-timeout must be a positive number"]),
    (["--request-timeout", "nan"], ["--request-timeout must be a positive number"]),
    (["--service-sid", "IS123"], ["--service-sid must be IS followed by 32 hex digits"]),
    (["--channel-sid", "a/b"], ["--channel-sid must be"]),
    (["--account-sid", "AC1"], ["--account-sid must be AC followed by 32 hex digits"]),
    (["--checks", "bogus"], ["unknown check 'bogus'", "response_schema_conforms"]),
    (["--exclude-checks", "response,nope"], ["unknown check 'nope'"]),
    (["--exclude-checks", ",".join(FAMILIES)], ["leave no check to run"]),
    (["--checks", "state", "--no-stateful"], ["--no-stateful leaves no check to run"]),
    (["-q", "-v"], ["not allowed with argument"]),
    (["--target", "http://127.0.0.1:9"], ["no credentials", "TWILIO_AUTH_TOKEN"]),
    (["--target", "not a url"], ["--target", "absolute http(s) URL"]),
    (["--target", "ftp://127.0.0.1:9"], ["--target", "absolute http(s) URL"]),
    (["--target", "http://127.0.0.1:99999"], ["--target: not a valid URL"]),
    (["--target", "http://127.0.0.1:9/?x=1"], ["takes no query"]),
    (["--target", f"http://{ACCOUNT}:a-password@127.0.0.1:9"], ["must not carry credentials"]),
    (["--conversations-url", "http://127.0.0.1:9"], ["both --conversations-url and --chat-url"]),
    (["--chat-url", "http://127.0.0.1:9"], ["both --conversations-url and --chat-url"]),
    (["--report-json", "."], ["--report-json", "is a directory"]),
])
def test_usage_errors_exit_2_with_one_line(capsys, args, fragments):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert_one_error_line(err, *fragments)


@pytest.mark.parametrize("environment,fragments", [
    ({"TWILIO_ACCOUNT_SID": ACCOUNT}, ["no auth token"]),
    ({"TWILIO_AUTH_TOKEN": TOKEN}, ["no credentials"]),
    ({"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": TOKEN}, ["TWILIO_ACCOUNT_SID must be AC"]),
    ({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": API_KEY}, ["TWILIO_API_KEY and TWILIO_API_SECRET"]),
    ({"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": "SK1", "TWILIO_API_SECRET": API_SECRET}, ["TWILIO_API_KEY must be SK"]),
])
def test_incomplete_credentials_exit_2(capsys, monkeypatch, environment, fragments):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "--target", "http://127.0.0.1:9")
    assert code == 2 and out == ""
    assert_one_error_line(err, *fragments)
    assert TOKEN not in err and API_SECRET not in err


def test_no_command_and_help(capsys):
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "name a command" in err and "run" in err
    assert_one_error_line(err)
    assert main(["run", "--help"]) == 0
    out, err = capsys.readouterr()
    for option in ("--target", "--conversations-url", "--chat-url", "--account-sid", "--auth-token", "--max-examples",
                   "--seed", "--checks", "--exclude-checks", "--request-timeout", "--service-sid", "--channel-sid",
                   "--report-json", "--junitxml", "--report-markdown", "--quiet", "--verbose"):
        assert option in out
    assert err == ""


def test_an_unwritable_report_is_a_configuration_error_after_the_summary(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run(capsys, "--max-examples", "1", "--no-stateful", "-q", "--report-json", str(blocker / "r.json"))
    assert code == 2 and "0 violation(s)" in out
    assert_one_error_line(err, "cannot write report")


# ---------------------------------------------------------------------------
# exit status 3: nothing answers


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port bound (so nobody else takes it) but not listening: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_unreachable_target_exits_3_with_one_line(capsys, credentials, dead_port):
    code, out, err = run(capsys, *SMALL, "--target", f"http://127.0.0.1:{dead_port}")
    assert code == 3
    assert_one_error_line(err, f"cannot reach http://127.0.0.1:{dead_port}", "connection refused")
    assert PROGRESS.search(out) is None


# ---------------------------------------------------------------------------
# a target that fails in the middle of a run


class StopsAfter(MockApp):
    """Serves ``limit`` requests, then shuts its own server down (connections refused from then on)."""

    limit = 30

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.served = 0
        self.server = None

    def handle(self, request):
        self.served += 1
        if self.served == self.limit:
            import threading

            threading.Thread(target=self.server.stop, daemon=True).start()
        return super().handle(request)


def test_a_target_that_goes_away_mid_run_ends_it_with_status_1_and_says_so(capsys, tmp_path, credentials):
    app = StopsAfter(accounts={ACCOUNT: TOKEN}, policies=SUITE_EMBEDDED_POLICIES)
    with serve_mock(app) as mock:
        app.server = mock.server
        code, out, err = run(capsys, *SMALL, "--target", mock.url, "--report-json", str(tmp_path / "r.json"))
    assert code == 1 and err == ""
    report = load(tmp_path / "r.json")
    assert report["aborted"].startswith("the target stopped accepting connections: cannot reach")
    assert "run ended early: the target stopped accepting connections" in out
    skipped = [row for row in report["checks"] if row["status"] == "skipped"]
    assert skipped and all(row["skip_reason"] for row in skipped)


def test_a_target_that_never_answers_ends_the_run_with_timeouts_not_a_hang(capsys, tmp_path, credentials):
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        code, out, err = run(capsys, *SMALL, "--request-timeout", "0.2", "--target",
                             f"http://127.0.0.1:{silent.getsockname()[1]}", "--report-json", str(tmp_path / "r.json"))
    assert (code, err) == (1, "")
    violations = load(tmp_path / "r.json")["violations"]
    assert {v["check"] for v in violations} == {"responds_within_timeout"}
    assert {v["operation"] for v in violations} == set(OPERATIONS)


# ---------------------------------------------------------------------------
# end to end, through the installed console script


def _console_script() -> list[str]:
    script = Path(sys.executable).with_name("webhook-contracts")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from twilio_webhook_contracts.cli import main; sys.exit(main())"]


def _subprocess(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    environ.update(env or {})
    return subprocess.run([*_console_script(), *args], cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=600)


def test_end_to_end_pass_usage_error_and_unreachable(tmp_path, dead_port):
    passed = _subprocess(["run", *SMALL], tmp_path)
    assert passed.returncode == 0 and passed.stderr == "", passed.stderr
    lines = passed.stdout.splitlines()
    assert lines[0].startswith("target: embedded mock") and PROGRESS.match(lines[1])  # progress comes first
    assert "0 violation(s)" in lines[-1]

    bad = _subprocess(["run", "--max-examples", "x"], tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert_one_error_line(bad.stderr, "--max-examples")

    gone = _subprocess(["run", "--target", f"http://127.0.0.1:{dead_port}"], tmp_path,
                       {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN})
    assert gone.returncode == 3
    assert_one_error_line(gone.stderr, "cannot reach")


def test_the_same_seed_gives_the_same_report(tmp_path):
    """Two fresh processes, two fresh broken servers, one seed: the same report, stateful suite included."""
    reports = []
    for attempt in range(2):
        with served(DropsTarget) as mock:
            path = tmp_path / f"r{attempt}.json"
            # --workers 1: auto chooses from the measured round trip, which a loaded machine can change
            result = _subprocess(["run", "--max-examples", "3", "--no-shrink", "--seed", "424242", "--workers", "1", "-q", "--target",
                                  mock.url, "--report-json", str(path)], tmp_path,
                                 {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN})
            assert result.returncode == 1, result.stdout + result.stderr
            text = path.read_text(encoding="utf-8").replace(mock.url, "<target>")
        # the mock's webhook sids are a counter plus a random part; only the counter is the run's doing
        text = re.sub(r"(WH[0-9a-f]{10})[0-9a-f]{22}", r"\1", text)
        report = json.loads(text)
        del report["started_at"], report["duration_seconds"]
        reports.append(report)
    assert reports[0]["seed"] == 424242 and reports[0]["violations"]
    assert any(row["family"] == "state" and row["runs"] for row in reports[0]["checks"])  # the stateful suite ran
    assert reports[0] == reports[1]


# ---------------------------------------------------------------------------
# the secret never appears: output, reports, error lines


def _outputs(tmp_path: Path, out: str, err: str) -> dict[str, str]:
    texts = {"stdout": out, "stderr": err}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".xml", ".md"):
            texts[path.name] = path.read_text(encoding="utf-8")
    return texts


def _reports(tmp_path: Path, tag: str) -> list[str]:
    return ["--report-json", str(tmp_path / f"{tag}.json"), "--junitxml", str(tmp_path / f"{tag}.xml"),
            "--report-markdown", str(tmp_path / f"{tag}.md")]


def test_no_output_ever_contains_the_secret(capsys, monkeypatch, tmp_path):
    import base64
    from urllib.parse import quote, quote_plus
    from xml.sax.saxutils import escape

    forbidden = {TOKEN, API_SECRET, quote(TOKEN, safe=""), quote_plus(TOKEN), quote_plus(API_SECRET),
                 base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode(),
                 base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode(),
                 json.dumps(TOKEN)[1:-1], escape(TOKEN), escape(API_SECRET), "Tok3n+With", "Ap1Secret+"}
    seen: dict[str, str] = {}
    codes = {}

    def collect(tag: str, *args: str) -> None:
        codes[tag] = main(["run", *args, *_reports(tmp_path, tag)])
        out, err = capsys.readouterr()
        for name, text in _outputs(tmp_path, out, err).items():
            seen[f"{tag}:{name}"] = text

    # the embedded mock, with the token given as an option
    collect("embedded", *SMALL, "-v", "--account-sid", ACCOUNT, "--auth-token", TOKEN)
    with served(DropsTarget, api_keys={API_KEY: (API_SECRET, ACCOUNT)}) as mock:
        # a failing run (curl lines printed and written), token from the environment, verbose
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        collect("env-token", *SMALL, "--max-examples", "3", "--no-shrink", "-v", "--target", mock.url)
        # the token as an option
        monkeypatch.delenv("TWILIO_AUTH_TOKEN")
        collect("option-token", *SMALL, "--no-stateful", "--target", mock.url, "--account-sid", ACCOUNT,
                "--auth-token", TOKEN)
        # an API key and secret from the environment
        monkeypatch.setenv("TWILIO_API_KEY", API_KEY)
        monkeypatch.setenv("TWILIO_API_SECRET", API_SECRET)
        collect("api-key", *SMALL, "--no-stateful", "--target", mock.url)
        monkeypatch.delenv("TWILIO_API_KEY")
        monkeypatch.delenv("TWILIO_API_SECRET")
    with served(EchoesAuthorization) as leaky:  # a server that answers with the credentials it got
        collect("echoed", *SMALL, "--no-stateful", "--target", leaky.url, "--auth-token", TOKEN, "--account-sid", ACCOUNT)
    # error lines: a misspelt option, a URL with credentials in it
    collect("misspelt", "--auth-tokn", TOKEN)
    collect("userinfo", "--target", f"http://{ACCOUNT}:{TOKEN}@127.0.0.1:9")

    assert codes == {"embedded": 0, "env-token": 1, "option-token": 1, "api-key": 1, "echoed": 1,
                     "misspelt": 2, "userinfo": 2}
    assert any("curl " in text for text in seen.values())  # the failing runs did print reproductions
    assert any("$TWILIO_API_SECRET" in text for key, text in seen.items() if key.startswith("api-key"))
    hits = {key: secret for key, text in seen.items() for secret in forbidden if secret in text}
    assert hits == {}
    assert any("***" in text for key, text in seen.items() if key.startswith("echoed"))  # redacted, not absent


def test_every_run_option_is_documented_in_the_readme():
    """The README's option tables are the interface users read: an option added without them fails here."""
    import argparse
    from pathlib import Path

    from twilio_webhook_contracts.cli import build_parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    missing = []
    for command in ("run", "verify", "mock", "spec", "drift", "history", "restore", "replay"):
        for action in sub.choices[command]._actions:  # noqa: SLF001
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and f"`{option}" not in readme and f"{option} " not in readme:
                    missing.append(f"{command} {option}")
    assert missing == []
