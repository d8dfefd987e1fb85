"""Small builders shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from twilio_webhook_contracts.request import Request, form_pairs
from twilio_webhook_contracts.spec import Spec, default_spec

DATA = Path(__file__).parent / "data"
ACCOUNT_SID = "AC" + "a" * 32
SERVICE_SID = "IS" + "b" * 32
CHANNEL_SID = "CH" + "c" * 32
WEBHOOK_SID = "WH" + "d" * 32
JSON = {"Content-Type": "application/json"}


def reference_spec() -> Spec:
    """Twilio's own description of the same operations (twilio-oai, vendored)."""
    documents = {
        "conversations": json.loads((DATA / "reference" / "conversations_v1_webhooks.json").read_text()),
        "chat": json.loads((DATA / "reference" / "chat_v2_channel_webhooks.json").read_text()),
    }
    return Spec(DATA / "reference", documents)


def make_request(
    operation_id: str,
    form: Mapping[str, Any] | None = None,
    path_params: Mapping[str, str] | None = None,
    query: tuple[tuple[str, str], ...] = (),
    spec: Spec | None = None,
) -> Request:
    operation = (spec or default_spec()).operation(operation_id)
    params = dict(path_params or {})
    defaults = {"ChatServiceSid": SERVICE_SID, "ServiceSid": SERVICE_SID, "ChannelSid": CHANNEL_SID, "Sid": WEBHOOK_SID}
    for param in operation.path_parameters:
        params.setdefault(param.name, defaults[param.name])
    return Request.build(
        operation_id,
        operation.method,
        operation.render_path(params),
        path_params=params,
        query=query,
        form=form_pairs(form) if form is not None else (() if operation.form_schema is not None else None),
    )


def body(value: Any) -> bytes:
    return json.dumps(value).encode()
