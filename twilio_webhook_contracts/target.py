"""Sending requests to a target server: where, as whom, how politely.

A :class:`Target` turns a :class:`~twilio_webhook_contracts.request.Request` (which
holds no host and no secret) into an HTTP exchange with one server -- live Twilio,
our mock, Prism, someone's proxy -- and returns a :class:`Response`. It owns
everything about the transport that the checks must not have to think about:

* base URL per API (Conversations and Chat may live on different hosts);
* HTTP Basic credentials, and deliberately missing or wrong ones for auth checks;
* retries on 429/503 that honour ``Retry-After`` up to a cap, so a rate limit is
  never mistaken for a contract break;
* a request timeout, and memory of which operations timed out, so a server that
  stops answering ends the run within a few timeouts instead of hanging it;
* an optional request budget, rate limit and total time budget (live runs).

The secret never leaves :class:`Credentials`: it is not in ``repr``, in any
exception message, in a :class:`Response`, or in a curl line.
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal, Mapping
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from .request import Request
from .spec import Spec, default_spec

__all__ = [
    "Auth",
    "BudgetExhausted",
    "Credentials",
    "Limits",
    "Response",
    "Target",
    "TargetError",
    "TargetTimeout",
    "TargetUnreachable",
]

#: Which credentials a request goes out with.
Auth = Literal["valid", "none", "wrong"]

_USER_AGENT = "twilio-webhook-contracts/0.1 (+contract tests)"


class TargetError(Exception):
    """The target could not be used; the message is safe to print."""


class TargetUnreachable(TargetError):
    """Nothing answers at the target's address (refused, unknown host, TLS failure)."""


class TargetTimeout(TargetError):
    """The target accepted the request but did not answer within the timeout."""

    def __init__(self, message: str, request: Request, url: str, timeout: float):
        super().__init__(message)
        self.request = request
        self.url = url
        self.timeout = timeout


class BudgetExhausted(TargetError):
    """The request budget or the total time budget of the run is spent."""


@dataclass(frozen=True)
class Credentials:
    """HTTP Basic credentials: an Account SID and auth token, or an API key and secret.

    ``account_sid`` is always the account the run acts on (what ``account_sid`` in
    responses must equal); ``username`` is the account SID or the ``SK…`` key SID.
    """

    account_sid: str
    secret: str = field(repr=False)
    username: str = ""

    def __post_init__(self) -> None:
        if not self.username:
            object.__setattr__(self, "username", self.account_sid)

    @property
    def is_api_key(self) -> bool:
        return self.username != self.account_sid

    @property
    def secret_variable(self) -> str:
        """The environment variable a reproduction line refers to instead of the secret."""
        return "TWILIO_API_SECRET" if self.is_api_key else "TWILIO_AUTH_TOKEN"

    @property
    def username_for_curl(self) -> str:
        return "$TWILIO_API_KEY" if self.is_api_key else self.account_sid

    def secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere (used by redaction)."""
        return (self.secret,) if self.secret else ()

    def __repr__(self) -> str:
        return f"Credentials(account_sid={self.account_sid!r}, username={self.username!r}, secret=<redacted>)"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Credentials | None":
        """Credentials from ``TWILIO_ACCOUNT_SID`` with ``TWILIO_AUTH_TOKEN``, or with
        ``TWILIO_API_KEY`` + ``TWILIO_API_SECRET``; None when they are not set."""
        env = os.environ if environ is None else environ
        account = env.get("TWILIO_ACCOUNT_SID", "")
        if not account:
            return None
        if env.get("TWILIO_API_KEY") and env.get("TWILIO_API_SECRET"):
            return cls(account, env["TWILIO_API_SECRET"], env["TWILIO_API_KEY"])
        if env.get("TWILIO_AUTH_TOKEN"):
            return cls(account, env["TWILIO_AUTH_TOKEN"])
        return None


@dataclass(frozen=True)
class Response:
    """What the target answered to one request (after any retries)."""

    request: Request
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float
    auth: Auth = "valid"
    attempts: int = 1
    #: Answers that were retried before this one (429/503), oldest first.
    retried: tuple["Response", ...] = ()

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The parsed JSON body, or None when the body is not JSON."""
        cached = self.__dict__.get("_json", _UNSET)
        if cached is _UNSET:
            try:
                cached = requests.models.complexjson.loads(self.body) if self.body else None
            except ValueError:
                cached = None
            object.__setattr__(self, "_json", cached)
        return cached

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def excerpt(self, limit: int = 300) -> str:
        text = self.body.decode("utf-8", "replace")
        return text if len(text) <= limit else text[: limit - 3] + "..."


