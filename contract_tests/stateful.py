"""The stateful suite: random sequences of operations compared with a model of Twilio.

A Hypothesis rule-based state machine holds what a Twilio-faithful server must
hold -- the account configuration, each service's configuration, and each
channel's webhooks -- and runs random sequences of valid and invalid operations,
comparing every response and every read-back with the model. When a comparison
fails, Hypothesis shrinks the sequence, and the failure is reported with the
minimal list of requests that reproduces it.

The model starts from what the target answers at the beginning of each run
(initial states differ between servers and are not part of the contract), and it
expects only what Twilio documents: absent fields keep their value, an empty URL
reads back as null, filter lists are compared as sets (but a repeated identical
update may not change how often an item occurs), and of a webhook's
configuration only the keys that were sent are compared.

The comparisons are the functions of :mod:`.state_checks`, one per state check:
this module decides what to send and when a check applies, so that each
property can be read, and tested, apart from the sequences that exercise it.

Each run deletes the webhooks it created when it ends, so that runs -- and the
hundreds of replays while Hypothesis shrinks -- all start from the same channels,
and no channel is ever asked for more than Twilio's five webhooks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping
from urllib.parse import parse_qsl, urlsplit

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from twilio_webhook_contracts import strategies as request_strategies
from twilio_webhook_contracts.request import Request, encode_path_segment
from twilio_webhook_contracts.spec import Spec
from twilio_webhook_contracts.validation import validator_for

from twilio_webhook_contracts.strategies._values import is_url

from .checks import is_rejection
from .results import OperationDead, failure_type
from .session import Session
from .state_checks import (CHANNEL_CAPACITY, Answer, absent_fields_unchanged, create_returns_new_webhook,
                           deleted_webhook_gone, is_webhook_sid, list_reflects_webhooks, open_choice_consistent,
                           page_meta, page_sids, paging_links_honest, rejected_write_changes_nothing, scopes_isolated,
                           unknown_webhook_absent, update_idempotent, webhook_scoped_to_channel, write_read_back)

__all__ = ["CHANNEL_CAPACITY", "ContractMachine", "Pools", "build_machine", "fixed_request", "response_key"]

#: Twilio's spec: "The default is 5, and the maximum is 5" -- a larger page size is open
_DOCUMENTED_PAGE_MAX = 5
_OPEN_PAGE_SIZE = 20
#: At most this many webhooks are created while a run is set up.
_SEEDED_WEBHOOKS = 3


def response_key(form_field: str) -> str:
    """``PreWebhookUrl`` -> ``pre_webhook_url``; ``Configuration.RetryCount`` -> ``retry_count``."""
    name = form_field.split(".")[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Pools:
    """The resources one worker's machine may touch."""

    services: tuple[str, ...]
    channels: tuple[tuple[str, str], ...]  # (service sid, channel sid or unique name)
    include_account: bool = True
    allow_writes: bool = True
    #: per operation, form fields every generated request pins (``None``: always absent) --
    #: e.g. a live run's configuration fields that could not be restored if written
    form_pins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass
class _Webhook:
    service: str
    channel: str
    type: str | None
    configuration: dict[str, Any] = field(default_factory=dict)


