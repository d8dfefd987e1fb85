"""Checks of one list page: what a page says about itself must be true of it.

Paging is part of the contract (Twilio's list responses carry ``meta`` with
``page_size``, ``key`` and the page links), and a page can be judged on its own:
it holds no more items than its page size, exactly that many when another page
follows, reports the page size it was asked for, and names the property that
holds its items. The walk across pages (links back, no item twice, an end) is
judged by the stateful suite (``paging_links_honest``). The default page size and
the largest page served are open points, never assumed here.
"""

from __future__ import annotations

from typing import Any

from twilio_webhook_contracts.target import Response

from . import state_checks
from .checks import Context, _register, response_check

__all__ = ["page_size_honest"]


def _asked_page_size(response: Response) -> int | None:
    for name, value in response.request.query:
        if name == "PageSize":
            try:
                return int(value)
            except ValueError:
                return None
    return None


@response_check("response", "a list page holds at most meta.page_size items, exactly that many when a next page follows, "
                            "reports the PageSize it was asked for, and meta.key names the property holding the items")
def page_size_honest(response: Response, context: Context) -> list[str] | None:
    request = response.request
    if request.operation_id != "ListChannelWebhook" or response.status != 200 or request.defect is not None:
        return None
    data: Any = response.json()
    if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
        return None  # response_schema_conforms reports a page without meta
    meta = data["meta"]
    op = request.operation_id
    problems: list[str] = []
    key = meta.get("key")
    items = data.get(key) if isinstance(key, str) else None
    if not isinstance(items, list):
        problems.append(f"{op}: meta.key is {key!r}, which names no list of items in the page")
        items = data.get("webhooks") if isinstance(data.get("webhooks"), list) else []
    size = meta.get("page_size")
    asked = _asked_page_size(response)
    if asked is not None and request.open_point is None and isinstance(size, int) and size != asked:
        problems.append(f"{op}: asked for PageSize={asked}, meta.page_size says {size}")
    if isinstance(size, int) and not isinstance(size, bool):
        if len(items) > size:
            problems.append(f"{op}: the page holds {len(items)} items, more than its page_size {size}")
        elif meta.get("next_page_url") and len(items) < size:
            problems.append(f"{op}: the page holds {len(items)} of {size} items, yet next_page_url says more follow")
    return problems


_register("paging_links_honest", "state", "following next_page_url from the first page ends, lists no webhook twice, "
          "and every page after the first links back with previous_page_url",
          state_function=state_checks.paging_links_honest)
_register("webhook_scoped_to_channel", "state", "a webhook addressed through another channel's path is 404 for fetch, "
          "update and delete, and is left untouched", state_function=state_checks.webhook_scoped_to_channel)
_register("unknown_webhook_absent", "state", "a never-created webhook sid is 404 for fetch, update and delete, and an "
          "update of it creates nothing", state_function=state_checks.unknown_webhook_absent)
