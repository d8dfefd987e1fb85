"""The catalogue of open points: where Twilio is silent, and what the suite does there.

Every expectation a check holds is either documented (the fragments cite the
seed, Twilio's spec or a doc sentence, and breaking it is a violation) or open:
the server decides. This module is the list of the open ones, so that the
README, the fragments (``x-open``), the mock's policies and the checks all say
the same thing, and a test keeps them in step. At an open point the suite holds
the server to its *own* decision: the same request in the same state gets the
same kind of answer, an accepted write reads back as answered, a rejected one
changes nothing, and a parent it called absent stays absent.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPEN_POINTS", "OpenPoint"]


@dataclass(frozen=True)
class OpenPoint:
    """One place where a correct server may choose."""

    name: str
    #: what the server may choose (the mock's policy values, default first)
    choices: tuple[str, ...]
    #: what Twilio says (or does not say) about it
    why_open: str
    #: how the suite judges it instead of assuming one choice
    held_by: str


OPEN_POINTS: tuple[OpenPoint, ...] = (
    OpenPoint("parents", ("implicit", "declared"),
              "Services and channels are created through APIs outside these fragments; whether an unknown "
              "one exists is the server's to say.",
              "A Twilio 404 for an unknown parent is accepted and remembered; after a 404 to a write, one read "
              "of the same parent, and in the stateful suite one create, hold the server to it "
              "(parents_consistent); a parent that answered with content must keep answering "
              "(valid_request_accepted)."),
    OpenPoint("unique_names", ("any", "restricted"),
              "The alphabet and length of the unique names a server knows (the Chat docs cap one at 64 "
              "characters; the path segment takes up to 256).",
              "As parents: a 404 for a name is the server's answer, held by parents_consistent."),
    OpenPoint("validation_order", ("body-first", "path-first"),
              "Whether a request with both a bad path and a bad body gets 400 or 404.",
              "Any 4xx but 401/403/429 rejects an invalid request (invalid_request_rejected)."),
    OpenPoint("empty_value", ("clears", "rejected"),
              "Twilio documents no meaning for an empty value (`PreWebhookUrl=`, `Configuration.Url=`).",
              "Valid requests never send one; the stateful suite sends one per run and holds the server to "
              "its answer: read back as answered (write_read_back), a rejection changes nothing "
              "(rejected_write_changes_nothing), the same kind of answer each time (open_choice_consistent)."),
    OpenPoint("page_size_max", ("1000", "5"),
              "Twilio's spec says \"the maximum is 5\"; its helper libraries send larger page sizes (Twilio's "
              "general limit is 1000).",
              "Valid requests draw 1..5 and no invalid request is built above 5; the stateful suite lists with "
              "PageSize=20 and holds the server to serving or refusing it (open_choice_consistent), and a "
              "served list to holding every webhook (list_reflects_webhooks)."),
    OpenPoint("default_page_size", ("50", "5"),
              "The spec says 5; Twilio's usual paging default is 50.",
              "The suite follows next_page_url and never assumes either."),
    OpenPoint("initial_filters", ("empty", "null"),
              "A never-configured configuration may report `filters: []` or `null`.",
              "The model starts from what the target answers; both are in the response schema."),
    OpenPoint("initial_method", ("POST", "null"),
              "Twilio's own `fetchEmpty` example answers `method: null` for a never-configured service.",
              "The service response schema accepts null; the model starts from the target's answer."),
    OpenPoint("legacy_filters", ("off", "on"),
              "Accounts configured long ago report legacy names such as `onMessageSend`.",
              "Responses accept any event-shaped name; round trips compare with what was written; the account "
              "configuration is read twice before any write and must answer the same (open_choice_consistent)."),
    OpenPoint("url_host", ("request", "twilio"),
              "The host in `url` fields: the one the client addressed, a proxy's, or Twilio's canonical hosts.",
              "resource_url_canonical compares the path only; paging uses only the query of next_page_url."),
    OpenPoint("filter_order", ("sent", "sorted"),
              "Neither the docs nor the spec promise an order for filters or triggers.",
              "Lists are compared as sets (as multisets for a repeated identical update)."),
    OpenPoint("error_messages", ("twilio", "terse"),
              "The wording of error messages.",
              "error_body_is_twilio checks the four fields and their types, never the text."),
    OpenPoint("type_fields", ("accepted", "rejected"),
              "The docs say which configuration each webhook `Type` uses (\"Used when `type` is `webhook`\", "
              "\"Used only when `type` is `studio`\"), not what a server does with a field another Type uses.",
              "Valid requests send only the fields their Type uses, on create and on update of a webhook of "
              "known type; an invalid value in a field the Type does not use is not required to be rejected "
              "(invalid_request_rejected); each stateful run sends one valid value in a field the webhook's "
              "Type does not use and holds the server to its answer for that field (open_choice_consistent)."),
    OpenPoint("triggers_key", ("triggers", "filters"),
              "Twilio documents a webhook's `configuration` only by example; under which key a trigger webhook "
              "reports its triggers is not said.",
              "Triggers read back under `triggers`, or under `filters` when the server answers no `triggers` "
              "(write_read_back, create_returns_new_webhook); the key answered first is the one every later "
              "answer must use (open_choice_consistent)."),
    OpenPoint("channel_limit", ("400", "409"),
              "\"Up to five unique webhook targets for each channel\": which 4xx the sixth gets is not said.",
              "The suite never asks a channel for a sixth webhook; any 4xx would be a rejection."),
)
