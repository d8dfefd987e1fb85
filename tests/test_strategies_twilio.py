"""Our requests go on the wire exactly as the official twilio-python client sends them.

twilio-python is driven with the same arguments through its real code path --
``values.of``, ``serialize.map``, ``TwilioHttpClient.request`` and ``requests``'
preparation -- and only the socket is replaced: the session's ``send`` keeps the
prepared request and answers with a canned, valid response.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ACCOUNT_SID, SERVICE_SID, WEBHOOK_SID
from twilio_webhook_contracts.strategies import defects_for, invalid_requests, valid_requests
from test_tightenings import ACCOUNT_CONFIG, PAGE, SERVICE_CONFIG, WEBHOOK
from twilio.base import values
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio_webhook_contracts.request import Request, encode_path_segment
from twilio_webhook_contracts.spec import default_spec

OPERATIONS = sorted(default_spec().operations)
WRITE_OPERATIONS = ["UpdateConfigurationWebhook", "UpdateServiceWebhookConfiguration",
                    "CreateChannelWebhook", "UpdateChannelWebhook"]
BODY_DEFECTS = ["bad_enum", "bad_pattern", "bad_url", "wrong_type", "out_of_range", "too_short", "too_long",
                "too_many_items", "missing_required"]
#: A valid response body per operation (the channel webhook for the rest).
CANNED = {
    "FetchConfigurationWebhook": ACCOUNT_CONFIG, "UpdateConfigurationWebhook": ACCOUNT_CONFIG,
    "FetchServiceWebhookConfiguration": SERVICE_CONFIG, "UpdateServiceWebhookConfiguration": SERVICE_CONFIG,
    "ListChannelWebhook": PAGE,
}


class _NoNetwork(requests.Session):
    """A session that keeps what it is asked to send and answers it itself."""

    def __init__(self, status: int, payload: object):
        super().__init__()
        self.status, self.payload = status, payload
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):  # noqa: D102 - requests API
        self.sent.append(request)
        response = requests.Response()
        response.status_code = self.status
        response._content = b"" if self.payload is None else json.dumps(self.payload).encode()
        response.headers["Content-Type"] = "application/json"
        return response


class CapturingHttpClient(TwilioHttpClient):
    """TwilioHttpClient with its own request code, and no socket behind it."""

    def __init__(self):
        super().__init__(pool_connections=True)
        self.session = _NoNetwork(200, None)
        self.data: list[object] = []

    def answer(self, status: int, payload: object) -> None:
        """Forget what was sent; answer the next request with *status* and *payload*."""
        self.session.status, self.session.payload = status, payload
        self.session.sent.clear()
        self.data.clear()

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> Response:
        self.data.append(data)
        return super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)

    @property
    def prepared(self) -> requests.PreparedRequest:
        assert len(self.session.sent) == 1, self.session.sent
        return self.session.sent[0]


#: One client for the module, as an application would hold one.
HTTP = CapturingHttpClient()
CLIENT = Client(ACCOUNT_SID, "not-a-real-token", http_client=HTTP)


def _argument(name: str) -> str:
    """``Configuration.RetryCount`` -> ``configuration_retry_count`` (twilio-python's keyword)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.replace(".", "")).lower()


def _arguments(request) -> dict[str, object]:
    """The keyword arguments a twilio-python user passes for this request's form."""
    operation = default_spec().operation(request.operation_id)
    fields = request.fields()
    kwargs: dict[str, object] = {}
    for name, schema in operation.form_fields.items():
        if name not in fields:
            continue
        value: object = fields[name]
        if schema.get("type") != "array":
            value = fields[name][0]
            if schema.get("type") == "integer" and re.fullmatch(r"-?[0-9]+", value):
                value = int(value)  # twilio-python takes an int, and sends str(int)
        kwargs[_argument(name)] = value
    return kwargs


def send_with_twilio_python(request) -> CapturingHttpClient:
    operation = default_spec().operation(request.operation_id)
    payload = CANNED.get(request.operation_id, WEBHOOK)
    status = operation.success_status
    HTTP.answer(status, None if status == 204 else payload)
    client, http = CLIENT, HTTP
    p = request.path_params
    kwargs = _arguments(request)
    op = request.operation_id
    if op == "FetchConfigurationWebhook":
        client.conversations.v1.configuration.webhooks().fetch()
    elif op == "UpdateConfigurationWebhook":
        client.conversations.v1.configuration.webhooks().update(**kwargs)
    elif op == "FetchServiceWebhookConfiguration":
        client.conversations.v1.services(p["ChatServiceSid"]).configuration.webhooks().fetch()
    elif op == "UpdateServiceWebhookConfiguration":
        client.conversations.v1.services(p["ChatServiceSid"]).configuration.webhooks().update(**kwargs)
    else:
        webhooks = client.chat.v2.services(p["ServiceSid"]).channels(p["ChannelSid"]).webhooks
        if op == "CreateChannelWebhook":
            webhooks.create(**{"type": values.unset, **kwargs})
        elif op == "ListChannelWebhook":
            query = dict(request.query)
            webhooks.page(
                page_token=query.get("PageToken", values.unset),
                page_number=int(query["Page"]) if re.fullmatch(r"-?[0-9]+", query.get("Page", "")) else query.get("Page", values.unset),
                page_size=int(query["PageSize"]) if re.fullmatch(r"-?[0-9]+", query.get("PageSize", "")) else query.get("PageSize", values.unset),
            )
        elif op == "FetchChannelWebhook":
            webhooks(p["Sid"]).fetch()
        elif op == "UpdateChannelWebhook":
            webhooks(p["Sid"]).update(**kwargs)
        elif op == "DeleteChannelWebhook":
            webhooks(p["Sid"]).delete()
        else:  # pragma: no cover - a new operation needs a line here
            raise AssertionError(f"no twilio-python call for {op}")
    return http


WIRE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("operation_id", WRITE_OPERATIONS)
@WIRE
@given(data=st.data())
def test_the_body_is_byte_identical_to_twilio_pythons(operation_id, data):
    body_defects = [kind for kind in BODY_DEFECTS if kind in defects_for(operation_id)]
    request = data.draw(st.one_of(valid_requests(operation_id), invalid_requests(operation_id, defects=body_defects)))
    http = send_with_twilio_python(request)
    prepared = http.prepared
    assert (prepared.body or "").encode("ascii") == request.body, (request, http.data)
    assert prepared.headers["Content-Type"] == request.headers["Content-Type"]
    assert prepared.method == request.method


@pytest.mark.parametrize("operation_id", OPERATIONS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_path_and_query_are_the_ones_twilio_python_uses(operation_id, data):
    """Paths agree, a unique-name ``ChannelSid`` included: twilio-python leaves the
    percent-encoding to ``requests``, which encodes the same characters ours does in
    every name we generate (letters, digits, ``-_ .``, non-ASCII letters)."""
    options = [valid_requests(operation_id)]
    if defects_for(operation_id):
        options.append(invalid_requests(operation_id))
    request = data.draw(st.one_of(options))
    prepared = send_with_twilio_python(request).prepared
    url = urlsplit(prepared.url)
    assert url.path == request.path
    assert sorted(parse_qsl(url.query, keep_blank_values=True)) == sorted(request.query)
    assert f"{url.scheme}://{url.netloc}" == default_spec().operation(operation_id).server


def test_twilio_python_does_not_encode_reserved_characters_in_a_unique_name():
    """Why generated unique names avoid ``?``, ``#`` and ``%``: twilio-python formats the
    name into the path unencoded, so ``requests`` reads ``?`` as the start of a query
    and the request would go to another resource. Ours encodes the segment."""
    operation = default_spec().operation("FetchChannelWebhook")
    params = {"ServiceSid": SERVICE_SID, "ChannelSid": "room?1", "Sid": WEBHOOK_SID}
    ours = Request.build(operation.operation_id, operation.method,
                         operation.render_path({k: encode_path_segment(v) for k, v in params.items()}), path_params=params)
    theirs = urlsplit(send_with_twilio_python(ours).prepared.url)
    assert "/Channels/room%3F1/" in ours.path
    assert theirs.path.endswith("/Channels/room") and theirs.query.startswith("1/Webhooks")
