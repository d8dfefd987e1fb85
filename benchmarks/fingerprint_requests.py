"""Requests `fingerprint` sends per open point, against the mock under a few settings (prints figures).

Run: .venv/bin/python benchmarks/fingerprint_requests.py
"""

from __future__ import annotations

from twilio_webhook_contracts import fingerprint
from twilio_webhook_contracts.commands.fingerprint import guarded
from twilio_webhook_contracts.mock import Policies, serve_mock
from twilio_webhook_contracts.target import Credentials, Target

SERVICE, CHANNEL = "IS" + "3" * 32, "CH" + "2" * 32
CASES = [
    ("default mock", [], None, None, None),
    ("parents=declared (with --service-sid/--channel-sid)", ["parents=declared"], [f"{SERVICE}/{CHANNEL}"],
     SERVICE, CHANNEL),
    ("every alternative at once", None, None, None, None),
]

for title, pairs, resources, service, channel in CASES:
    policies = Policies.alternatives().with_(rate_limit_every=0, unavailable_every=0, latency_ms=0) \
        if pairs is None else Policies.from_pairs(pairs)
    with serve_mock(policies=policies, resources=resources) as mock:
        target = Target(mock.url, credentials=Credentials(*mock.auth))
        _, recording = guarded(target, lambda factory: fingerprint.take(
            target, service_sid=service, channel_sid=channel, guard_factory=factory), (), lambda line: None)
        served = len(mock.requests)
    counts = recording["requests"]
    decided = sum(p["choice"] != fingerprint.UNKNOWN for p in recording["points"].values())
    print(f"{title}: {decided}/{len(recording['points'])} decided; probes {counts['probes']}, snapshot {counts['snapshot']}, "
          f"restore {counts['restore']}, total {served} (mock's log)")
    print("   " + ", ".join(f"{name} {n}" for name, n in counts["per_point"].items()))
