"""The contract suite for Twilio's webhook-configuration APIs.

* :mod:`twilio_webhook_contracts.contract_tests.checks` -- one function per property of the contract;
* :mod:`twilio_webhook_contracts.contract_tests.stateful` -- the model-based state machine;
* :mod:`twilio_webhook_contracts.contract_tests.runner` -- runs both against a target (the CLI's engine);
* :mod:`twilio_webhook_contracts.pytest_plugin` -- the pytest plugin (fixtures, options);
* ``test_contract.py`` -- the bundled suite: ``pytest --pyargs twilio_webhook_contracts.contract_tests``.

This package is imported by pytest at start-up through the plugin entry point,
so it imports nothing heavy until something is used.
"""

from __future__ import annotations

from typing import Any, Iterable

__all__ = ["assert_conforms", "conformance_problems"]


def conformance_problems(response: Any, *, account_sid: str | None = None,
                         checks: Iterable[str] | None = None) -> list[str]:
    """What the response checks find wrong with one exchange (empty: it conforms).

    *response* is a :class:`twilio_webhook_contracts.target.Response` (what
    ``contract_target.send(request)`` returns). The identity check of
    ``account_sid`` runs only when *account_sid* is given.
    """
    from twilio_webhook_contracts.spec import default_spec

    from .checks import Context, response_checks_for, select_checks

    if isinstance(checks, str):  # "response" or "a,b": not the characters of a name
        checks = [name for name in checks.split(",") if name.strip()]
    selected = select_checks(checks)
    if account_sid is None:
        selected.pop("account_sid_matches", None)
    context = Context(spec=default_spec(), account_sid=account_sid or "")
    problems: list[str] = []
    for check in response_checks_for(selected):
        outcome = check.function(response, context)  # type: ignore[misc]
        problems += [f"{check.name}: {text}" for text in outcome or ()]
    return problems


def assert_conforms(response: Any, *, account_sid: str | None = None, checks: Iterable[str] | None = None) -> None:
    """Fail with every broken property of one exchange, each named by its check."""
    __tracebackhide__ = True
    problems = conformance_problems(response, account_sid=account_sid, checks=checks)
    if problems:
        lines = [f"{response.request} answered {response.status}:", *problems]
        excerpt = response.excerpt(300) if response.body else ""
        if excerpt:
            lines.append(f"body: {excerpt}")
        reproduce = _curl(response)
        if reproduce:
            lines.append(f"reproduce: {reproduce}")
        raise AssertionError("\n  ".join(lines))


def _curl(response: Any) -> str:
    """A curl line for the exchange (the secret as ``$TWILIO_AUTH_TOKEN``), when the URL allows one."""
    request = response.request
    url = getattr(response, "url", "")
    suffix = request.target()
    if not isinstance(url, str) or not url.endswith(suffix):
        return ""
    return request.curl(url[: len(url) - len(suffix)])