_UNSET = object()


@dataclass
class Limits:
    """Politeness shared by every worker of one run (thread-safe).

    ``max_requests`` and ``time_budget`` bound the whole run; ``rate_limit`` is in
    requests per second across all workers.
    """

    max_requests: int | None = None
    rate_limit: float | None = None
    time_budget: float | None = None
    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_slot: float = 0.0

    def acquire(self, sleep: Callable[[float], None] = time.sleep, budgeted: bool = True) -> None:
        """Take one request slot, waiting for the rate limit; raise when spent.

        Unbudgeted requests (restoring a live account) still keep to the rate
        limit but are never refused: clean-up must not fail for want of budget.
        """
        with self._lock:
            if budgeted and self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetExhausted(f"request budget of {self.max_requests} requests is spent")
            if budgeted and self.time_budget is not None and time.monotonic() - self.started > self.time_budget:
                raise BudgetExhausted(f"time budget of {self.time_budget:g} s is spent")
            self.sent += 1
            wait = 0.0
            if self.rate_limit:
                now = time.monotonic()
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1.0 / self.rate_limit
                wait = slot - now
        if wait > 0:
            sleep(wait)

    def remaining_time(self) -> float | None:
        if self.time_budget is None:
            return None
        return self.time_budget - (time.monotonic() - self.started)


