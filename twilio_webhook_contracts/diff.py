"""``diff``: the same requests to two targets, and every place where they behave differently.

A mock author's question is "does my mock behave like that server?", most of
all where Twilio's docs are silent. :func:`run_diff` sends both targets the same
steps, in lockstep: a scripted sequence (configurations updated and read back;
a channel webhook created, listed, fetched, updated, deleted, fetched again; a
channel filled to its limit; the open points' probes), then requests drawn from
:func:`~twilio_webhook_contracts.strategies.valid_requests` and
:func:`~twilio_webhook_contracts.strategies.invalid_requests` with a fixed seed.

Before comparing, what legitimately differs is normalised: generated sids are
mapped pairwise (the n-th new sid either side saw becomes ``<sid n>``), dates
become ``<date>``, the host each side was addressed at becomes ``<host>`` in
every URL (another host -- Twilio's canonical one, say -- stays, since which
host a server names is its choice and a difference), and ``filters`` and
``triggers`` are compared as sets (no order is documented). What is left is a
behavioural difference: status, error code, a body field (the error's wording
counts, as kind ``error message``), or the state read back after a sequence.
"""

from __future__ import annotations

import json
import re
import secrets as _random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from .request import Request
from .spec import Spec
from .target import Response, Target

__all__ = ["Difference", "DiffResult", "run_diff", "to_json", "to_markdown", "to_text"]

#: A sid, also inside a paging token (``PageToken=PAWH...``).
_SID = re.compile(r"(?<![0-9a-f])[A-Z]{2}[0-9a-f]{32}(?![0-9a-f])")
_ODD_NAME = "diff odd name!\u00e9"
#: Lists whose order no document promises.
_UNORDERED = ("filters", "triggers")


@dataclass
class Difference:
    """One behavioural difference at one step."""

    step: int
    label: str
    kind: str  # status | error code | error message | body field | state after a sequence
    where: str  # the field path ("" for the status)
    a: Any
    b: Any
    request: str
    curl_a: str
    curl_b: str
    answer_a: str
    answer_b: str


@dataclass
class DiffResult:
    label_a: str
    label_b: str
    seed: int
    steps: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)


@dataclass
class _Side:
    target: Target
    #: generated sid -> its placeholder (shared numbering with the other side's partner)
    sids: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    sent: frozenset[str] = frozenset()  # sids in the request being compared: ours, kept verbatim

    def normalise(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.normalise(v, k) for k, v in value.items()}
        if isinstance(value, list):
            items = [self.normalise(v) for v in value]
            if key in _UNORDERED and all(isinstance(v, str) for v in items):
                return sorted(items)
            return items
        if isinstance(value, str):
            if key.startswith("date_") and value:
                return "<date>"
            for base in {self.target.conversations_url, self.target.chat_url}:
                value = value.replace(base.rstrip("/"), "<host>")
            return _SID.sub(lambda m: m.group() if m.group() in self.sent else self.sids.get(m.group(), m.group()),
                            value)
        return value


class _Pairing:
    """Generated sids mapped pairwise: at each step, the n-th new sid A answered with is paired with the
    n-th new sid B answered with (when both answered with as many); unpaired ones get a side's own name."""

    def __init__(self) -> None:
        self.count = 0

    def learn(self, sides: Sequence[_Side], bodies: Sequence[Any], request_sids: frozenset[str]) -> None:
        fresh = []
        for side, body in zip(sides, bodies):
            text = body if isinstance(body, str) else json.dumps(body)
            found = [sid for sid in dict.fromkeys(_SID.findall(text)) if sid not in request_sids and sid not in side.sids]
            fresh.append(found)
        if len(fresh[0]) == len(fresh[1]):
            for sid_a, sid_b in zip(*fresh):
                self.count += 1
                name = f"<{sid_a[:2]} {self.count}>" if sid_a[:2] == sid_b[:2] else f"<sid {self.count}>"
                sides[0].sids[sid_a] = sides[1].sids[sid_b] = name
        else:
            for tag, side, found in zip("ab", sides, fresh):
                for sid in found:
                    self.count += 1
                    side.sids[sid] = f"<{sid[:2]} {tag}{self.count} unpaired>"