class ContractMachine(RuleBasedStateMachine):
    """The model of a Twilio-faithful server, and the rules that hold the target to it.

    The class itself is bound to nothing: :meth:`bound` makes the subclass that
    one session runs (Hypothesis instantiates the machine once per run, so what
    all runs share lives on the class).
    """

    # set by :meth:`bound`, shared by every run of that class
    session: ClassVar[Session]
    pools: ClassVar[Pools]
    spec: ClassVar[Spec]
    #: whether this run may write (preconditions read it)
    writes: ClassVar[bool]
    #: what a run may send to a webhook sid (writes only when allowed)
    webhook_ops: ClassVar[tuple[str, ...]]
    account_keys: ClassVar[list[str]]
    service_keys: ClassVar[list[str]]
    _strategies: ClassVar[dict[tuple, Any]]

    @classmethod
    def bound(cls, session: Session, pools: Pools) -> type[ContractMachine]:
        """The machine bound to one session and its resource pools.

        A subclass rather than instance state: Hypothesis creates the instances,
        and its strategies are cached per binding (a pool's pins differ).
        """
        spec = session.context.spec
        writes = pools.allow_writes
        # keywords rather than a dict literal: no new string literals (see state_checks)
        return type(cls.__name__, (cls,), dict(
            session=session, pools=pools, spec=spec, writes=writes,
            webhook_ops=("FetchChannelWebhook", *(("UpdateChannelWebhook", "DeleteChannelWebhook") if writes else ())),
            account_keys=_config_keys(spec, "UpdateConfigurationWebhook"),
            service_keys=_config_keys(spec, "UpdateServiceWebhookConfiguration"),
            _strategies={},
            __module__=cls.__module__, __qualname__=cls.__qualname__,
        ))

    def __init__(self) -> None:
        super().__init__()
        self.session.history.clear()
        self.account: dict[str, Any] | None = None
        self.services: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, _Webhook] = {}
        self.deleted: dict[str, _Webhook] = {}
        self.listed: dict[tuple[str, str], set[str]] = {}

    # -- helpers -------------------------------------------------------

    def _valid(self, op: str, kind: str | None = None, **pins: str):
        """Valid requests; for an update of a webhook of known *kind*, only the fields it uses."""
        key = ("valid", op, kind, tuple(sorted(pins.items())))
        if key not in self._strategies:
            form = {name: None for name in request_strategies.fields_unused_by(kind, self.spec)
                    if name in self.spec.operation(op).form_fields} if kind else {}
            self._strategies[key] = request_strategies.valid_requests(
                op, spec=self.spec, pinned={**form, **self.pools.form_pins.get(op, {})}, **pins)
        return self._strategies[key]

    def _invalid(self, op: str, **pins: str):
        key = ("invalid", op, tuple(sorted(pins.items())))
        if key not in self._strategies:
            self._strategies[key] = request_strategies.invalid_requests(
                op, spec=self.spec, pinned=dict(self.pools.form_pins.get(op, {})), **pins)
        return self._strategies[key]

    def _unused_by(self, webhook: "_Webhook") -> tuple[str, ...]:
        return request_strategies.fields_unused_by(webhook.type, self.spec) if webhook.type else ()

    def _fixed(self, op: str, params: Mapping[str, str]) -> Request:
        return fixed_request(self.spec, op, params)

    def _send(self, request: Request, *, expect_success: bool = True):
        response, failed = self.session.exchange(request)
        if expect_success and response.status == 429:
            failed = []  # rate limited even after retries: inconclusive, not a model mismatch
        return response, failed

    def _judge(self, op: str, verdicts: list[tuple[str, list[str]]], response=None) -> None:
        """Record every failed comparison, then raise the first (Hypothesis shrinks it)."""
        first = None
        for check, problems in verdicts:
            if not self.session.enabled(check):
                continue
            self.session.results.ran(check, operation=op, seconds=response.elapsed if response is not None else 0.0)
            if problems:
                self.session.fail(check, op, problems, response=response, raise_=False)
                first = first or check
        if first is not None:
            raise failure_type(first)(f"{first} failed on {op}")

    def _body(self, response) -> dict[str, Any]:
        data = response.json()
        return data if isinstance(data, dict) else {}

    def _read(self, fetch_op: str, params: Mapping[str, str], keys: list[str]) -> dict[str, Any] | None:
        request = self._fixed(fetch_op, params)
        response, failed = self._send(request)
        if response.status != 200:
            self.session.raise_first(failed, response)
            return None
        body = self._body(response)
        return {key: body.get(key) for key in keys}

    def _compare_config(self, op: str, expected: dict[str, Any], actual: Mapping[str, Any], written: set[str],
                        response) -> None:
        self._judge(op, [
            ("write_read_back", write_read_back(expected, actual, written)),
            ("absent_fields_unchanged", absent_fields_unchanged(expected, actual, written)),
        ], response)

    def _isolation(self, op: str, skip_account: bool = False, skip_service: str | None = None) -> None:
        """Read the scopes this write must not have touched and compare them with the model."""
        if not self.session.enabled("scopes_isolated"):
            return
        verdicts = []
        if self.account is not None and not skip_account:
            seen = self._read("FetchConfigurationWebhook", {}, self.account_keys)
            if seen is not None:
                verdicts.append(("scopes_isolated", scopes_isolated(self.account, seen, self.account_keys,
                                                                    scope="account configuration", by=op)))
        for service, model in self.services.items():
            if service == skip_service:
                continue
            seen = self._read("FetchServiceWebhookConfiguration", {"ChatServiceSid": service}, self.service_keys)
            if seen is not None:
                verdicts.append(("scopes_isolated", scopes_isolated(model, seen, self.service_keys,
                                                                    scope=f"service {service}", by=op)))
            break  # one other service is enough per step
        self._judge(op, verdicts)

    def _list(self, service: str, channel: str, page_size: int | None = None) -> set[str] | None:
        """Every webhook the channel lists, following ``next_page_url`` to the end.

        The walk itself is judged (``paging_links_honest``): every page after
        the first links back, no webhook is listed twice, and the walk ends --
        one that is still going after more pages than the channel could fill
        is a violation, not a silent stop.
        """
        request = self._list_request(service, channel, page_size)
        pages: list[dict[str, Any]] = []
        sids: set[str] = set()
        known = len(self.listed.get((service, channel), ()))
        most_pages = max(known, CHANNEL_CAPACITY) + 2  # a page per webhook, an empty one, and one spare
        ended = False
        for _ in range(most_pages):
            response, failed = self._send(request)
            if request.open_point and self._open_choice(request, response) != "accepted":
                self.session.raise_first(failed, response)
                return None  # the server does not serve this page size: its choice
            if response.status != 200:
                self.session.raise_first(failed, response)
                return None
            pages.append(self._body(response))
            sids.update(page_sids(pages[-1]))
            next_url = page_meta(pages[-1]).get("next_page_url")
            # a next_page_url that is no page of this list ends the walk (the schema check reports it)
            ended = not next_url or not _is_page_of(next_url, request)
            if ended:
                break
            request = _page(request, next_url)
        self._judge("ListChannelWebhook", [
            ("paging_links_honest", paging_links_honest(channel, pages, ended=ended, most_pages=most_pages))], response)
        return sids

    def _list_request(self, service: str, channel: str, page_size: int | None) -> Request:
        """The first page; a page size above the spec's maximum is an open point the server decides."""
        request = self._fixed("ListChannelWebhook", {"ServiceSid": service, "ChannelSid": channel})
        if page_size is None:
            return request
        return Request.build(request.operation_id, request.method, request.path,
                             path_params=request.path_params, query=[("PageSize", str(page_size))],
                             open_point="page_size_max" if page_size > _DOCUMENTED_PAGE_MAX else None)

    # -- setup ---------------------------------------------------------

    @initialize(data=st.data())
    def read_initial_state(self, data) -> None:
        # A resource whose read has stopped answering is left out of this run's
        # model (its rules do not apply); the rest of the model is still tested.
        if self.pools.include_account and not self.session.target.is_dead("FetchConfigurationWebhook"):
            self.account = self._read("FetchConfigurationWebhook", {}, self.account_keys)
        for service in self.pools.services:
            if self.session.target.is_dead("FetchServiceWebhookConfiguration"):
                break
            state = self._read("FetchServiceWebhookConfiguration", {"ChatServiceSid": service}, self.service_keys)
            if state is not None:
                self.services[service] = state
        for service, channel in self.pools.channels:
            if self.session.target.is_dead("ListChannelWebhook"):
                break
            listed = self._list(service, channel)
            if listed is not None:
                self.listed[(service, channel)] = listed
            elif self.writes and self.session.context.parents.get(("channel", service, channel), (True,))[0] is False:
                self._confirm_channel_absent(data, service, channel)
        # Start some runs with webhooks in place (on one channel), so that the rules
        # that need one -- and paging, which needs several -- are exercised in runs
        # that do not happen to create any.
        count = data.draw(st.integers(0, _SEEDED_WEBHOOKS), label="webhooks to start with") if self.writes else 0
        if count and self._with_room():
            key = data.draw(st.sampled_from(self._with_room()), label="channel")
            for _ in range(min(count, CHANNEL_CAPACITY - len(self.listed[key]))):
                self._create(data, key)
        if self.writes:
            self._every_property_once(data)

    def _confirm_channel_absent(self, data, service: str, channel: str) -> None:
        """The target says this channel does not exist (its choice): one create holds it to that.

        A create it accepts contradicts its own 404 (``parents_consistent``); that
        webhook is deleted again at once.
        """
        request = data.draw(self._valid("CreateChannelWebhook", ServiceSid=service, ChannelSid=channel),
                            label="create on a channel said to be absent")
        response, failed = self._send(request)
        sid = self._body(response).get("sid") if response.is_success else None
        if is_webhook_sid(sid):
            try:
                self.session.target.send(self._fixed("DeleteChannelWebhook",
                                                     {"ServiceSid": service, "ChannelSid": channel, "Sid": sid}))
                self.session.created.pop(sid, None)
            except Exception:  # noqa: BLE001 - best effort; the run's clean-up tries again
                pass
        self.session.raise_first(failed, response)

    def _every_property_once(self, data) -> None:
        """Each run first makes one write of every kind, with generated values.

        Hypothesis starts with tiny programs and picks rules at random, so a short
        run could end without ever, say, repeating an update; this prologue makes
        every state check judge something in every run. The random steps follow.
        """
        steps = (
            (self._first_account_update, lambda: True),
            (self._first_service_update, lambda: True),
            (self.rejected_configuration_update, lambda: self.account is not None or self.services),
            (self.create_webhook, lambda: self._with_room()),
            (self.update_webhook, lambda: self.webhooks),
            (self._never_created, lambda: self.listed),
            (self._through_another_parent, lambda: self.webhooks),
            (self.delete_webhook, lambda: self.webhooks),
            (self._every_operation_on_deleted, lambda: self.deleted),
            (self.list_webhooks, lambda: self.listed),
            (self.open_empty_value, lambda: self.account is not None or self.services or self.webhooks),
            (self._open_unused_field, lambda: self._with_unused_fields()),
        )
        for step, applies in steps:
            if not applies():
                continue
            try:
                step(data)
            except OperationDead:
                continue  # reported once; the rest of the prologue still runs

    def _through_another_parent(self, data) -> None:
        """A webhook belongs to its channel: through another channel's path, or another
        service's, fetch, update and delete are 404, and the webhook is left as it was."""
        sid = data.draw(st.sampled_from(sorted(self.webhooks)), label="webhook")
        webhook = self.webhooks[sid]
        others = [key for key in sorted(self.listed) if key != (webhook.service, webhook.channel)]
        channel = others[0] if others and others[0][0] == webhook.service else (
            webhook.service, "CH" + hashlib.sha256(f"other:{webhook.service}/{webhook.channel}".encode()).hexdigest()[:32])
        service = ("IS" + hashlib.sha256(f"other:{webhook.service}".encode()).hexdigest()[:32], webhook.channel)
        answers: list[Answer] = []
        for service_sid, channel_sid in (channel, service):
            answers += self._answers({"ServiceSid": service_sid, "ChannelSid": channel_sid, "Sid": sid},
                                     f"{sid} through /Services/{service_sid}/Channels/{channel_sid}")
        self._judge("FetchChannelWebhook", [("webhook_scoped_to_channel", webhook_scoped_to_channel(answers))])
        fetched, _ = self._send(self._fixed("FetchChannelWebhook", _webhook_params(webhook, sid)))
        configuration = _configuration(self._body(fetched)) if fetched.status == 200 else {}
        self._judge("FetchChannelWebhook", [("webhook_scoped_to_channel", webhook_scoped_to_channel(
            sid=sid, own_status=fetched.status, expected=webhook.configuration, actual=configuration))], fetched)

    def _never_created(self, data) -> None:
        """A sid the run never created: fetch, update and delete are 404, and the update created nothing."""
        key = data.draw(st.sampled_from(sorted(self.listed)), label="channel")
        sid = "WH" + hashlib.sha256(f"never:{key}".encode()).hexdigest()[:32]
        answers = self._answers({"ServiceSid": key[0], "ChannelSid": key[1], "Sid": sid}, f"never-created {sid}")
        listed = self._list(*key)
        if listed is not None:
            self.listed[key] = listed - {sid}
        self._judge("UpdateChannelWebhook", [("unknown_webhook_absent", unknown_webhook_absent(
            answers, sid=sid, channel=key[1], listed=listed))])

    def _every_operation_on_deleted(self, data) -> None:
        sid = data.draw(st.sampled_from(sorted(self.deleted)), label="deleted webhook")
        for op in self.webhook_ops:
            self._check_gone(sid, self.deleted[sid], op)

    def _answers(self, params: Mapping[str, str], what: str) -> list[Answer]:
        """Every operation on a webhook sid that *params* do not hold (each must be 404), and its answer."""
        answers = []
        for op in self.webhook_ops:
            response, _ = self.session.exchange(self._fixed(op, params), expected_status=404)
            answers.append((op, what, response.status))
        return answers

    def _first_account_update(self, data) -> None:
        if self.account is not None:
            request = data.draw(self._valid("UpdateConfigurationWebhook"), label="first: account update")
            self._update_config(request, "FetchConfigurationWebhook", {}, self.account_keys, self.account, True)
            self._isolation(request.operation_id, skip_account=True)

    def _first_service_update(self, data) -> None:
        if self.services:
            service = data.draw(st.sampled_from(sorted(self.services)), label="first: service")
            request = data.draw(self._valid("UpdateServiceWebhookConfiguration", ChatServiceSid=service),
                                label="first: service update")
            self._update_config(request, "FetchServiceWebhookConfiguration", {"ChatServiceSid": service},
                                self.service_keys, self.services[service], True)
            self._isolation(request.operation_id, skip_service=service)

    def teardown(self) -> None:
        """Delete the webhooks created on this machine's channels (the run's one ledger
        knows them, also those the model never saw), so that every run starts from the
        same channels (and a live channel never fills up to its capacity)."""
        for sid, (service, channel) in self.session.created.on(self.pools.channels):
            if self.session.target.is_dead("DeleteChannelWebhook"):
                return
            request = self._fixed("DeleteChannelWebhook", {"ServiceSid": service, "ChannelSid": channel, "Sid": sid})
            try:
                self.session.target.send(request)  # the ledger sees the answer and drops the entry
            except Exception:  # noqa: BLE001 - best effort, as the runner's clean-up
                continue

    @precondition(lambda self: self.account is None and not self.services and not self.listed)
    @rule()
    def nothing_left_to_model(self) -> None:
        """Every resource stopped answering during set-up (already reported): nothing to compare."""

    # -- configuration -------------------------------------------------

    @precondition(lambda self: self.writes and self.account is not None)
    @rule(data=st.data())
    def update_account_configuration(self, data) -> None:
        request = data.draw(self._valid("UpdateConfigurationWebhook"), label="request")
        repeat = data.draw(st.booleans(), label="then repeat it identically")
        self._update_config(request, "FetchConfigurationWebhook", {}, self.account_keys, self.account, repeat)
        self._isolation(request.operation_id, skip_account=True)

    @precondition(lambda self: self.writes and self.services)
    @rule(data=st.data())
    def update_service_configuration(self, data) -> None:
        service = data.draw(st.sampled_from(sorted(self.services)), label="service")
        request = data.draw(self._valid("UpdateServiceWebhookConfiguration", ChatServiceSid=service), label="request")
        repeat = data.draw(st.booleans(), label="then repeat it identically")
        self._update_config(request, "FetchServiceWebhookConfiguration", {"ChatServiceSid": service},
                            self.service_keys, self.services[service], repeat)
        self._isolation(request.operation_id, skip_service=service)

    def _update_config(self, request: Request, fetch_op: str, params: Mapping[str, str], keys: list[str],
                       model: dict[str, Any], repeat: bool) -> None:
        """Write, compare the answer with the model, optionally write the same again
        (nothing may change further), then read back and compare once more."""
        op = request.operation_id
        response, failed = self._send(request)
        if response.status != 200:
            self.session.raise_first(failed, response)
            return
        written = _apply(model, validator_for(op, self.spec).typed_form(request.body))
        self._compare_config(op, model, self._body(response), written, response)
        if repeat:
            second, failed = self._send(request)
            if second.status != 200:
                self.session.raise_first(failed, second)
                return
            self._judge(op, [("update_idempotent", update_idempotent(self._body(response), self._body(second), keys))],
                        second)
        seen = self._read(fetch_op, params, keys)
        if seen is not None:
            self._compare_config(op, model, seen, written, None)

    @precondition(lambda self: self.account is not None or self.services)
    @rule(data=st.data())
    def rejected_configuration_update(self, data) -> None:
        if self.account is not None and (not self.services or data.draw(st.booleans(), label="account")):
            request = data.draw(self._invalid("UpdateConfigurationWebhook"), label="request")
            fetch_op, params, keys, model = "FetchConfigurationWebhook", {}, self.account_keys, self.account
        else:
            service = data.draw(st.sampled_from(sorted(self.services)), label="service")
            request = data.draw(self._invalid("UpdateServiceWebhookConfiguration", ChatServiceSid=service), label="request")
            fetch_op, params, keys, model = ("FetchServiceWebhookConfiguration", {"ChatServiceSid": service},
                                             self.service_keys, self.services[service])
        response, failed = self._send(request, expect_success=False)
        seen = self._read(fetch_op, params, keys)
        if seen is not None:
            if is_rejection(response):  # accepted: invalid_request_rejected reports it, not a state fault
                self._judge(request.operation_id, [("rejected_write_changes_nothing", rejected_write_changes_nothing(
                    model, seen, keys=keys, after=f"after a rejected request ({request.defect} in {request.defect_field}) ",
                ))], response)
            model.update(seen)  # resynchronise if the server did change (already reported)
        self.session.raise_first(failed, response)

    # -- channel webhooks ----------------------------------------------

    def _with_room(self) -> list[tuple[str, str]]:
        return sorted(key for key, sids in self.listed.items() if len(sids) < CHANNEL_CAPACITY)

    @precondition(lambda self: self.writes and self._with_room())
    @rule(data=st.data())
    def create_webhook(self, data) -> None:
        self._create(data, data.draw(st.sampled_from(self._with_room()), label="channel"))

    def _create(self, data, key: tuple[str, str]) -> None:
        service, channel = key
        request = data.draw(self._valid("CreateChannelWebhook", ServiceSid=service, ChannelSid=channel), label="request")
        response, failed = self._send(request)
        if response.status != 201:
            self.session.raise_first(failed, response)
            return
        body = self._body(response)
        sid = body.get("sid")
        typed = validator_for(request.operation_id, self.spec).typed_form(request.body)
        webhook = _Webhook(service, channel, typed.get("Type"))
        _apply(webhook.configuration, {k: v for k, v in typed.items() if k.startswith("Configuration.")})
        self._judge(request.operation_id, [("create_returns_new_webhook", create_returns_new_webhook(
            webhook.type, webhook.configuration, body, _configuration(body), {*self.webhooks, *self.deleted}))], response)
        self._hold_triggers_key(request.operation_id, body, response)
        if is_webhook_sid(sid):  # anything else has nothing to address it by: the model does not track it
            self.webhooks[sid] = webhook
            self.listed[(service, channel)].add(sid)

    @precondition(lambda self: self.webhooks)
    @rule(data=st.data())
    def fetch_webhook(self, data) -> None:
        sid = data.draw(st.sampled_from(sorted(self.webhooks)), label="webhook")
        self._compare_webhook(sid, "FetchChannelWebhook", set(), None)

    def _compare_webhook(self, sid: str, op: str, written: set[str], response) -> None:
        webhook = self.webhooks[sid]
        fetched, failed = self._send(self._fixed("FetchChannelWebhook", _webhook_params(webhook, sid)))
        if fetched.status != 200:
            self.session.raise_first(failed, fetched)
            return
        self._compare_webhook_body(sid, op, self._body(fetched), written, fetched)

    def _compare_webhook_body(self, sid: str, op: str, body: Mapping[str, Any], written: set[str], response) -> None:
        webhook = self.webhooks[sid]
        configuration = _configuration(body)
        self._hold_triggers_key(op, body, response)
        judged = written or set(webhook.configuration)  # a fetch alone: everything the model holds reads back
        self._judge(op, [
            ("write_read_back", write_read_back(webhook.configuration, configuration, judged, within="configuration",
                                                expected_type=webhook.type, actual_type=body.get("type"))),
            ("absent_fields_unchanged", absent_fields_unchanged(webhook.configuration, configuration, judged,
                                                                within="configuration")),
        ], response)

    @precondition(lambda self: self.writes and self.webhooks)
    @rule(data=st.data())
    def update_webhook(self, data) -> None:
        sid = data.draw(st.sampled_from(sorted(self.webhooks)), label="webhook")
        webhook = self.webhooks[sid]
        request = data.draw(self._valid("UpdateChannelWebhook", webhook.type, **_webhook_params(webhook, sid)),
                            label="request")
        response, failed = self._send(request)
        if response.status != 200:
            self.session.raise_first(failed, response)
            return
        typed = validator_for(request.operation_id, self.spec).typed_form(request.body)
        written = _apply(webhook.configuration, typed)
        self._compare_webhook_body(sid, request.operation_id, self._body(response), written, response)
        self._compare_webhook(sid, request.operation_id, written, None)

    @precondition(lambda self: self.webhooks)
    @rule(data=st.data())
    def rejected_webhook_update(self, data) -> None:
        sid = data.draw(st.sampled_from(sorted(self.webhooks)), label="webhook")
        webhook = self.webhooks[sid]
        request = data.draw(self._invalid("UpdateChannelWebhook", **_webhook_params(webhook, sid)), label="request")
        if request.defect_field in self._unused_by(webhook):
            # a field this Type does not use: a server may ignore it (type_fields is open)
            request = dataclasses.replace(request, open_point="type_fields")
        response, failed = self._send(request, expect_success=False)
        fetched, fetch_failed = self._send(self._fixed("FetchChannelWebhook", _webhook_params(webhook, sid)))
        if fetched.status == 200:
            body = self._body(fetched)
            configuration = _configuration(body)
            if is_rejection(response):  # accepted: invalid_request_rejected reports it, not a state fault
                self._judge(request.operation_id, [("rejected_write_changes_nothing", rejected_write_changes_nothing(
                    webhook.configuration, configuration, within="configuration",
                    after=f"after a rejected request ({request.defect} in {request.defect_field}) ",
                ))], response)
            for key in webhook.configuration:
                webhook.configuration[key] = configuration.get(key)
        else:
            self.session.raise_first(fetch_failed, fetched)
        self.session.raise_first(failed, response)

    @precondition(lambda self: self.listed)
    @rule(data=st.data())
    def rejected_create(self, data) -> None:
        service, channel = data.draw(st.sampled_from(sorted(self.listed)), label="channel")
        request = data.draw(self._invalid("CreateChannelWebhook", ServiceSid=service, ChannelSid=channel), label="request")
        response, failed = self._send(request, expect_success=False)
        if response.is_success:
            data_ = self._body(response)
            if isinstance(data_.get("sid"), str):  # wrongly created: track it so the model stays true
                self.listed[(service, channel)].add(data_["sid"])
                self.webhooks[data_["sid"]] = _Webhook(service, channel, None)
        listed = self._list(service, channel)
        if listed is not None and is_rejection(response):
            self._judge(request.operation_id, [("rejected_write_changes_nothing", rejected_write_changes_nothing(
                self.listed[(service, channel)], listed,
                after=f"after a rejected create ({request.defect} in {request.defect_field}) ",
            ))], response)
        self.session.raise_first(failed, response)

    @precondition(lambda self: self.writes and self.webhooks)
    @rule(data=st.data())
    def delete_webhook(self, data) -> None:
        sid = data.draw(st.sampled_from(sorted(self.webhooks)), label="webhook")
        webhook = self.webhooks[sid]
        response, failed = self._send(self._fixed("DeleteChannelWebhook", _webhook_params(webhook, sid)))
        if response.status != 204:
            self.session.raise_first(failed, response)
            return
        del self.webhooks[sid]
        self.deleted[sid] = webhook
        self.listed[(webhook.service, webhook.channel)].discard(sid)
        self._check_gone(sid, webhook, "FetchChannelWebhook")
        key = (webhook.service, webhook.channel)
        self._check_list(key, self._page_size(data, key))  # ... and the list omits it

    def _check_gone(self, sid: str, webhook: _Webhook, op: str) -> None:
        response, _ = self.session.exchange(self._fixed(op, _webhook_params(webhook, sid)), expected_status=404)
        if response.status == 429:
            return
        self._judge("DeleteChannelWebhook", [("deleted_webhook_gone", deleted_webhook_gone(
            [(op, f"deleted webhook {sid}", response.status)]))], response)

    @precondition(lambda self: self.deleted)
    @rule(data=st.data())
    def touch_deleted_webhook(self, data) -> None:
        sid = data.draw(st.sampled_from(sorted(self.deleted)), label="deleted webhook")
        op = data.draw(st.sampled_from(["FetchChannelWebhook", "DeleteChannelWebhook"] + (["UpdateChannelWebhook"] if self.writes else [])), label="operation")
        self._check_gone(sid, self.deleted[sid], op)

    @precondition(lambda self: self.listed)
    @rule(data=st.data())
    def list_webhooks(self, data) -> None:
        # The fullest channel first, and a page size (or the default) that makes a
        # channel with several webhooks span pages: paging is part of the property.
        key = data.draw(st.sampled_from(sorted(self.listed, key=lambda k: (-len(self.listed[k]), k))), label="channel")
        self._check_list(key, self._page_size(data, key))

    def _page_size(self, data, key: tuple[str, str]) -> int | None:
        """A page size small enough for the channel to span pages, the default, or one
        above the spec's maximum of 5 (open: ``page_size_max``)."""
        return data.draw(st.sampled_from([*range(1, max(2, len(self.listed[key]))), None, _OPEN_PAGE_SIZE]),
                         label="page size")

    # -- open points ---------------------------------------------------

    def _hold_triggers_key(self, op: str, body: Mapping[str, Any], response) -> None:
        """Under which key a trigger webhook reports its triggers is the server's choice
        (``triggers_key``), made once: a client that found them under one key must find them there
        again, on every trigger webhook and every read."""
        key = _triggers_key(body)
        if key is None:
            return
        answer = f"{op} of {body.get('sid')} answered with its triggers under configuration.{key}"
        earlier = self.session.context.choose("trigger webhooks", "triggers_key", key, answer)
        if earlier is not None:
            self._judge(op, [("open_choice_consistent", [
                f"triggers_key: {answer}, but earlier under configuration.{earlier[0]} ({earlier[1]})"])], response)

    def _open_choice(self, request: Request, response, of: str | None = None) -> str | None:
        """Judge an open point by the server's own earlier answer; return this answer's kind.

        *of* narrows "the same kind of request" (default: any request of this operation at this point)."""
        if response.status == 429 or response.auth != "valid":
            return None
        kind = "accepted" if response.is_success else "rejected" if is_rejection(response) else None
        if kind is None:
            return None  # a 5xx or worse: the response checks report it
        earlier = self.session.context.choose(of or request.operation_id, request.open_point, kind, str(request))
        self._judge(request.operation_id, [("open_choice_consistent", open_choice_consistent(
            request.open_point, str(request), kind, earlier))], response)
        return kind

    @precondition(lambda self: self.writes and (self.account is not None or self.services or self.webhooks))
    @rule(data=st.data())
    def open_empty_value(self, data) -> None:
        """An update that sends one URL field empty (open: ``empty_value``).

        Twilio documents no meaning for it, so the server may clear the field,
        keep it, or reject the request; whatever it answers, it reads back so,
        a rejection changes nothing, and it answers the same way every time.
        """
        scopes = [name for name, present in (("account", self.account is not None), ("service", self.services),
                                             ("webhook", self.webhooks)) if present]
        scope = data.draw(st.sampled_from(scopes), label="scope")
        params, base = self._draw_update(data, scope)
        op = base.operation_id
        unused = self._unused_by(self.webhooks[params["Sid"]]) if scope == "webhook" else ()
        # a URL field the webhook's Type does not use is type_fields' open point, not empty_value's
        url_fields = [name for name, schema in self.spec.operation(op).form_fields.items()
                      if is_url(schema) and name not in unused]
        if not url_fields:
            return
        emptied = data.draw(st.sampled_from(url_fields), label="field sent empty")
        request = Request.build(op, base.method, base.path, path_params=base.path_params, query=base.query,
                                form=[*(pair for pair in base.form if pair[0] != emptied), (emptied, "")],
                                open_point="empty_value")
        response, failed = self._send(request, expect_success=False)
        kind = self._open_choice(request, response)
        if kind is None:
            self.session.raise_first(failed, response)
        elif scope == "webhook":
            self._open_webhook_update(params["Sid"], request, response, response_key(emptied), kind)
        else:
            self._open_config_update(scope, params, request, response, emptied, kind)

    def _draw_update(self, data, scope: str) -> tuple[dict[str, str], Request]:
        """A valid update of one resource of *scope*, and its path parameters.

        One draw after another as the rule has always made them: seeded runs replay.
        """
        if scope == "webhook":
            sid = data.draw(st.sampled_from(sorted(self.webhooks)), label="webhook")
            webhook = self.webhooks[sid]
            params = _webhook_params(webhook, sid)
            return params, data.draw(self._valid("UpdateChannelWebhook", webhook.type, **params), label="request")
        if scope == "service":
            service = data.draw(st.sampled_from(sorted(self.services)), label="service")
            return {"ChatServiceSid": service}, data.draw(
                self._valid("UpdateServiceWebhookConfiguration", ChatServiceSid=service), label="request")
        return {}, data.draw(self._valid("UpdateConfigurationWebhook"), label="request")

    def _open_config_update(self, scope: str, params: Mapping[str, str], request: Request, response, emptied: str,
                            kind: str) -> None:
        """Hold a configuration to the server's own answer to an empty value: what it accepted
        reads back as it answered it, and a rejection changed nothing."""
        op, key = request.operation_id, response_key(emptied)
        fetch_op = "FetchConfigurationWebhook" if scope == "account" else "FetchServiceWebhookConfiguration"
        keys = self.account_keys if scope == "account" else self.service_keys
        model = self.account if scope == "account" else self.services[params["ChatServiceSid"]]
        assert model is not None  # the scope was drawn from those the model holds
        if kind == "rejected":
            seen = self._read(fetch_op, params, keys)
            if seen is not None:
                self._judge(op, [("rejected_write_changes_nothing", rejected_write_changes_nothing(
                    model, seen, keys=keys, after=f"after a rejected update with {emptied} empty, "))], response)
                model.update(seen)
            return
        written = _apply(model, validator_for(op, self.spec).typed_form(request.body))
        model[key] = self._body(response).get(key)  # the server's own meaning of the empty value
        self._compare_config(op, model, self._body(response), written, response)
        seen = self._read(fetch_op, params, keys)
        if seen is not None:
            self._compare_config(op, model, seen, written, None)

    def _with_unused_fields(self) -> list[str]:
        fields = self.spec.operation("UpdateChannelWebhook").form_fields
        return [sid for sid in sorted(self.webhooks) if any(n in fields for n in self._unused_by(self.webhooks[sid]))]

    def _open_unused_field(self, data) -> None:
        """An update that also sends a field the webhook's Type does not use, with a value that is valid
        where a Type uses it (open: ``type_fields``).

        The docs say which fields a Type uses, not what becomes of the others: the server may keep the
        field or refuse the request. Once per run, so that across runs the server is held to answering
        it the same way every time; what it accepted reads back as it answered, a refusal changes nothing.
        """
        sid = data.draw(st.sampled_from(self._with_unused_fields()), label="webhook")
        webhook = self.webhooks[sid]
        params = _webhook_params(webhook, sid)
        base = data.draw(self._valid("UpdateChannelWebhook", webhook.type, **params), label="request")
        fields = self.spec.operation("UpdateChannelWebhook").form_fields
        name = data.draw(st.sampled_from([n for n in self._unused_by(webhook) if n in fields]), label="unused field")
        types = self.spec.operation("CreateChannelWebhook").form_fields["Type"]["enum"]
        user = next(kind for kind in types if name not in request_strategies.fields_unused_by(kind, self.spec))
        # never sent, only read for a value: the run's own pins (a pinned Type) do not apply to it
        donor = data.draw(request_strategies.valid_requests(
            "CreateChannelWebhook", spec=self.spec, pinned={"Type": user}, ServiceSid=webhook.service,
            ChannelSid=webhook.channel).filter(lambda drawn: name in drawn.fields()), label="its value")
        request = Request.build(base.operation_id, base.method, base.path, path_params=base.path_params,
                                query=base.query, open_point="type_fields",
                                form=[*(pair for pair in base.form if pair[0] != name),
                                      *(pair for pair in donor.form if pair[0] == name)])
        response, failed = self._send(request, expect_success=False)
        # per field, and apart from the invalid values the random steps send there: a server may keep
        # one unused field and refuse another, and may refuse a bad value where it keeps a good one
        kind = self._open_choice(request, response, of=f"{request.operation_id}: a valid {name}")
        if kind is None:
            self.session.raise_first(failed, response)
        else:
            self._open_webhook_update(sid, request, response, response_key(name), kind,
                                      what=f"{name}, which a {webhook.type} webhook does not use")

    def _open_webhook_update(self, sid: str, request: Request, response, key: str, kind: str,
                             what: str = "an empty value") -> None:
        webhook = self.webhooks[sid]
        if kind == "rejected":
            fetched, fetch_failed = self._send(self._fixed("FetchChannelWebhook", _webhook_params(webhook, sid)))
            if fetched.status != 200:
                self.session.raise_first(fetch_failed, fetched)
                return
            configuration = _configuration(self._body(fetched))
            self._judge(request.operation_id, [("rejected_write_changes_nothing", rejected_write_changes_nothing(
                webhook.configuration, configuration, within="configuration",
                after=f"after a rejected update with {what}, "))], response)
            for name in webhook.configuration:
                webhook.configuration[name] = configuration.get(name)
            return
        typed = validator_for(request.operation_id, self.spec).typed_form(request.body)
        written = _apply(webhook.configuration, typed)
        webhook.configuration[key] = _configuration(self._body(response)).get(key)
        self._compare_webhook_body(sid, request.operation_id, self._body(response), written, response)
        self._compare_webhook(sid, request.operation_id, written, None)

    def _check_list(self, key: tuple[str, str], page_size: int | None) -> None:
        listed = self._list(*key, page_size=page_size)
        if listed is None:
            return
        expected = self.listed[key]
        deleted = set(self.deleted)
        self._judge("ListChannelWebhook", [
            ("deleted_webhook_gone", deleted_webhook_gone(channel=key[1], listed=listed, deleted=deleted)),
            ("list_reflects_webhooks", list_reflects_webhooks(expected, listed, channel=key[1], deleted=deleted)),
        ])
        self.listed[key] = (listed - deleted) | expected


