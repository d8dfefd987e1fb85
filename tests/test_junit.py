"""The JUnit report validates against the JUnit XSD that CI tools use (Jenkins' junit-10.xsd),
passing and failing, with one test case per (check, operation) and one failure each.

The XSD comes from the pytest sdist (see tests/data/junit-10.xsd.md); lxml validates.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from twilio_webhook_contracts.contract_tests.results import Results
from twilio_webhook_contracts.report import to_junit_xml
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.target import Response

lxml_etree = pytest.importorskip("lxml.etree")


@pytest.fixture(scope="module")
def junit_schema(tmp_path_factory):
    version = pytest.__version__
    where = tmp_path_factory.mktemp("pytest-sdist")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    f"pytest=={version}", "-d", str(where)], check=True, capture_output=True)
    (sdist,) = where.glob("pytest-*.tar.gz")
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"pytest-{version}/testing/example_scripts/junit-10.xsd")
        text = member.read()
    assert b"Gregory Boissinot" in text and b'<xs:element name="testsuites">' in text, "not Jenkins' junit-10.xsd"
    return lxml_etree.XMLSchema(lxml_etree.fromstring(text))


def _results() -> Results:
    results = Results(seed=7)
    fetch = Request.build("FetchConfigurationWebhook", "GET", "/v1/Configuration/Webhooks")
    ok = Response(fetch, "http://127.0.0.1:1/v1/Configuration/Webhooks", 200, {}, b"{}", 0.25)
    bad = Response(fetch, "http://127.0.0.1:1/v1/Configuration/Webhooks", 500, {}, b"boom", 0.5)
    for response in (ok, bad):
        results.ran("no_server_error", operation="FetchConfigurationWebhook", seconds=response.elapsed)
        results.ran("valid_request_accepted", operation="FetchConfigurationWebhook", seconds=response.elapsed)
    results.ran("no_server_error", operation="ListChannelWebhook", seconds=0.125)
    for _ in range(3):  # several failures of one (check, operation): still one <failure>
        results.record("no_server_error", "FetchConfigurationWebhook", ["server error 500"], response=bad, curl="curl x")
    results.record("valid_request_accepted", "FetchConfigurationWebhook", ["answered 500"], response=bad, curl="curl x")
    results.finished = results.started + 2
    return results


def test_a_failing_report_validates_with_one_failure_per_case_and_real_times(junit_schema):
    tree = lxml_etree.fromstring(to_junit_xml(_results()).encode())
    junit_schema.assertValid(tree)
    cases = {case.get("name"): case for case in tree.iter("testcase")}
    fetch = cases["no_server_error[FetchConfigurationWebhook]"]
    assert len(fetch.findall("failure")) == 1 and fetch.get("time") == "0.750"
    assert cases["no_server_error[ListChannelWebhook]"].find("failure") is None
    assert cases["no_server_error[ListChannelWebhook]"].get("time") == "0.125"
    assert all(len(case.findall("failure")) <= 1 for case in cases.values())
    suite = tree.find("testsuite")
    assert int(suite.get("failures")) == 2 == sum(case.find("failure") is not None for case in cases.values())
    assert int(suite.get("tests")) == len(cases)
    skipped = [case for case in cases.values() if case.find("skipped") is not None]
    assert skipped and all("[" not in case.get("name") for case in skipped)  # never exercised: one case per check


def test_a_passing_report_validates(junit_schema):
    results = Results(seed=1)
    results.ran("no_server_error", operation="FetchConfigurationWebhook", seconds=0.01)
    results.finished = results.started
    tree = lxml_etree.fromstring(to_junit_xml(results).encode())
    junit_schema.assertValid(tree)
    assert tree.find("testsuite").get("failures") == "0"


def test_the_schema_rejects_what_ci_tools_reject(junit_schema):
    """The validator can fail: a testcase without a name is invalid."""
    broken = to_junit_xml(_results()).replace('name="no_server_error[ListChannelWebhook]"', "", 1)
    assert not junit_schema.validate(lxml_etree.fromstring(broken.encode()))


def test_a_real_failing_run_writes_a_valid_file(junit_schema, tmp_path, monkeypatch):
    from twilio_webhook_contracts.cli import main
    from twilio_webhook_contracts.mock import serve_mock

    from live_helpers import DropsTarget

    account, token = "AC" + "9" * 32, "junit-Token/5e6f7a8b9c0d"
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", account)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", token)
    for name in ("TWILIO_API_KEY", "TWILIO_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with serve_mock(DropsTarget(accounts={account: token})) as mock:
        code = main(["run", "--max-examples", "3", "--database", "none", "--seed", "2", "-q", "--target", mock.url,
                     "--junitxml", str(tmp_path / "r.xml")])
    assert code == 1
    tree = lxml_etree.parse(str(tmp_path / "r.xml"))
    junit_schema.assertValid(tree)
    cases = tree.findall(".//testcase")
    assert sum(len(case.findall("failure")) for case in cases) == int(tree.find("testsuite").get("failures")) >= 2
    assert all(len(case.findall("failure")) <= 1 for case in cases)