class Target:
    """One server (or a pair: Conversations and Chat) that claims to be these endpoints.

    Not shared between threads: each worker makes its own (``clone()``), sharing
    the :class:`Limits` and the memory of timed-out operations.
    """

    def __init__(
        self,
        conversations_url: str,
        chat_url: str | None = None,
        *,
        credentials: Credentials,
        timeout: float = 10.0,
        max_retries: int = 4,
        max_retry_wait: float = 30.0,
        limits: Limits | None = None,
        spec: Spec | None = None,
        on_exchange: Callable[[Response], None] | None = None,
        on_send: Callable[[Request], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.conversations_url = _check_base_url(conversations_url, "--conversations-url")
        self.chat_url = _check_base_url(chat_url or conversations_url, "--chat-url")
        self.credentials = credentials
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.limits = limits or Limits()
        self.spec = spec or default_spec()
        self.on_exchange = on_exchange
        self.on_send = on_send
        self.timed_out: dict[str, str] = {}  # operation_id -> message; shared by clones
        self.retries = 0
        self.retry_wait = 0.0
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": _USER_AGENT})
        self._lock = threading.Lock()

    def clone(self) -> "Target":
        """A target for another worker thread: own connection pool, shared limits."""
        twin = Target(
            self.conversations_url, self.chat_url, credentials=self.credentials, timeout=self.timeout,
            max_retries=self.max_retries, max_retry_wait=self.max_retry_wait, limits=self.limits,
            spec=self.spec, on_exchange=self.on_exchange, on_send=self.on_send, sleep=self._sleep,
        )
        twin.timed_out = self.timed_out
        return twin

    def base_url(self, operation_id: str) -> str:
        api = self.spec.operation(operation_id).api
        return self.chat_url if api == "chat" else self.conversations_url

    def url(self, request: Request) -> str:
        return request.url(self.base_url(request.operation_id))

    def curl(self, request: Request) -> str:
        """A reproduction line for *request*, with the secret as a shell variable."""
        return request.curl(
            self.base_url(request.operation_id),
            username=self.credentials.username_for_curl,
            secret_variable=self.credentials.secret_variable,
        )

    def is_dead(self, operation_id: str) -> bool:
        """True once a request of this operation went unanswered: don't hammer it."""
        return operation_id in self.timed_out

    def send(self, request: Request, *, auth: Auth = "valid", retry: bool = True, budgeted: bool = True) -> Response:
        """Send *request*; retry 429/503 as the server asks; raise on no answer.

        Raises :class:`TargetTimeout` (and remembers the operation),
        :class:`TargetUnreachable` or :class:`BudgetExhausted`.
        """
        url = self.url(request)
        if self.on_send is not None:
            self.on_send(request)
        attempts = 0
        retried: list[Response] = []
        while True:
            attempts += 1
            self.limits.acquire(self._sleep, budgeted)
            response = self._send_once(request, url, auth, attempts)
            if not retry or response.status not in (429, 503) or attempts > self.max_retries:
                break
            wait = self._retry_delay(response, attempts)
            remaining = self.limits.remaining_time()
            if remaining is not None and wait > remaining:
                break
            retried.append(response)
            with self._lock:
                self.retries += 1
                self.retry_wait += wait
            self._sleep(wait)
        if retried:
            response = replace(response, retried=tuple(retried))
        if self.on_exchange is not None:
            self.on_exchange(response)
        return response

    def _send_once(self, request: Request, url: str, auth: Auth, attempts: int) -> Response:
        headers = dict(request.headers)
        if auth == "valid":
            credentials: tuple[str, str] | None = (self.credentials.username, self.credentials.secret)
        elif auth == "wrong":
            credentials = (self.credentials.username, "wrong-" + "0" * 26)
        else:
            credentials = None
        started = time.perf_counter()
        try:
            answer = self._session.request(
                request.method, url, data=request.body or None, headers=headers,
                auth=credentials, timeout=self.timeout, allow_redirects=False,
            )
        except requests.exceptions.Timeout:
            message = f"{request.method} {_safe(url)} got no answer within {self.timeout:g} s"
            self.timed_out.setdefault(request.operation_id, message)
            raise TargetTimeout(message, request, url, self.timeout) from None
        except requests.exceptions.RequestException as exc:
            raise TargetUnreachable(f"cannot reach {_origin(url)}: {_reason(exc)}") from None
        return Response(
            request=request,
            url=url,
            status=answer.status_code,
            headers=CaseInsensitiveDict(answer.headers),
            body=answer.content,
            elapsed=time.perf_counter() - started,
            auth=auth,
            attempts=attempts,
        )

    def _retry_delay(self, response: Response, attempts: int) -> float:
        value = response.headers.get("Retry-After")
        delay: float | None = None
        if value is not None:
            value = value.strip()
            if value.isdigit():
                delay = float(value)
            else:
                parsed = email.utils.parsedate_to_datetime(value) if value else None
                if parsed is not None:
                    delay = max(0.0, parsed.timestamp() - time.time())
        if delay is None:
            delay = min(0.25 * 2 ** (attempts - 1), 4.0)
        return min(delay, self.max_retry_wait)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "Target":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Target({self.conversations_url!r}, {self.chat_url!r}, credentials={self.credentials!r})"


def _check_base_url(url: str, option: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(f"{option}: expected an absolute http(s) URL such as https://conversations.twilio.com, got {url!r}")
    if parts.query or parts.fragment:
        raise TargetError(f"{option}: a base URL takes no query or fragment, got {url!r}")
    return url.rstrip("/")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _safe(url: str) -> str:
    return url if len(url) <= 200 else url[:197] + "..."


def _reason(exc: Exception) -> str:
    """A short cause for a connection failure, without requests' nested reprs."""
    text = str(exc)
    for marker, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("nodename nor servname", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verification failed"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
    ):
        if marker in text:
            return reason
    return type(exc).__name__
