"""The checks: one small function per property of the contract, named for what it asserts.

Two kinds live here:

* **response checks** ``check(response, context) -> list[str] | None`` judge one
  exchange on its own. They return the explanations of what is wrong (empty: the
  property holds) or ``None`` when the property does not apply to this exchange
  (a 401 has no ``account_sid`` to compare). They never raise for a bad response.
* **state checks** ``check(expected, actual, ...) -> list[str]`` compare what a
  Twilio-faithful server must hold with what the target answered. Their functions
  live in :mod:`.state_checks` and the stateful suite calls them (it alone knows
  when a property applies); they are declared here (name, family, description,
  function) so they can be selected by name like the others.

Every check is about the contract as Twilio documents it, never about how our own
mock happens to behave: where Twilio leaves something open (order of filters,
which default configuration keys a webhook reports, the host in ``url``), the
checks leave it open too.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote, urlsplit

from twilio_webhook_contracts.spec import Spec
from twilio_webhook_contracts.target import Response
from twilio_webhook_contracts.validation import validator_for

from . import state_checks
from .state_checks import differences, same_values  # noqa: F401 - re-exported: their home before state_checks

__all__ = [
    "CHECKS",
    "is_rejection",
    "parent_key",
    "FAMILIES",
    "Check",
    "Context",
    "canonical_path",
    "checks_in",
    "response_checks_for",
    "select_checks",
]

_CHANNEL_SID = re.compile(r"CH[0-9a-fA-F]{32}\Z")


#: Operations whose answer says whether the parent in their path exists: they address
#: no webhook, so a 404 can only be about the service or the channel.
_DECIDES_PARENT = frozenset({"ListChannelWebhook", "CreateChannelWebhook",
                             "FetchServiceWebhookConfiguration", "UpdateServiceWebhookConfiguration"})

ParentKey = tuple[str, ...]


def parent_key(request: Any) -> ParentKey | None:
    """The innermost parent a request addresses (a channel, or a service), if any.

    Conversations services and Chat services are kept apart: the suite does not
    assume that a server which knows one knows the other.
    """
    params = request.path_params
    if "ChannelSid" in params:
        return ("channel", params.get("ServiceSid", ""), params["ChannelSid"])
    if "ChatServiceSid" in params:
        return ("conversations-service", params["ChatServiceSid"])
    if "ServiceSid" in params:
        return ("chat-service", params["ServiceSid"])
    return None


def describe_parent(key: ParentKey) -> str:
    if key[0] == "channel":
        return f"channel {key[2]!r} of service {key[1]}"
    return f"{key[0].replace('-', ' ')} {key[1]}"


def is_rejection(response: Response) -> bool:
    """A Twilio rejection: any 4xx but 401/403/429 (those say nothing about the request itself).

    Where Twilio does not say which 4xx a bad request gets, any of them is a
    rejection; `error_body_is_twilio` judges the body on its own.
    """
    return 400 <= response.status < 500 and response.status not in (401, 403, 429)


@dataclass
class Context:
    """What the checks know beyond one exchange: who we are and what we have seen.

    Besides the account, it holds what the target itself decided where Twilio is
    silent: which parents (services, channels) exist, and how it answers each
    open point. The checks hold the target to those decisions, never to ours.
    """

    spec: Spec
    account_sid: str
    #: (service sid, channel unique name) -> the CH sid the target first answered with.
    channel_names: dict[tuple[str, str], str] = field(default_factory=dict)
    #: parent -> (True: it answered with content / False: a Twilio 404, and the request that said so)
    parents: dict[ParentKey, tuple[bool, str]] = field(default_factory=dict)
    #: (operation, open point) -> (the kind of answer the target first gave: "accepted"/"rejected", the request)
    open_choices: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def resolve_channel(self, service_sid: str, name: str, answered: str) -> str | None:
        """Remember which CH sid a unique name resolved to; return the earlier one if it differs."""
        with self._lock:
            first = self.channel_names.setdefault((service_sid, name), answered)
        return first if first != answered else None

    def parent_known(self, request: Any) -> tuple[bool, str] | None:
        """What the target said earlier about the parent *request* addresses (None: nothing yet)."""
        key = parent_key(request)
        return None if key is None else self.parents.get(key)

    def learn_parent(self, response: Response) -> bool:
        """Record what *response* says about its parent; True when it newly says "absent".

        Only valid, authenticated requests teach anything: a 401 says nothing
        about existence, and a request with a defect may be refused for it.
        """
        request = response.request
        key = parent_key(request)
        if key is None or response.auth != "valid" or request.defect is not None:
            return False
        if response.is_success:
            with self._lock:
                self.parents.setdefault(key, (True, str(request)))
                if key[0] == "channel":  # a channel that answers has a service
                    self.parents.setdefault(("chat-service", key[1]), (True, str(request)))
            return False
        if request.operation_id in _DECIDES_PARENT and parent_absent_answer(response):
            with self._lock:
                if key in self.parents:
                    return False
                self.parents[key] = (False, str(request))
            return True
        return False

    def choose(self, operation_id: str, point: str, kind: str, request: str) -> tuple[str, str] | None:
        """Record the target's answer to an open point; return its earlier, different one."""
        with self._lock:
            first = self.open_choices.setdefault((operation_id, point), (kind, request))
        return first if first[0] != kind else None