def build_machine(session: Session, pools: Pools) -> type[ContractMachine]:
    """A state machine class bound to one session and its resource pools."""
    return ContractMachine.bound(session, pools)


def _config_keys(spec: Spec, update_op: str) -> list[str]:
    """The response keys of a configuration: one per form field its update takes."""
    return [response_key(name) for name in spec.operation(update_op).form_fields]


def _apply(model: dict[str, Any], typed: Mapping[str, Any]) -> set[str]:
    """Apply typed form fields to a model the way Twilio does; return the keys written.

    ``Configuration.*`` fields land on the configuration's keys; ``Type`` is not
    part of a configuration. An empty value is an open point (``empty_value``):
    its caller replaces it with what the server answered.
    """
    written = set()
    for name, value in typed.items():
        if name == "Type":
            continue
        key = response_key(name)
        model[key] = value
        written.add(key)
    return written


def _configuration(body: Mapping[str, Any]) -> dict[str, Any]:
    """A webhook's ``configuration``, read the way its server chose to write it.

    Twilio documents the object only by example (``url``, ``method``,
    ``filters``, ``retry_count`` of a webhook-type webhook); under which key a
    trigger webhook reports its triggers is open (``triggers_key``). A server that
    answers them as ``filters`` (and no ``triggers``) is read as having said
    ``triggers``: the round trip still compares every value that was written.
    """
    configuration = body.get("configuration")
    if not isinstance(configuration, dict):
        return {}
    if "triggers" not in configuration and body.get("type") == "trigger" and "filters" in configuration:
        return {**configuration, "triggers": configuration["filters"], "filters": None}
    return configuration


