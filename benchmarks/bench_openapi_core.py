"""The validation facade against openapi-core on the same responses (README "Dependencies").

For a conforming and a non-conforming account-configuration response (``target`` removed),
prints microseconds per call of

* the facade, ``validate_response`` (fastjsonschema yes/no; openapi-schema-validator detail on "no"),
* openapi-core's response validator (``twilio_webhook_contracts.oracle``, extra ``[oracle]``),

both warmed up first (compiled/parsed once, as a run would), best of 5 rounds.

    .venv/bin/python benchmarks/bench_openapi_core.py [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import time

from twilio_webhook_contracts import oracle
from twilio_webhook_contracts.request import Request
from twilio_webhook_contracts.validation import validate_response

ACCOUNT = "AC" + "1" * 32
GOOD = {"account_sid": ACCOUNT, "method": "POST", "filters": ["onMessageAdded"], "pre_webhook_url": None,
        "post_webhook_url": None, "target": "webhook",
        "url": "https://conversations.twilio.com/v1/Configuration/Webhooks"}
BAD = {key: value for key, value in GOOD.items() if key != "target"}


def _time(function, calls: int) -> float:
    function()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    calls = parser.parse_args().calls
    request = Request.build("FetchConfigurationWebhook", "GET", "/v1/Configuration/Webhooks")
    headers = {"Content-Type": "application/json"}
    print(f"{'response':12} {'facade us/call':>15} {'openapi-core us/call':>21}  verdicts agree")
    for label, body in (("conforming", GOOD), ("missing field", BAD)):
        raw = json.dumps(body).encode()
        facade = _time(lambda: validate_response("FetchConfigurationWebhook", 200, headers, raw), calls)
        core = _time(lambda: oracle.response_errors(request, 200, raw), calls)
        agree = bool(validate_response("FetchConfigurationWebhook", 200, headers, raw)) == bool(
            oracle.response_errors(request, 200, raw))
        print(f"{label:12} {facade:15.1f} {core:21.1f}  {agree}")


if __name__ == "__main__":
    main()
