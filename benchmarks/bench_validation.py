"""Validation cost: microseconds per response validation, for each operation.

    .venv/bin/python benchmarks/bench_validation.py [--responses 200] [--rounds 20]

The responses are real ones: for every operation, the embedded mock (in this process)
answers a set of generated valid requests and a few invalid and unauthenticated ones,
so the mix has success bodies (a configuration, a webhook, a list page) and Twilio error
bodies. Each is then validated as a run validates it --
``validate_response(operation, status, headers, body)`` on the raw body bytes (status,
headers, content type, JSON parse, schema) -- ``--rounds`` times over, and the figure is
the mean time per call. Validators are compiled before timing (a run compiles each once).

Also shown: the cost of a response that does *not* conform (a required property
removed), which takes the detailed path (openapi-schema-validator lists every
violation), and of the mock's request side (``read_form``: parse, type and check one
form body).

The target (issue 8) is at most 50 microseconds per response on average.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ACCOUNT_SID, AUTH_TOKEN, machine_line  # noqa: E402


def collect(responses_per_operation: int) -> dict[str, list[tuple[int, dict, bytes]]]:
    """Responses of the mock to generated requests, per operation."""
    from hypothesis import HealthCheck, Phase, given, settings

    from twilio_webhook_contracts.strategies import defects_for, invalid_requests, valid_requests
    from twilio_webhook_contracts.mock import serve_mock
    from twilio_webhook_contracts.spec import default_spec
    from twilio_webhook_contracts.target import Credentials, Target

    spec = default_spec()
    service, channel = "IS" + "1" * 32, "CH" + "2" * 32
    collected: dict[str, list[tuple[int, dict, bytes]]] = {op: [] for op in spec.operations}
    with serve_mock(accounts={ACCOUNT_SID: AUTH_TOKEN}) as mock:
        target = Target(mock.url, credentials=Credentials(ACCOUNT_SID, AUTH_TOKEN))
        created = target.send(_create(spec, service, channel))
        sid = json.loads(created.body)["sid"]

        def keep(response) -> None:
            collected[response.request.operation_id].append((response.status, dict(response.headers), response.body))

        for operation_id in spec.operations:
            pins = {name: value for name, value in (("ServiceSid", service), ("ChatServiceSid", service),
                                                    ("ChannelSid", channel), ("Sid", sid))
                    if any(p.name == name for p in spec.operation(operation_id).path_parameters)}
            if operation_id == "DeleteChannelWebhook":
                pins.pop("Sid")  # deleting the shared webhook would turn every later answer into a 404
            kinds = [("valid", valid_requests(operation_id, **pins), responses_per_operation)]
            if defects_for(operation_id):
                kinds.append(("invalid", invalid_requests(operation_id, **pins), max(1, responses_per_operation // 5)))
            for kind, strategy, count in kinds:

                @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
                          suppress_health_check=list(HealthCheck))
                @given(strategy)
                def send(request) -> None:
                    keep(target.send(request))

                send()
            keep(target.send(_any_request(spec, operation_id, pins, sid), auth="none"))
        target.close()
    return collected


def _create(spec, service: str, channel: str):
    from twilio_webhook_contracts.request import Request

    op = spec.operation("CreateChannelWebhook")
    return Request.build(op.operation_id, op.method, op.render_path({"ServiceSid": service, "ChannelSid": channel}),
                         path_params={"ServiceSid": service, "ChannelSid": channel},
                         form=[("Type", "webhook"), ("Configuration.Url", "https://example.com/hook")])


def _any_request(spec, operation_id: str, pins: dict, sid: str):
    from twilio_webhook_contracts.request import Request

    op = spec.operation(operation_id)
    params = {p.name: pins.get(p.name, sid) for p in op.path_parameters}
    return Request.build(op.operation_id, op.method, op.render_path(params), path_params=params,
                         form=[] if op.form_schema is not None else None)


def time_per_call(function, items, rounds: int) -> float:
    """Mean microseconds per call over *rounds* passes (the best pass, to leave out machine noise)."""
    passes = []
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            function(*item)
        passes.append((time.perf_counter() - started) / len(items) * 1e6)
    return min(passes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=200, help="generated valid requests per operation (default 200)")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the responses; the best is shown (default 20)")
    args = parser.parse_args()

    from twilio_webhook_contracts.validation import validate_response, validator_for

    print(machine_line())
    started = time.perf_counter()
    collected = collect(args.responses)
    print(f"collected {sum(map(len, collected.values()))} responses from the mock in {time.perf_counter() - started:.1f}s; "
          f"best of {args.rounds} passes\n")
    print(f"{'operation':36} {'responses':>9} {'statuses':>18} {'us/response':>12} {'us, 1 violation':>16}")
    means, weights = [], []
    for operation_id, responses in sorted(collected.items()):
        validator = validator_for(operation_id)
        items = [(operation_id, status, headers, body) for status, headers, body in responses]
        for item in items:  # compile, and check that the mock's answers conform
            problems = validate_response(*item)
            assert not problems, problems
        cost = time_per_call(validate_response, items, args.rounds)
        broken = _broken(responses, validator)
        broken_cost = time_per_call(validate_response, [(operation_id, *b) for b in broken], max(1, args.rounds // 4)) \
            if broken else None
        statuses = ",".join(str(s) for s in sorted({status for status, _, _ in responses}))
        shown = f"{broken_cost:16.1f}" if broken_cost is not None else f"{'-':>16}"
        print(f"{operation_id:36} {len(items):9d} {statuses:>18} {cost:12.1f} {shown}")
        means.append(cost)
        weights.append(len(items))
    overall = sum(m * w for m, w in zip(means, weights)) / sum(weights)
    print(f"\nmean over all {sum(weights)} responses: {overall:.1f} us per response validation "
          f"(per operation: median {statistics.median(means):.1f}, max {max(means):.1f}); target <= 50 us")

    # the mock's side: one form body read, typed and checked
    from twilio_webhook_contracts.spec import default_spec

    spec = default_spec()
    body = (b"Type=webhook&Configuration.Url=https%3A%2F%2Fexample.com%2Fhook&Configuration.Method=POST"
            b"&Configuration.Filters=onMessageSent&Configuration.Filters=onMemberAdded&Configuration.RetryCount=2")
    validator = validator_for("CreateChannelWebhook", spec)
    assert not validator.read_form(body)[1]
    cost = time_per_call(validator.read_form, [(body,)] * 1000, max(1, args.rounds // 4))
    print(f"request side (the mock): read_form of a 6-field CreateChannelWebhook body: {cost:.1f} us")
    return 0


def _broken(responses, validator) -> list[tuple[int, dict, bytes]]:
    """Success responses with their first required property removed (the detailed path)."""
    out = []
    for status, headers, body in responses:
        if not 200 <= status < 300 or not body:
            continue
        data = json.loads(body)
        if isinstance(data, dict) and data:
            del data[next(iter(data))]
            out.append((status, headers, json.dumps(data).encode()))
    return out[:50]


if __name__ == "__main__":
    sys.exit(main())