def _triggers_key(body: Mapping[str, Any]) -> str | None:
    """Where this answer put a trigger webhook's triggers (None: not a trigger webhook, or no triggers)."""
    configuration = body.get("configuration")
    if body.get("type") != "trigger" or not isinstance(configuration, dict):
        return None
    if configuration.get("triggers") is not None:
        return "triggers"
    return "filters" if configuration.get("filters") is not None else None


def fixed_request(spec: Spec, operation_id: str, params: Mapping[str, str]) -> Request:
    """The one valid request of an operation whose only inputs are path parameters."""
    operation = spec.operation(operation_id)
    encoded = {name: encode_path_segment(value) for name, value in params.items()}
    return Request.build(operation_id, operation.method, operation.render_path(encoded), path_params=params)


def _page(request: Request, next_url: str) -> Request:
    """The request for the next page, from an absolute ``next_page_url``."""
    parts = urlsplit(next_url)
    return Request.build(request.operation_id, request.method, request.path, path_params=request.path_params,
                         query=parse_qsl(parts.query, keep_blank_values=True))


def _is_page_of(next_url: Any, request: Request) -> bool:
    """True when *next_url* is an absolute URL of the same list (the channel may be its CH sid)."""
    if not isinstance(next_url, str):
        return False
    parts = urlsplit(next_url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.path.rstrip("/").endswith("/Webhooks")


def _webhook_params(webhook: _Webhook, sid: str) -> dict[str, str]:
    return {"ServiceSid": webhook.service, "ChannelSid": webhook.channel, "Sid": sid}

