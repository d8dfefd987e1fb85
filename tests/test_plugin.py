"""The pytest plugin, as another project sees it once twilio-webhook-contracts is installed.

Each test builds a small foreign project with ``pytester`` and runs pytest on it:
the bundled suite (``--pyargs twilio_webhook_contracts.contract_tests``) against the embedded mock and
against a mock this file serves, users' own contract tests written with our
strategies, fixtures and ``assert_conforms``, the ``--contract-*`` usage errors,
and a project that does not use the plugin at all, which must not notice it.

The bundled suite and anything that depends on environment variables runs in a
subprocess (``runpytest_subprocess``): it starts servers, reads credentials from
the environment and must see exactly what a user's pytest would. Quick,
self-contained runs stay in process.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Iterator

import pytest

from twilio_webhook_contracts.strategies import defects_for
from twilio_webhook_contracts.mock import SUITE_EMBEDDED_POLICIES, MockApp, serve_mock
from twilio_webhook_contracts.spec import default_spec

pytest_plugins = ["pytester"]

ACCOUNT = "AC" + "4" * 32
TOKEN = "plugin-Token+Distinctive/2b7e151628aed2a6"
PLUGIN = "twilio_webhook_contracts"  # the pytest11 entry point's name
OPERATIONS = list(default_spec().operations)
SMALL = ("--contract-max-examples", "2", "-p", "no:cacheprovider")


class DropsTarget(MockApp):
    """The account configuration lacks its documented ``target`` property."""

    def render_account_config(self, call, stored):
        body = super().render_account_config(call, stored)
        del body["target"]
        return body


@pytest.fixture(autouse=True)
def hermetic(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)


@pytest.fixture
def mock() -> Iterator:
    with serve_mock(accounts={ACCOUNT: TOKEN}, policies=SUITE_EMBEDDED_POLICIES) as served:
        yield served


@pytest.fixture
def broken_mock() -> Iterator:
    with serve_mock(DropsTarget(accounts={ACCOUNT: TOKEN}, policies=SUITE_EMBEDDED_POLICIES)) as served:
        yield served


def bundled_counts() -> dict[str, int]:
    """What the bundled suite must report when everything conforms: a test per operation and kind, plus the
    stateful one; only "invalid" of an operation with nothing to make invalid is skipped."""
    nothing_to_break = sum(1 for op in OPERATIONS if not defects_for(op))
    return {"passed": len(OPERATIONS) * 3 + 1 - nothing_to_break, "skipped": nothing_to_break}


def text(result) -> str:
    return "\n".join(result.outlines + result.errlines)


# ---------------------------------------------------------------------------
# the bundled suite


def test_the_bundled_suite_passes_against_the_embedded_mock(pytester):
    result = pytester.runpytest_subprocess("--pyargs", "twilio_webhook_contracts.contract_tests", *SMALL, "-W", "error")
    result.assert_outcomes(**bundled_counts())
    assert result.ret == 0
    output = text(result)
    assert "twilio-webhook-contracts: target embedded mock" in output
    assert re.search(r"twilio-webhook-contracts: seed (\d+) \(replay with --contract-seed \1\)", output)


def test_the_bundled_suite_against_a_served_mock_with_credentials_from_the_environment(pytester, mock, credentials):
    result = pytester.runpytest_subprocess("--pyargs", "twilio_webhook_contracts.contract_tests", *SMALL, "--contract-target", mock.url,
                                           "--contract-seed", "31337")
    result.assert_outcomes(**bundled_counts())
    output = text(result)
    assert f"twilio-webhook-contracts: target {mock.url}" in output
    assert "seed 31337 (replay with --contract-seed 31337)" in output
    usernames = {entry.username for entry in mock.requests}
    assert ACCOUNT in usernames and len(mock.requests) > len(OPERATIONS) * 3  # the suite really ran here
    assert any(entry.operation_id == "DeleteChannelWebhook" for entry in mock.requests)
    assert TOKEN not in output


def test_the_bundled_suite_names_what_a_broken_target_gets_wrong(pytester, broken_mock, credentials):
    result = pytester.runpytest_subprocess("--pyargs", "twilio_webhook_contracts.contract_tests", *SMALL, "--contract-target", broken_mock.url,
                                           "--contract-checks", "response,identity,input", "--contract-seed", "5")
    assert result.ret == 1
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) == 0 and outcomes["failed"] >= 1
    failed = {line.split()[1] for line in result.outlines if line.startswith("FAILED ")}
    assert "test_contract.py::test_operation[FetchConfigurationWebhook-valid]" in {f.split("/")[-1] for f in failed}
    assert all("ConfigurationWebhook-" in name and "Service" not in name for name in failed), failed
    output = text(result)
    assert "response_schema_conforms [FetchConfigurationWebhook]: FetchConfigurationWebhook: response $.target: " \
           "expected the property to be present" in output
    assert re.search(rf"curl -sS -X GET {re.escape(broken_mock.url)}/v1/Configuration/Webhooks -u "
                     rf"\"{ACCOUNT}:\$TWILIO_AUTH_TOKEN\"", output)
    assert "replay with --contract-seed 5" in output
    assert "Traceback" not in output and TOKEN not in output
    assert "no state check selected" in output or outcomes.get("skipped", 0) >= 1


@pytest.mark.slow  # two workers, each importing everything: ~25 s on two cores
def test_the_bundled_suite_spreads_over_xdist_workers(pytester):
    pytest.importorskip("xdist")
    result = pytester.runpytest_subprocess("--pyargs", "twilio_webhook_contracts.contract_tests", *SMALL, "-n", "2")
    result.assert_outcomes(**bundled_counts())


def test_an_unreachable_contract_target_stops_the_run_with_status_3(pytester, credentials):
    with socket.socket() as sock:  # bound, not listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        result = pytester.runpytest_subprocess("--pyargs", "twilio_webhook_contracts.contract_tests", *SMALL, "--contract-target", url)
    assert result.ret == 3
    assert f"twilio-webhook-contracts: cannot reach {url}: connection refused" in text(result)


# ---------------------------------------------------------------------------
# users' own contract tests


USER_TESTS = '''
from hypothesis import given, settings

from twilio_webhook_contracts.contract_tests import assert_conforms, conformance_problems
from twilio_webhook_contracts.strategies import invalid_requests, valid_requests

SERVICE = "IS" + "9" * 32


@settings(max_examples=5, deadline=None)
@given(request=valid_requests("UpdateServiceWebhookConfiguration", ChatServiceSid=SERVICE))
def test_updates_conform(contract_target, request):
    response = contract_target.send(request)
    assert response.status == 200
    assert_conforms(response, account_sid=contract_target.credentials.account_sid)


@settings(max_examples=5, deadline=None)
@given(request=invalid_requests("UpdateConfigurationWebhook"))
def test_bad_updates_are_rejected(contract_target, request):
    response = contract_target.send(request)
    assert response.status == 400
    assert_conforms(response, checks="response,input")


def test_fetch_conforms(contract_target):
    from twilio_webhook_contracts.spec import default_spec
    from twilio_webhook_contracts.contract_tests.stateful import fixed_request

    response = contract_target.send(fixed_request(default_spec(), "FetchConfigurationWebhook", {}))
    assert_conforms(response, account_sid=contract_target.credentials.account_sid)
    assert conformance_problems(response) == []
'''


def test_a_user_written_test_with_our_strategies_and_fixtures(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=3)


def test_a_user_test_against_a_broken_response_fails_with_a_useful_message(pytester, broken_mock, credentials):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--contract-target", broken_mock.url,
                                           "-k", "fetch_conforms")
    result.assert_outcomes(failed=1, deselected=2)
    output = text(result)
    assert "AssertionError: GET /v1/Configuration/Webhooks answered 200:" in output
    assert "response_schema_conforms: FetchConfigurationWebhook: response $.target: expected the property to be " \
           "present, found nothing" in output
    assert f"reproduce: curl -sS -X GET {broken_mock.url}/v1/Configuration/Webhooks" in output
    assert TOKEN not in output


def test_a_hypothesis_user_test_against_a_broken_server_shows_the_falsifying_request(pytester, broken_mock, credentials):
    pytester.makepyfile(test_user='''
from hypothesis import Phase, given, settings
from twilio_webhook_contracts.contract_tests import assert_conforms
from twilio_webhook_contracts.strategies import valid_requests

# no "explain" phase: it would re-send a hundred variations of the failing request (seconds, here)
@settings(max_examples=5, deadline=None, database=None, phases=[Phase.generate, Phase.shrink])
@given(request=valid_requests("UpdateConfigurationWebhook"))
def test_updates_conform(contract_target, request):
    assert_conforms(contract_target.send(request))
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--contract-target", broken_mock.url)
    result.assert_outcomes(failed=1)
    output = text(result)
    assert re.search(r"(Falsifying example|Failing test case): test_updates_conform\(", output)
    assert "request=Request(operation_id='UpdateConfigurationWebhook'" in output
    assert "response_schema_conforms: UpdateConfigurationWebhook: response $.target" in output


def test_the_secret_stays_out_of_failure_reports_even_with_showlocals(pytester, credentials):
    pytester.makepyfile(test_user='''
from twilio_webhook_contracts.contract_tests.stateful import fixed_request
from twilio_webhook_contracts.spec import default_spec

def test_send(contract_target):
    print("sending as", contract_target.credentials)
    contract_target.send(fixed_request(default_spec(), "FetchConfigurationWebhook", {}))
''')
    with socket.socket() as sock:  # bound, not listening: the send fails inside the transport
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--contract-target", url, "--showlocals",
                                               "-rA")
    result.assert_outcomes(failed=1)
    output = text(result)
    assert "TargetUnreachable: cannot reach" in output and "sending as Credentials(" in output
    assert TOKEN not in output  # the transport keeps it off the stack; the report hook redacts anything else


def test_assert_conforms_names_every_broken_property(pytester):
    """In process: a hand-made response with two defects, judged without any server."""
    pytester.makepyfile(test_unit='''
import json
import pytest
from twilio_webhook_contracts.contract_tests import assert_conforms, conformance_problems
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import Response

def test_two_defects():
    request = Request.build("FetchConfigurationWebhook", "GET", "/v1/Configuration/Webhooks")
    body = {"account_sid": "AC" + "1" * 32, "method": "PUT", "filters": None, "pre_webhook_url": None,
            "post_webhook_url": None, "url": "https://conversations.twilio.com/v1/Configuration/Webhooks"}
    response = Response(request, "https://conversations.twilio.com/v1/Configuration/Webhooks", 200,
                        {"Content-Type": "application/json"}, json.dumps(body).encode(), 0.0)
    with pytest.raises(AssertionError) as failure:
        assert_conforms(response, account_sid="AC" + "2" * 32)
    message = str(failure.value)
    assert "response_schema_conforms" in message and "$.target" in message and "$.method" in message
    assert "account_sid_matches" in message
    assert "reproduce: curl -sS -X GET https://conversations.twilio.com/v1/Configuration/Webhooks" in message
    assert not any(p.startswith("account_sid_matches") for p in conformance_problems(response))
    assert conformance_problems(response, checks="identity") == []
    with pytest.raises(ValueError, match="unknown check"):
        conformance_problems(response, checks=["nope"])
''')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


# ---------------------------------------------------------------------------
# usage errors


DEAD = "http://127.0.0.1:9"


@pytest.mark.parametrize("args,environment,message", [
    (["--contract-checks", "bogus"], {}, "ERROR: unknown check 'bogus'; known checks and families: "),
    (["--contract-exclude-checks", "response,identity,input,state,liveness"], {}, "leave no check to run"),
    (["--contract-conversations-url", DEAD], {}, "ERROR: name a contract target: --contract-target URL, or both"),
    (["--contract-chat-url", DEAD], {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN},
     "ERROR: name a contract target"),
    (["--contract-target", DEAD], {}, "ERROR: no credentials for the contract target: set TWILIO_ACCOUNT_SID"),
    (["--contract-target", DEAD], {"TWILIO_ACCOUNT_SID": ACCOUNT}, "ERROR: no credentials for the contract target"),
    (["--contract-target", DEAD], {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": TOKEN},
     "ERROR: TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"),
    (["--contract-target", "ftp://127.0.0.1"], {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN},
     "ERROR: --contract-target: expected an absolute http(s) URL"),
    (["--contract-target", f"http://{ACCOUNT}:pass-{ACCOUNT[::-1]}@127.0.0.1:9"], {},
     "ERROR: --contract-target: the URL must not carry credentials"),
    (["--contract-target", f"http://{ACCOUNT}:{TOKEN}@127.0.0.1:9"], {}, "ERROR: --contract-target: not a valid URL"),
    (["--contract-max-examples", "0"], {}, "ERROR: --contract-max-examples must be at least 1"),
    (["--contract-request-timeout", "-1"], {}, "ERROR: --contract-request-timeout must be a positive number"),
    (["--contract-service-sid", "IS1"], {}, "ERROR: --contract-service-sid must be IS followed by 32 hex digits"),
])
def test_contract_option_mistakes_are_one_line_usage_errors(pytester, monkeypatch, args, environment, message):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest(*args, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0], result.errlines
    assert "Traceback" not in text(result) and TOKEN not in text(result)
    assert result.parseoutcomes() == {} if result.outlines else True  # nothing ran


def test_a_mistake_in_the_bundled_run_is_a_usage_error_too(pytester):
    result = pytester.runpytest_subprocess("--pyargs", "twilio_webhook_contracts.contract_tests", "--contract-checks", "bogus")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: unknown check 'bogus'" in text(result)
    assert "Traceback" not in text(result) and "test_operation" not in text(result)


# ---------------------------------------------------------------------------
# a project that does not use the plugin must not notice it


FOREIGN_TESTS = {
    "conftest.py": '''
import pytest

@pytest.fixture
def number():
    return 41
''',
    "test_plain.py": '''
import sys
import warnings
import pytest

HEAVY = ("twilio_webhook_contracts", "strategies", "contract_tests.", "werkzeug", "openapi_core", "jsonschema",
         "fastjsonschema", "yaml")

def test_pass(number):
    assert number + 1 == 42

def test_fail():
    assert 1 == 2

@pytest.mark.skip(reason="not today")
def test_skip():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    assert x

def test_nothing_heavy_was_imported():
    light = ("twilio_webhook_contracts", "twilio_webhook_contracts.pytest_plugin")
    assert [name for name in sys.modules if name.startswith(HEAVY) and name not in light] == []

def test_warnings_still_work():
    with pytest.warns(UserWarning):
        warnings.warn("mine", UserWarning)
''',
}


def _normalise(lines: list[str], root: Path) -> list[str]:
    out = []
    for line in lines:
        line = line.replace(str(root), "<root>")
        line = re.sub(r" in \d+\.\d+s", " in <t>", line)
        line = re.sub(r"^(platform|plugins|cachedir|rootdir).*", r"\1 ...", line)
        out.append(line)
    return out


def _files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")
            if "__pycache__" not in path.parts}


def test_a_project_that_does_not_use_the_plugin_sees_no_change(pytester, monkeypatch):
    results = {}
    for mode in ("without", "with"):
        root = pytester.mkdir(mode) / "project"
        root.mkdir()
        for name, source in FOREIGN_TESTS.items():
            (root / name).write_text(source)
        before = _files(root)
        monkeypatch.chdir(root)
        extra = ["-p", f"no:{PLUGIN}"] if mode == "without" else []
        result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider", "-rA", *extra)
        assert _files(root) == before  # no file written (bytecode caches aside)
        results[mode] = (result, root)
    (without, root_without), (with_plugin, root_with) = results["without"], results["with"]
    assert with_plugin.ret == without.ret == pytest.ExitCode.TESTS_FAILED
    assert with_plugin.parseoutcomes() == without.parseoutcomes() == {
        "failed": 1, "passed": 5, "skipped": 1, "xfailed": 1}
    assert _normalise(with_plugin.outlines, root_with) == _normalise(without.outlines, root_without)
    assert with_plugin.errlines == without.errlines == []
    plugins_line = [line for line in with_plugin.outlines if line.startswith("plugins:")]
    assert "twilio-webhook-contracts" in plugins_line[0]  # pytest lists it, as it lists every plugin ...
    assert "twilio-webhook-contracts" not in text(with_plugin).replace(plugins_line[0], "")  # ... and that is all


def test_the_plugin_is_registered_through_its_entry_point(pytester):
    """The comparison above means something only if the plugin was loaded in the "with" run."""
    loaded = pytester.runpytest_subprocess("--help")
    disabled = pytester.runpytest_subprocess("--help", "-p", f"no:{PLUGIN}")
    for option in ("--contract-target", "--contract-conversations-url", "--contract-chat-url",
                   "--contract-max-examples", "--contract-seed", "--contract-checks", "--contract-exclude-checks",
                   "--contract-service-sid", "--contract-channel-sid", "--contract-request-timeout"):
        assert option in text(loaded)
        assert option not in text(disabled)
    fixtures = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    for fixture in ("twilio_mock", "contract_target", "contract_suite"):
        assert re.search(rf"^{fixture} \[.*scope\]|^{fixture}\b", text(fixtures), re.M), fixture