def parent_absent_answer(response: Response) -> bool:
    """A 404 to a request that addresses no webhook: the parent does not exist.

    A 400 teaches nothing: it may be about any field of the request.
    """
    return response.status == 404


ResponseCheck = Callable[[Response, Context], "list[str] | None"]
#: a state check's signature is its own (what the model expects, what was observed); it returns the problems
StateCheck = Callable[..., list[str]]


@dataclass(frozen=True)
class Check:
    """A named property of the contract."""

    name: str
    family: str
    description: str
    function: ResponseCheck | None = None  # None: a state check, run by the stateful suite
    #: a state check's comparison (:mod:`.state_checks`), which the stateful suite calls itself
    state_function: StateCheck | None = None

    @property
    def is_response_check(self) -> bool:
        return self.function is not None


CHECKS: dict[str, Check] = {}

#: family -> what the family covers (also the order of the report)
FAMILIES = {
    "response": "every response: status, content type, schema, no 5xx, Twilio error bodies",
    "identity": "account_sid, path sids and url in responses identify the right resource",
    "input": "valid requests accepted, invalid ones rejected with the right 4xx, credentials required",
    "state": "writes are read back, isolated, idempotent; rejected writes change nothing",
    "liveness": "every request is answered within the request timeout",
}


def _register(name: str, family: str, description: str, function: ResponseCheck | None = None, *,
              state_function: StateCheck | None = None) -> None:
    if state_function is not None and state_function.__name__ != name:
        raise ValueError(f"state check {name!r} registered with function {state_function.__name__!r}")
    CHECKS[name] = Check(name, family, description, function, state_function)


def response_check(family: str, description: str) -> Callable[[ResponseCheck], ResponseCheck]:
    def decorate(function: ResponseCheck) -> ResponseCheck:
        _register(function.__name__, family, description, function)
        return function

    return decorate


# ---------------------------------------------------------------------------
# per response


@response_check("response", "the status code is one the fragment documents for the operation")
def status_code_documented(response: Response, context: Context) -> list[str] | None:
    if response.status >= 500:
        return None  # no_server_error owns 5xx
    validator = validator_for(response.request.operation_id, context.spec)
    return [v.message for v in validator.status_violations(response.status)]


@response_check("response", "responses with a body are application/json (and 204 has none)")
def content_type_is_json(response: Response, context: Context) -> list[str] | None:
    validator = validator_for(response.request.operation_id, context.spec)
    if response.status not in validator.documented_statuses:
        if response.status >= 400 and response.body and response.content_type != "application/json":
            return [f"{response.request.operation_id}: error response {response.status} is "
                    f"{response.content_type or 'without Content-Type'}, not application/json"]
        return None
    return [v.message for v in validator.content_type_violations(response.status, response.headers, response.body)]


