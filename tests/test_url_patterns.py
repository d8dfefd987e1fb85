"""Every URL the fragments accept parses (issue 16): urlsplit, ipaddress for a bracketed host, port 0-65535.

Schemathesis crashed on ``http://[2E]/x`` and ``http://[::1]:99999/x``, which the
fragments used to accept: a URL pattern must not accept what a URL parser refuses.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twilio_webhook_contracts.spec import default_spec

SCHEMAS = default_spec().documents["conversations"]["components"]["schemas"]
NAMES = ("WebhookUrlParam", "WebhookUrl", "ResourceUrl")
PATTERNS = {name: re.compile(SCHEMAS[name]["pattern"]) for name in NAMES}


def assert_parses(url: str) -> None:
    if url == "":  # WebhookUrlParam: the empty string clears
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname, url
    port = parts.port  # raises ValueError when out of range or not a number
    assert port is None or 0 <= port <= 65535
    netloc_host = parts.netloc.rpartition("@")[2]
    if netloc_host.startswith("["):
        assert isinstance(ipaddress.ip_address(netloc_host[1:netloc_host.index("]")]), ipaddress.IPv6Address), url


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_url_the_pattern_generates_parses(name, data):
    assert_parses(data.draw(st.from_regex(PATTERNS[name], fullmatch=True)))


_URLISH = st.text(alphabet="htps:/[]0123456789abcdefABCDEF.:@%?#x-_~!$&'()*+,;= \uff03\u2100é", max_size=40)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=1500, deadline=None)
@given(tail=_URLISH, scheme=st.sampled_from(["http://", "https://"]), host=st.sampled_from(
    ["", "[", "[::1]", "[2E]", "[::1", "a", "[v1.x]", "[::ffff:1.2.3.4]", "[fe80::1%25eth0]", "1.2.3.4"]))
def test_every_url_the_pattern_accepts_parses(name, tail, scheme, host):
    """Adversarial URL-like strings (not drawn from the pattern): whatever matches must parse."""
    url = scheme + host + tail
    if PATTERNS[name].match(url):
        assert_parses(url)


@pytest.mark.parametrize("url", [
    "http://[2E]/x", "http://[::1]:99999/x", "http://[::1]:65536/", "https://[oops/", "http://[1.2.3.4]/",
    "http://ex\uff03ample.com/", "http://a b/", "http://[::1]x/", "http://h:8x/",
])
@pytest.mark.parametrize("name", NAMES)
def test_urls_a_parser_refuses_are_not_accepted(name, url):
    assert not PATTERNS[name].match(url)


@pytest.mark.parametrize("url", [
    "https://example.com/hook", "http://127.0.0.1:8080/x?y=1#z", "http://[::1]:0/", "http://[2001:db8::1]/",
    "http://[::ffff:192.0.2.1]:65535/", "https://user:pa%20ss@example.com/", "http://h:/p", "http://xn--bcher-kva.example/",
])
@pytest.mark.parametrize("name", NAMES)
def test_ordinary_urls_stay_accepted(name, url):
    assert PATTERNS[name].match(url), url
