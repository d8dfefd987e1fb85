"""The reference mock: a stateful, Twilio-faithful stand-in for the webhook-configuration APIs.

Prism (what Twilio publishes) answers from examples and forgets; this mock keeps
state per account, service and channel, and enforces the bundled fragments on
every request, so it is both the default target of ``webhook-contracts run`` and
the known-good baseline that mock-server verification compares against.

* :class:`MockApp` -- the WSGI application (behaviour; subclass it for variants),
* :class:`MockServer` -- a threaded HTTP/1.1 server for it,
* :func:`serve_mock` -- both, in a background thread, as a context manager,
* :class:`MockState`, :class:`Credentials`, :class:`Faults`, :class:`RequestLog`,
* :class:`Policies` (the mock's choice at each open point) and :class:`Resources`.

Importing this package loads the fragments and validators; the CLI and the
pytest plugin import it only when a mock is actually wanted.
"""

from .app import MAX_BODY_BYTES, Call, MockApp, MockRequest, MockResponse, Reply
from .auth import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_API_KEY_SECRET,
    DEFAULT_API_KEY_SID,
    DEFAULT_AUTH_TOKEN,
    Credentials,
)
from .errors import MockError
from .faults import Faults
from .log import LoggedRequest, RequestLog
from .policies import CATALOGUE, SUITE_EMBEDDED_POLICIES, Policies, Policy, PolicyError, Resources
from .server import EmbeddedMock, MockServer, serve_mock
from .state import INITIAL_ACCOUNT_CONFIG, INITIAL_SERVICE_CONFIG, MockState

__all__ = [
    "CATALOGUE",
    "Policies",
    "Policy",
    "PolicyError",
    "Resources",
    "SUITE_EMBEDDED_POLICIES",
    "Call",
    "Credentials",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_API_KEY_SECRET",
    "DEFAULT_API_KEY_SID",
    "DEFAULT_AUTH_TOKEN",
    "EmbeddedMock",
    "Faults",
    "INITIAL_ACCOUNT_CONFIG",
    "INITIAL_SERVICE_CONFIG",
    "LoggedRequest",
    "MAX_BODY_BYTES",
    "MockApp",
    "MockError",
    "MockRequest",
    "MockResponse",
    "MockServer",
    "MockState",
    "Reply",
    "RequestLog",
    "serve_mock",
]