@response_check("response", "a success body matches the fragment's schema: every documented field, types, patterns, enums, formats, nullability")
def response_schema_conforms(response: Response, context: Context) -> list[str] | None:
    if not response.is_success:
        return None  # error bodies: error_body_is_twilio
    validator = validator_for(response.request.operation_id, context.spec)
    if response.status not in validator.documented_statuses:
        return None
    if validator.content_type_violations(response.status, response.headers, response.body):
        return None  # content_type_is_json reports it
    problems = validator.header_violations(response.status, response.headers)
    problems += validator.body_violations(response.status, response.body)
    return [v.message for v in problems]


@response_check("response", "the server never answers with a 5xx")
def no_server_error(response: Response, context: Context) -> list[str] | None:
    if response.status >= 500:
        return [f"{response.request.operation_id}: server error {response.status}: {response.excerpt(200)}"]
    return []


@response_check("response", "error responses carry Twilio's error body {code, message, more_info, status}; 429 carries Retry-After")
def error_body_is_twilio(response: Response, context: Context) -> list[str] | None:
    errors = [r for r in (*response.retried, response) if r.status >= 400]
    if not errors:
        return None
    problems: list[str] = []
    for answer in errors:
        problems += _twilio_error_problems(answer)
    return problems


def _twilio_error_problems(response: Response) -> list[str]:
    op = response.request.operation_id
    data = response.json()
    if not isinstance(data, dict):
        return [f"{op}: {response.status} body is not a JSON object: {response.excerpt(120)!r}"]
    problems = []
    for name, kinds in (("code", int), ("message", str), ("more_info", str), ("status", int)):
        value = data.get(name)
        if name not in data:
            problems.append(f"{op}: {response.status} error body has no {name!r}")
        elif not isinstance(value, kinds) or isinstance(value, bool):
            problems.append(f"{op}: {response.status} error body {name!r} is {value!r}, not {kinds.__name__}")
    if isinstance(data.get("status"), int) and data["status"] != response.status:
        problems.append(f"{op}: error body says status {data['status']} but the HTTP status is {response.status}")
    if response.status == 429:
        value = response.headers.get("Retry-After")
        if value is None:
            problems.append(f"{op}: 429 without a Retry-After header")
        elif not value.strip().isdigit() and not _http_date(value):
            # RFC 9110 §10.2.3: delay-seconds or an HTTP-date; Twilio does not say which it sends
            problems.append(f"{op}: 429 Retry-After is {value[:60]!r}, neither a number of seconds nor an HTTP-date")
    return problems


def _http_date(value: str) -> bool:
    try:
        return parsedate_to_datetime(value.strip()) is not None
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


@response_check("response", "the answer is a well-formed HTTP message within the response cap: a valid status line and "
                            "headers, a body that decodes as its Content-Encoding says, JSON a parser can follow, "
                            "and a Retry-After (on 429/503) that is seconds or an HTTP date")
def response_well_formed(response: Response, context: Context) -> list[str] | None:
    """The transport's findings (see :mod:`twilio_webhook_contracts.wire`): a hostile or broken answer is the
    target's violation, and the run goes on and writes its reports."""
    from twilio_webhook_contracts.credentials import excerpt
    from twilio_webhook_contracts.wire import retry_after_seconds

    op = response.request.operation_id
    problems: list[str] = []
    for answer in (*response.retried, response):
        if answer.problem:
            problems.append(f"{op}: {answer.problem}")
        if answer.json_too_deep:
            problems.append(f"{op}: {answer.status} body is JSON nested too deeply to parse ({len(answer.body):,} bytes)")
        retry_after = answer.headers.get("Retry-After") if answer.status in (429, 503) else None
        if retry_after is not None and retry_after_seconds(retry_after) is None:
            problems.append(f"{op}: {answer.status} Retry-After {excerpt(retry_after, 80)!r} is neither a number of "
                            f"seconds nor an HTTP date (waited the default backoff instead)")
    return problems