#: A step: label, operation, path params, query, form (None: no body), and whether it reads state after writes.
@dataclass(frozen=True)
class _Step:
    label: str
    operation_id: str
    params: Mapping[str, str] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] | None = None
    state: bool = False
    uses_created: bool = False  # the path's Sid is the webhook this side created last


def _script(service: str, channel: str, full_channel: str, unknown_service: str) -> list[_Step]:
    channel_params = {"ServiceSid": service, "ChannelSid": channel}
    hook = {**channel_params, "Sid": "<created>"}
    full = {"ServiceSid": service, "ChannelSid": full_channel}
    steps = [
        _Step("read the account configuration", "FetchConfigurationWebhook"),
        _Step("update the account configuration", "UpdateConfigurationWebhook",
              form=(("PreWebhookUrl", "https://diff.invalid/pre"), ("PostWebhookUrl", ""))),
        _Step("read the account configuration back", "FetchConfigurationWebhook", state=True),
        _Step("read a service configuration", "FetchServiceWebhookConfiguration", {"ChatServiceSid": service}),
        _Step("update the service configuration", "UpdateServiceWebhookConfiguration", {"ChatServiceSid": service},
              form=(("PostWebhookUrl", "https://diff.invalid/post"), ("Filters", "onMessageUpdated"),
                    ("Filters", "onMessageAdded"))),
        _Step("read the service configuration back", "FetchServiceWebhookConfiguration", {"ChatServiceSid": service},
              state=True),
        _Step("create a webhook", "CreateChannelWebhook", channel_params,
              form=(("Type", "webhook"), ("Configuration.Url", "https://diff.invalid/hook"),
                    ("Configuration.Filters", "onMessageUpdated"), ("Configuration.Filters", "onMessageSent"))),
        _Step("list the channel's webhooks", "ListChannelWebhook", channel_params, state=True),
        _Step("list with PageSize=20", "ListChannelWebhook", channel_params, query=(("PageSize", "20"),)),
        _Step("fetch the webhook", "FetchChannelWebhook", hook, state=True, uses_created=True),
        _Step("update the webhook", "UpdateChannelWebhook", hook, form=(("Configuration.Url", "https://diff.invalid/new"),
                                                                         ("Configuration.RetryCount", "2")),
              uses_created=True),
        _Step("fetch the updated webhook", "FetchChannelWebhook", hook, state=True, uses_created=True),
        _Step("delete the webhook", "DeleteChannelWebhook", hook, uses_created=True),
        _Step("fetch the deleted webhook", "FetchChannelWebhook", hook, state=True, uses_created=True),
        _Step("create a trigger webhook", "CreateChannelWebhook", channel_params,
              form=(("Type", "trigger"), ("Configuration.Url", "https://diff.invalid/trigger"),
                    ("Configuration.Triggers", "diff"), ("Configuration.Triggers", "contracts"))),
        _Step("fetch the trigger webhook", "FetchChannelWebhook", hook, state=True, uses_created=True),
        _Step("delete the trigger webhook", "DeleteChannelWebhook", hook, uses_created=True),
        _Step("create a webhook with a field its Type does not use", "CreateChannelWebhook", channel_params,
              form=(("Type", "webhook"), ("Configuration.Url", "https://diff.invalid/unused"),
                    ("Configuration.FlowSid", "FW" + "0" * 32))),
        _Step("delete the webhook created last", "DeleteChannelWebhook", hook, uses_created=True),
        _Step("list on a channel named outside [A-Za-z0-9_.-]", "ListChannelWebhook",
              {"ServiceSid": service, "ChannelSid": _ODD_NAME}),
        _Step("list on a random service", "ListChannelWebhook",
              {"ServiceSid": unknown_service, "ChannelSid": channel}),
        _Step("an invalid create on a random service", "CreateChannelWebhook",
              {"ServiceSid": unknown_service, "ChannelSid": channel}, form=(("Type", "diff-not-a-type"),)),
    ]
    for index in range(6):
        steps.append(_Step(f"webhook {index + 1} on a channel (five allowed)", "CreateChannelWebhook", full,
                           form=(("Type", "webhook"), ("Configuration.Url", f"https://diff.invalid/{index}"))))
    steps.append(_Step("list the full channel", "ListChannelWebhook", full, state=True))
    return steps


