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

import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, Callable, ContextManager, Iterator, Literal, Mapping
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from .credentials import Credentials, excerpt as _redacted_excerpt
from .request import Request
from .spec import Spec, default_spec
from .transport import NoAnswer, NotHTTP, PlainTransport, RequestsTransport, Transport, Unreachable
from .wire import DEFAULT_MAX_RESPONSE_BYTES, retry_after_seconds

__all__ = [
    "Auth",
    "BudgetExhausted",
    "BudgetSpent",
    "Credentials",
    "Limits",
    "Response",
    "Target",
    "TargetError",
    "TargetFailing",
    "TargetTimeout",
    "TargetUnreachable",
]

#: Which credentials a request goes out with.
Auth = Literal["valid", "none", "wrong"]

#: What the authentication checks send instead of the secret.
WRONG_SECRET = "wrong-" + "0" * 26

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


class BudgetSpent(BudgetExhausted):
    """The run's own ceiling -- ``--max-requests`` or ``--time-budget`` -- was reached.

    Distinct from the other refusals (circuit breaker, a stop by another worker):
    the run ends with the verdict it has, and every check it had not finished is
    reported "not finished (budget)".
    """


class TargetFailing(BudgetExhausted):
    """The circuit breaker: the target answered 5xx to too many requests in a row.

    It ends the run as a spent budget does -- no further budgeted request is
    sent -- so that a failing production API is not hammered for the rest of the
    budget. Unbudgeted requests (a live run's restore) still go out.
    """


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
    #: What was wrong with the answer as an HTTP message, when something was: not valid HTTP (then
    #: ``status`` is 0), a body cut at the response cap, a Content-Encoding that does not decode.
    #: The target's fault, reported by the ``response_well_formed`` check; None when nothing was.
    problem: str | None = None

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
            except RecursionError:  # nested deeper than the parser goes: not JSON we can judge
                cached = None
                object.__setattr__(self, "_json_too_deep", True)
            object.__setattr__(self, "_json", cached)
        return cached

    @property
    def json_too_deep(self) -> bool:
        """True when the body is JSON nested deeper than Python's parser can follow."""
        self.json()
        return bool(self.__dict__.get("_json_too_deep"))

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def excerpt(self, limit: int = 300) -> str:
        """The body as text, secrets redacted *before* it is cut (a secret straddling the cut
        would otherwise survive in part), at most *limit* characters."""
        return _redacted_excerpt(self.body.decode("utf-8", "replace"), limit)


_UNSET = object()