# ---------------------------------------------------------------------------
# identity


def _resources(response: Response) -> list[Mapping[str, Any]]:
    """The resource objects in a success body (one, or each item of a list page)."""
    data = response.json()
    if not isinstance(data, dict):
        return []
    if "webhooks" in data and isinstance(data["webhooks"], list):
        return [item for item in data["webhooks"] if isinstance(item, dict)]
    return [data]


def _applies_to_identity(response: Response) -> bool:
    return response.is_success and response.auth == "valid" and response.request.defect is None


@response_check("identity", "account_sid is the authenticated account")
def account_sid_matches(response: Response, context: Context) -> list[str] | None:
    if not _applies_to_identity(response):
        return None
    problems = []
    for resource in _resources(response):
        if "account_sid" in resource and resource["account_sid"] != context.account_sid:
            problems.append(
                f"{response.request.operation_id}: account_sid is {resource['account_sid']!r}, "
                f"but the request authenticated as {context.account_sid}"
            )
    return problems


@response_check("identity", "chat_service_sid / service_sid / channel_sid / sid echo the path; a channel unique name answers with one stable CH sid")
def path_sids_echoed(response: Response, context: Context) -> list[str] | None:
    if not _applies_to_identity(response):
        return None
    request = response.request
    params = request.path_params
    op = request.operation_id
    problems = []
    for resource in _resources(response):
        for field_name, param in (("chat_service_sid", "ChatServiceSid"), ("service_sid", "ServiceSid"), ("sid", "Sid")):
            if param in params and field_name in resource and resource[field_name] != params[param]:
                problems.append(f"{op}: {field_name} is {resource[field_name]!r}, the path says {params[param]!r}")
        channel = params.get("ChannelSid")
        answered = resource.get("channel_sid")
        if channel is None or "channel_sid" not in resource:
            continue
        if _CHANNEL_SID.match(channel):
            if answered != channel:
                problems.append(f"{op}: channel_sid is {answered!r}, the path says {channel!r}")
        elif not isinstance(answered, str) or not _CHANNEL_SID.match(answered):
            problems.append(f"{op}: channel addressed by unique name {channel!r} answered channel_sid {answered!r}, not a CH sid")
        else:
            earlier = context.resolve_channel(params.get("ServiceSid", ""), channel, answered)
            if earlier is not None:
                problems.append(f"{op}: unique name {channel!r} resolved to {answered}, earlier to {earlier}")
    return problems