def _seeded(spec: Spec, seed: int, per_operation: int, service: str, channel: str,
            frozen: Mapping[str, Sequence[str]]) -> list[tuple[str, Request]]:
    """Requests drawn from the strategies with *seed*: the same list for the same seed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    from twilio_webhook_contracts.strategies import invalid_requests, valid_requests

    drawn: list[tuple[str, Request]] = []
    for operation in spec:
        pins: dict[str, Any] = {}
        path = operation.path
        if "{ServiceSid}" in path:
            pins["ServiceSid"] = service
        if "{ChatServiceSid}" in path:
            pins["ChatServiceSid"] = service
        if "{ChannelSid}" in path:
            pins["ChannelSid"] = channel
        pinned = {name: None for name in frozen.get(operation.operation_id, ())}
        kinds: list[tuple[str, Any]] = [("valid", valid_requests(operation.operation_id, spec=spec, pinned=pinned,
                                                                   **pins))]
        try:
            kinds.append(("invalid", invalid_requests(operation.operation_id, spec=spec, pinned=pinned, **pins)))
        except Exception:  # noqa: BLE001 - an operation with nothing to break (a fetch without parameters)
            pass
        for kind, strategy in kinds:
            found: list[Request] = []

            @with_seed(seed)
            @settings(max_examples=per_operation, database=None, phases=[Phase.generate], deadline=None,
                      suppress_health_check=list(HealthCheck))
            @given(strategy)
            def collect(request: Request) -> None:
                if len(found) < per_operation:
                    found.append(request)

            collect()
            drawn += [(f"{kind} {operation.operation_id}", request) for request in found]
    return drawn


def run_diff(a: Target, b: Target, *, label_a: str = "A", label_b: str = "B", seed: int = 0,
             per_operation: int = 3, service_sid: str | None = None, channel_sid: str | None = None,
             writes: bool = True, frozen: Mapping[str, Sequence[str]] | None = None,
             progress: Callable[[str], None] | None = None) -> DiffResult:
    """Send both targets the same steps in lockstep and collect every difference."""
    spec = a.spec
    rng = _random.SystemRandom()
    service = service_sid or "IS" + "%032x" % rng.getrandbits(128)
    channel = channel_sid or "CH" + "%032x" % rng.getrandbits(128)
    full_channel = channel if channel_sid else "CH" + "%032x" % rng.getrandbits(128)
    unknown_service = "IS" + "%032x" % rng.getrandbits(128)
    sides = (_Side(a), _Side(b))
    pairing = _Pairing()
    result = DiffResult(label_a, label_b, seed)
    steps: list[tuple[str, Request | _Step]] = [(step.label, step) for step in _script(service, channel, full_channel,
                                                                                   unknown_service)]
    steps += _seeded(spec, seed, per_operation, service, channel, frozen or {})
    for index, (label, step) in enumerate(steps, 1):
        requests = [_build(spec, step, side) for side in sides]
        if not writes and requests[0].method != "GET":
            continue
        answers = [side.target.send(request) for side, request in zip(sides, requests)]
        result.steps += 1
        for side, answer in zip(sides, answers):
            data = answer.json()
            if answer.request.operation_id == "CreateChannelWebhook" and answer.status == 201 and isinstance(data, dict):
                side.created.append(str(data.get("sid")))
        state = isinstance(step, _Step) and step.state
        result.differences += _compare(index, label, state, sides, answers, pairing)
    result.requests = {label_a: a.sent, label_b: b.sent}
    if progress:
        progress(f"diff: {result.steps} steps, {len(result.differences)} differences")
    return result


def _build(spec: Spec, step: Request | _Step, side: _Side) -> Request:
    if isinstance(step, Request):
        return step
    operation = spec.operation(step.operation_id)
    params = dict(step.params)
    if step.uses_created:
        params["Sid"] = side.created[-1] if side.created else "WH" + "0" * 32
    return Request.build(step.operation_id, operation.method, operation.render_path(params), path_params=params,
                         query=step.query, form=step.form if step.form is not None else
                         (() if operation.method == "POST" else None), description=step.label)


def _compare(index: int, label: str, state: bool, sides: Sequence[_Side], answers: Sequence[Response],
             pairing: _Pairing) -> list[Difference]:
    (side_a, side_b), (a, b) = sides, answers
    raw = [_body(a), _body(b)]
    for side, answer in zip(sides, answers):
        found = _SID.findall(f"{answer.request.target()} {answer.request.body.decode('latin-1')}")
        side.sent = frozenset(sid for sid in found if sid not in side.created)  # a created sid is generated
    pairing.learn(sides, raw, side_a.sent | side_b.sent)
    body_a, body_b = side_a.normalise(raw[0]), side_b.normalise(raw[1])
    request = str(a.request)

    def diff(kind: str, where: str, value_a: Any, value_b: Any) -> Difference:
        return Difference(index, label, kind, where, value_a, value_b, request, side_a.target.curl(a.request),
                          side_b.target.curl(b.request), f"{a.status} {a.excerpt(400)}", f"{b.status} {b.excerpt(400)}")

    if a.status != b.status:
        return [diff("status", "", a.status, b.status)]
    found: list[Difference] = []
    for where, value_a, value_b in _walk(body_a, body_b, ""):
        if a.status >= 400 and where == "code":
            kind = "error code"
        elif a.status >= 400 and where == "message":
            kind = "error message"
        elif state:
            kind = "state after a sequence"
        else:
            kind = "body field"
        found.append(diff(kind, where, value_a, value_b))
    return found


def _body(response: Response) -> Any:
    data = response.json()
    return data if data is not None else response.body.decode("utf-8", "replace")


def _walk(a: Any, b: Any, path: str) -> Iterable[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                yield (f"{path}.{key}".lstrip("."), a.get(key, "<absent>"), b.get(key, "<absent>"))
            else:
                yield from _walk(a[key], b[key], f"{path}.{key}".lstrip("."))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for number, (x, y) in enumerate(zip(a, b)):
            yield from _walk(x, y, f"{path}[{number}]")
    elif a != b:
        yield (path or "body", a, b)


# -- output ------------------------------------------------------------------


def to_json(result: DiffResult) -> dict[str, Any]:
    from . import __version__

    return {"tool": "twilio-webhook-contracts", "version": __version__, "a": result.label_a, "b": result.label_b,
            "seed": result.seed, "steps": result.steps, "requests": result.requests,
            "differences": [vars(d) for d in result.differences]}


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def to_text(result: DiffResult) -> str:
    lines = [f"diff {result.label_a} vs {result.label_b}: {result.steps} steps (seed {result.seed}), "
             f"{len(result.differences)} difference(s)"]
    for d in result.differences:
        where = f" {d.where}" if d.where else ""
        lines += [f"step {d.step} ({d.label}): {d.kind}{where}",
                  f"  request: {d.request}",
                  f"  {result.label_a}: {_show(d.a)}",
                  f"  {result.label_b}: {_show(d.b)}",
                  f"  {result.label_a} answered: {_show(d.answer_a)}",
                  f"  {result.label_b} answered: {_show(d.answer_b)}",
                  f"  curl {result.label_a}: {d.curl_a}",
                  f"  curl {result.label_b}: {d.curl_b}"]
    return "\n".join(lines) + "\n"


def to_markdown(result: DiffResult) -> str:
    def cell(value: Any) -> str:
        return _show(value).replace("|", "\\|").replace("`", "'")

    lines = [f"## diff `{result.label_a}` vs `{result.label_b}`", "",
             f"{result.steps} steps (seed {result.seed}), **{len(result.differences)} difference(s)**", ""]
    if result.differences:
        lines += [f"| step | kind | field | {result.label_a} | {result.label_b} |", "|---|---|---|---|---|"]
        lines += [f"| {d.step} {cell(d.label)} | {d.kind} | {cell(d.where)} | {cell(d.a)} | {cell(d.b)} |"
                  for d in result.differences]
        lines += ["", "<details><summary>curl lines</summary>", ""]
        for d in result.differences:
            lines += [f"- step {d.step}:", "  ```", f"  {d.curl_a}", f"  {d.curl_b}", "  ```"]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