@dataclass
class Limits:
    """Politeness shared by every worker of one run (thread-safe).

    ``max_requests`` and ``time_budget`` bound the whole run; ``rate_limit`` is in
    requests per second across all workers. ``max_server_errors`` is the circuit
    breaker: after that many answers in a row with a 5xx status (each counted
    once, after its 429/503 retries), budgeted requests are refused with
    :class:`TargetFailing`; None never trips.
    """

    max_requests: int | None = None
    rate_limit: float | None = None
    time_budget: float | None = None
    max_server_errors: int | None = None
    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    #: 5xx answers in a row (budgeted requests only), and the last such status
    server_errors_in_a_row: int = 0
    last_server_error: int | None = None
    #: set by :meth:`stop`: why every further budgeted request is refused
    stopped: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_slot: float = 0.0
    #: set by :meth:`stop`: wakes every :meth:`pause` at once (a worker must not sleep out a long wait)
    _woken: threading.Event = field(default_factory=threading.Event, repr=False)

    def acquire(self, sleep: Callable[[float], None] = time.sleep, budgeted: bool = True,
                rate_limited: bool = True) -> None:
        """Take one request slot, waiting for the rate limit; raise when spent.

        Unbudgeted requests (restoring a live account) still keep to the rate
        limit but are never refused: clean-up must not fail for want of budget.
        ``rate_limited=False``: the caller has already waited for its slot
        (:meth:`reserve`), so this only checks and counts.
        """
        with self._lock:
            refusal = self._refusal() if budgeted else None
            if refusal is not None:
                raise refusal
            self.sent += 1
        if rate_limited:
            wait = self.reserve()
            if wait > 0:
                sleep(wait)

    def reserve(self) -> float:
        """Book the next rate-limit slot; the seconds to wait for it (0 without a rate limit).

        The wait is the caller's to do *outside* any section that holds signals:
        at ``--rate-limit 0.001`` it is 1000 s, and Ctrl-C must end it at once.
        """
        if not self.rate_limit:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.rate_limit
            return slot - now

    def pause(self, seconds: float, wake_on_stop: bool = True) -> None:
        """Sleep up to *seconds*; returns early once the run is stopped (:meth:`stop`).

        An ``Event`` wait, not ``time.sleep``: in the main thread a signal still
        interrupts it at once (its handler raises), and in a worker thread, where
        signals never land, the run's stop wakes it.
        """
        if seconds <= 0:
            return
        if not wake_on_stop:  # an unbudgeted request (a live restore) keeps to the rate limit after the stop
            time.sleep(min(seconds, threading.TIMEOUT_MAX))
        elif not self._woken.is_set():
            self._woken.wait(min(seconds, threading.TIMEOUT_MAX))

    def refusal(self) -> BudgetExhausted | None:
        """Why a budgeted request would be refused now; None while the run may go on.

        The runner asks after each Hypothesis test: Hypothesis may report a test
        that ran into the budget as merely flaky (its replay stops earlier), and
        the run must still end, saying why.
        """
        with self._lock:
            return self._refusal()

    def stop(self, reason: str) -> None:
        """Refuse every further budgeted request (the run is ending: another worker
        lost the target, or the run was interrupted); requests in flight finish."""
        with self._lock:
            if self.stopped is None:
                self.stopped = reason
        self._woken.set()

    def _refusal(self) -> BudgetExhausted | None:
        if self.stopped is not None:
            return BudgetExhausted(self.stopped)
        if self.tripped:
            return TargetFailing(
                f"the target answered {self.server_errors_in_a_row} requests in a row with a server error "
                f"(last {self.last_server_error}); the run stopped instead of hammering a failing server")
        if self.max_requests is not None and self.sent >= self.max_requests:
            return BudgetSpent(f"request budget of {self.max_requests} requests is spent")
        if self.time_budget is not None and time.monotonic() - self.started > self.time_budget:
            return BudgetSpent(f"time budget of {self.time_budget:g} s is spent")
        return None

    @staticmethod
    def default_budget(max_examples: int) -> tuple[int, float]:
        """The ceilings of a run that names none: ``(max_requests, time_budget)``.

        Every run has a ceiling, so none runs away (a broken server, a slow one,
        a rate limit). They scale with ``--max-examples`` and are far above what a
        default run needs: a default run (50 examples) sends about 1,500 requests in
        under 10 s against the embedded mock and about 20 s against a server 50 ms
        away, against ceilings of 10,000 requests and 600 s.
        """
        return max(10_000, 200 * max_examples), max(600.0, 12.0 * max_examples)

    def describe(self) -> str:
        """The ceilings as the first line of a run prints them."""
        requests = f"{self.max_requests} requests" if self.max_requests else "no request limit"
        seconds = f"{self.time_budget:g} s" if self.time_budget else "no time limit"
        rate = f", at most {self.rate_limit:g} requests/s" if self.rate_limit else ""
        return f"budget {requests}, {seconds}{rate}"

    @property
    def tripped(self) -> bool:
        """True once the circuit breaker has seen ``max_server_errors`` 5xx answers in a row."""
        return bool(self.max_server_errors) and self.server_errors_in_a_row >= self.max_server_errors  # type: ignore[operator]

    def answered(self, status: int) -> None:
        """Count a final answer for the circuit breaker (5xx in a row; anything else resets it)."""
        with self._lock:
            if status >= 500:
                self.server_errors_in_a_row += 1
                self.last_server_error = status
            elif not self.tripped:  # once tripped, the run is over: a late success does not re-arm it
                self.server_errors_in_a_row = 0

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
        sleep: Callable[[float], None] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ):
        self.conversations_url = _check_base_url(conversations_url, "--conversations-url")
        self.chat_url = _check_base_url(chat_url or conversations_url, "--chat-url")
        self.credentials = credentials
        self.timeout = timeout
        #: the cap on a response body, on the wire and decompressed (a bigger one is cut, and reported)
        self.max_response_bytes = max_response_bytes
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.limits = limits or Limits()
        self.spec = spec or default_spec()
        #: objects told about traffic: ``before_send(request)`` and/or ``after_response(response)``
        self.observers: list[Any] = []
        #: entered around counting and writing each request: a live run's signal guard holds
        #: SIGINT/SIGTERM there (this thread's target only; clones run where signals never land)
        self.hold: Callable[[], ContextManager[Any]] = nullcontext
        self.timed_out: dict[str, str] = {}  # operation_id -> message; shared by clones
        #: why the target was found unreachable during the run, if it was (shared by clones)
        self.unreachable: list[str] = []
        self.retries = 0
        self.retry_wait = 0.0
        #: requests this target (not its clones) sent, retries included: one worker's share
        self.sent = 0
        #: every wait (rate limit, Retry-After) goes through this: by default the limits' pause,
        #: which a signal interrupts and the run's stop wakes
        self._sleep = sleep if sleep is not None else self.limits.pause
        self._sleep_given = sleep
        # built once and kept off the stack, so a traceback's locals never show the secret
        self._auth: dict[str, Any] = {
            "valid": requests.auth.HTTPBasicAuth(credentials.username, credentials.secret),
            "wrong": requests.auth.HTTPBasicAuth(credentials.username, WRONG_SECRET),
            "none": None,
        }
        session = requests.Session()
        # only the codings wire.read_body decodes (with its caps) are offered, whatever is installed
        session.headers.update({"User-Agent": _USER_AGENT, "Accept-Encoding": "gzip, deflate"})
        self._requests = RequestsTransport(session)
        self._plain = PlainTransport(session)  # the same session: its headers and cookies, on a faster path
        self._lock = threading.Lock()

    def clone(self) -> "Target":
        """A target for another worker thread: own connection pool, shared limits."""
        twin = Target(
            self.conversations_url, self.chat_url, credentials=self.credentials, timeout=self.timeout,
            max_retries=self.max_retries, max_retry_wait=self.max_retry_wait, limits=self.limits,
            spec=self.spec, sleep=self._sleep_given, max_response_bytes=self.max_response_bytes,
        )
        twin.observers = self.observers
        twin.timed_out = self.timed_out
        twin.unreachable = self.unreachable
        return twin

    def base_url(self, operation_id: str) -> str:
        api = self.spec.operation(operation_id).api
        return self.chat_url if api == "chat" else self.conversations_url

    def url(self, request: Request) -> str:
        return request.url(self.base_url(request.operation_id))

    def curl(self, request: Request, auth: Auth = "valid") -> str:
        """A reproduction line for *request*, with the secret as a shell variable.

        For an exchange sent without credentials or with a wrong secret, the line
        does the same, so it reproduces what the server was actually sent.
        """
        line = request.curl(
            self.base_url(request.operation_id),
            username=self.credentials.username_for_curl,
            secret_variable=self.credentials.secret_variable,
        )
        if auth == "none":
            return line[: line.rindex(" -u ")]
        if auth == "wrong":
            return line[: line.rindex(" -u ")] + f' -u "{self.credentials.username_for_curl}:{WRONG_SECRET}"'
        return line

    def is_dead(self, operation_id: str) -> bool:
        """True once a request of this operation went unanswered: don't hammer it."""
        return operation_id in self.timed_out

    def send(self, request: Request, *, auth: Auth = "valid", retry: bool = True, budgeted: bool = True) -> Response:
        """Send *request*; retry 429/503 as the server asks; raise on no answer.

        Raises :class:`TargetTimeout` (and remembers the operation),
        :class:`TargetUnreachable` or :class:`BudgetExhausted`.
        """
        url = self.url(request)
        for observer in self.observers:
            if hasattr(observer, "before_send"):
                observer.before_send(request)
        attempts = 0
        retried: list[Response] = []
        while True:
            attempts += 1
            response = self._send_once(request, url, auth, attempts, budgeted)
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
        if budgeted:
            self.limits.answered(response.status)
        for observer in self.observers:
            if hasattr(observer, "after_response"):
                observer.after_response(response)
        return response

    @contextmanager
    def _sending(self, budgeted: bool) -> Iterator[None]:
        """Around writing one request: its slot is taken (counted, rate-limited) and, with
        :attr:`hold`, no interruption lands between counting the request and writing it --
        so a run's request count is what the server received."""
        if budgeted:  # refused before waiting for a slot it would not get
            refusal = self.limits.refusal()
            if refusal is not None:
                raise refusal
        wait = self.limits.reserve()
        if wait > 0:  # outside the hold: Ctrl-C and SIGTERM end the wait at once
            if self._sleep_given is not None:
                self._sleep_given(wait)
            else:
                self.limits.pause(wait, wake_on_stop=budgeted)
        with self.hold():
            self.limits.acquire(self._sleep, budgeted, rate_limited=False)
            self.sent += 1
            yield

    def _send_once(self, request: Request, url: str, auth: Auth, attempts: int, budgeted: bool = True) -> Response:
        transport: Transport = self._plain if self._plain.usable(url) is not None else self._requests
        started = time.perf_counter()
        try:
            status, headers, body = transport.send(request.method, url, request.headers, request.body or None,
                                                   self._auth[auth], self.timeout,
                                                   sending=lambda: self._sending(budgeted), cap=self.max_response_bytes)
        except NoAnswer:
            raise self._timeout(request, url) from None
        except NotHTTP as exc:
            return self._malformed(request, url, exc.cause, started, auth, attempts)
        except Unreachable as exc:
            raise self._unreachable(f"cannot reach {_origin(url)}: {exc}") from None
        return Response(request=request, url=url, status=status, headers=headers, body=body.data,
                        elapsed=time.perf_counter() - started, auth=auth, attempts=attempts, problem=body.problem)

    def _timeout(self, request: Request, url: str) -> "TargetTimeout":
        message = f"{request.method} {_safe(url)} got no answer within {self.timeout:g} s"
        self.timed_out.setdefault(request.operation_id, message)
        return TargetTimeout(message, request, url, self.timeout)

    def _malformed(self, request: Request, url: str, exc: BaseException, started: float, auth: Auth,
                   attempts: int) -> "Response":
        """The target answered, but not in HTTP: a violation of the target (status 0), not "cannot reach"."""
        detail = _redacted_excerpt(str(exc), 120)
        return Response(
            request=request, url=url, status=0, headers=CaseInsensitiveDict(), body=b"",
            elapsed=time.perf_counter() - started, auth=auth, attempts=attempts,
            problem=f"the answer is not valid HTTP ({type(exc).__name__}: {detail})",
        )

    def _unreachable(self, message: str) -> TargetUnreachable:
        if not self.unreachable:
            self.unreachable.append(message)
        return TargetUnreachable(message)

    def _retry_delay(self, response: Response, attempts: int) -> float:
        """The wait before retrying *response*: its ``Retry-After`` when readable (never raises on
        one that is not: the default backoff then), capped by ``max_retry_wait``."""
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None:
            delay = min(0.25 * 2 ** (attempts - 1), 4.0)
        return min(delay, self.max_retry_wait)

    def close(self) -> None:
        self._plain.close()
        self._requests.close()

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