def canonical_path(operation_id: str, values: Mapping[str, str], spec: Spec) -> str:
    """The path of the resource a response describes (list: of the list itself)."""
    operation = spec.operation(operation_id)
    path = operation.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _url_path(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return unquote(parts.path)


@response_check("identity", "url is the resource's own canonical URL, with sids (the host may be the target's)")
def resource_url_canonical(response: Response, context: Context) -> list[str] | None:
    if not _applies_to_identity(response):
        return None
    request = response.request
    op = request.operation_id
    data = response.json()
    if not isinstance(data, dict):
        return None
    problems = []
    params = dict(request.path_params)
    if "webhooks" in data:  # a list page: meta urls name the list, items name themselves
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        expected = _list_path_pattern(op, params, context)
        for key in ("url", "first_page_url"):
            path = _url_path(meta.get(key))
            if path is not None and not expected.fullmatch(path):
                problems.append(f"{op}: meta.{key} points at {path}, expected {canonical_path(op, params, context.spec)}")
        for resource in _resources(response):
            problems += _resource_url_problems(op, "FetchChannelWebhook", resource, params, context)
        return problems
    # a channel webhook (created, fetched or updated) is always at the instance path
    target_op = "FetchChannelWebhook" if context.spec.operation(op).api == "chat" else op
    for resource in _resources(response):
        problems += _resource_url_problems(op, target_op, resource, params, context)
    return problems


def _list_path_pattern(op: str, params: Mapping[str, str], context: Context) -> re.Pattern[str]:
    """The list's own path; a channel addressed by unique name may appear as its CH sid."""
    channel = params.get("ChannelSid")
    values = {name: re.escape(value) for name, value in params.items()}
    if channel is not None and not _CHANNEL_SID.match(channel):
        values["ChannelSid"] = f"(?:{re.escape(channel)}|CH[0-9a-fA-F]{{32}})"
    return re.compile(canonical_path(op, values, context.spec))


def _resource_url_problems(op: str, resource_op: str, resource: Mapping[str, Any], params: Mapping[str, str],
                           context: Context) -> list[str]:
    if "url" not in resource or resource["url"] is None:
        return [] if "url" not in resource else [f"{op}: url is null"]
    values = dict(params)
    any_channel = False
    if resource_op == "FetchChannelWebhook":
        if isinstance(resource.get("sid"), str):
            values["Sid"] = resource["sid"]
        answered = resource.get("channel_sid")
        if isinstance(answered, str) and _CHANNEL_SID.match(answered):
            values["ChannelSid"] = answered
        elif "ChannelSid" in values and not _CHANNEL_SID.match(values["ChannelSid"]):
            # addressed by unique name and channel_sid is no CH sid (path_sids_echoed
            # reports that): the url must still name the channel by some CH sid
            any_channel = True
    if "Sid" not in values and "{Sid}" in context.spec.operation(resource_op).path:
        return []
    expected = canonical_path(resource_op, values, context.spec)
    path = _url_path(resource["url"])
    if path is None:
        return [f"{op}: url {resource['url']!r} is not an absolute URL"]
    if any_channel:
        pattern = {name: re.escape(value) for name, value in values.items()}
        pattern["ChannelSid"] = "CH[0-9a-fA-F]{32}"
        if re.fullmatch(canonical_path(resource_op, pattern, context.spec), path):
            return []
    if path != expected:
        return [f"{op}: url points at {path}, expected {expected}"]
    return []


# ---------------------------------------------------------------------------
# input handling


@response_check("input", "every valid request is accepted with the operation's success status (201 for create, 204 for delete); "
                         "a Twilio 404 for a service or channel the target never answered for is its decision, not a violation")
def valid_request_accepted(response: Response, context: Context) -> list[str] | None:
    request = response.request
    if request.defect is not None or response.auth != "valid" or response.status == 429:
        return None
    if request.open_point is not None and is_rejection(response):
        return None  # the server decided this open point: open_choice_consistent holds it to that
    expected = context.spec.operation(request.operation_id).success_status
    if response.status == expected:
        return []
    if request.operation_id in _DECIDES_PARENT and parent_absent_answer(response):
        known = context.parent_known(request)
        if known is None or not known[0]:
            return None  # an unknown parent: absent is the server's answer (parents_consistent holds it)
        key = parent_key(request)
        return [f"{request.operation_id}: answered {response.status} for {describe_parent(key)}, which answered "
                f"with content before ({known[1]}): {response.excerpt(200)}"]  # type: ignore[arg-type]
    return [f"{request.operation_id}: a valid request was answered {response.status}, expected {expected}: {response.excerpt(200)}"]


@response_check("input", "every invalid request is rejected with a 4xx (any but 401/403/429: Twilio does not say which)")
def invalid_request_rejected(response: Response, context: Context) -> list[str] | None:
    request = response.request
    if request.defect is None or response.auth != "valid" or response.status == 429:
        return None
    if request.open_point is not None:
        return None  # a defect where the server may not look (type_fields): it may ignore it
    if is_rejection(response):
        return []
    if response.status >= 500:
        return None  # no_server_error owns 5xx
    verdict = "accepted" if response.is_success else f"answered {response.status}"
    return [f"{request.operation_id}: request with {request.defect} in {request.defect_field} was {verdict}, expected a 4xx rejection"]


@response_check("identity", "a service or channel the target answered 404 for stays absent, and one that answered with content stays present "
                         "(whether an unknown parent exists is the target's choice)")
def parents_consistent(response: Response, context: Context) -> list[str] | None:
    request = response.request
    if response.auth != "valid" or request.defect is not None or parent_key(request) is None:
        return None
    known = context.parent_known(request)
    if known is None:
        return None
    present, evidence = known
    if not present and response.is_success:
        return [f"{request.operation_id}: {describe_parent(parent_key(request))} answered {response.status}, "  # type: ignore[arg-type]
                f"but earlier the target said it does not exist ({evidence})"]
    return []


@response_check("input", "requests without credentials or with wrong ones are answered 401")
def authentication_required(response: Response, context: Context) -> list[str] | None:
    if response.auth == "valid" or response.status == 429:
        return None
    if response.status == 401:
        return []
    what = "without credentials" if response.auth == "none" else "with a wrong secret"
    return [f"{response.request.operation_id}: a request {what} was answered {response.status}, expected 401"]


# ---------------------------------------------------------------------------
# state (run by the stateful suite) and liveness (run by the runner)

_register("write_read_back", "state", "a successful write is what the response and a later GET report",
          state_function=state_checks.write_read_back)
_register("absent_fields_unchanged", "state", "fields absent from an update keep their value",
          state_function=state_checks.absent_fields_unchanged)
_register("rejected_write_changes_nothing", "state", "a rejected write leaves the resource exactly as it was",
          state_function=state_checks.rejected_write_changes_nothing)
_register("scopes_isolated", "state", "the account configuration and each service's configuration change independently",
          state_function=state_checks.scopes_isolated)
_register("create_returns_new_webhook", "state", "create answers 201 with a new unique WH sid and the configuration sent",
          state_function=state_checks.create_returns_new_webhook)
_register("deleted_webhook_gone", "state", "a deleted webhook is gone: fetch, update and delete answer 404 and list omits it",
          state_function=state_checks.deleted_webhook_gone)
_register("update_idempotent", "state", "repeating an identical update changes nothing further",
          state_function=state_checks.update_idempotent)
_register("list_reflects_webhooks", "state", "listing a channel's webhooks, across pages, returns exactly the webhooks it has",
          state_function=state_checks.list_reflects_webhooks)
_register("open_choice_consistent", "state", "where Twilio is silent (an empty value, a page size above 5) the target may accept or "
          "reject, but the same request gets the same kind of answer every time",
          state_function=state_checks.open_choice_consistent)
_register("responds_within_timeout", "liveness", "every request is answered within the request timeout")


def checks_in(family: str) -> list[Check]:
    return [c for c in CHECKS.values() if c.family == family]


def select_checks(include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> dict[str, Check]:
    """The checks to run, by name or family name; unknown names raise ``ValueError`` listing the known ones."""
    def expand(names: Iterable[str]) -> set[str]:
        chosen: set[str] = set()
        for raw in names:
            name = raw.strip()
            if not name:
                continue
            if name in CHECKS:
                chosen.add(name)
            elif name in FAMILIES:
                chosen.update(c.name for c in checks_in(name))
            else:
                known = ", ".join([*FAMILIES, *CHECKS])
                raise ValueError(f"unknown check {name!r}; known checks and families: {known}")
        return chosen

    selected = expand(include) if include else set(CHECKS)
    selected -= expand(exclude or ())
    return {name: check for name, check in CHECKS.items() if name in selected}


def response_checks_for(selected: Mapping[str, Check]) -> list[Check]:
    return [check for check in selected.values() if check.is_response_check]


# Checks kept in their own modules register themselves here, so CHECKS is whole once this module is.
from . import paging_checks as _paging_checks  # noqa: E402,F401
