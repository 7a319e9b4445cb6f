"""Origin allow-list, CORS headers, JSON content type and trusted hosts."""

from __future__ import annotations

import pytest

from glossify.access.origins import (
    OriginPolicy,
    is_json_content_type,
    is_state_changing,
    normalise_origin,
)

APP = "https://app.example.com"


@pytest.mark.parametrize(
    ("origin", "normalised"),
    [
        ("https://App.Example.com", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://app.example.com/", "https://app.example.com"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", "null"),
    ],
)
def test_normalise_origin(origin: str, normalised: str) -> None:
    assert normalise_origin(origin) == normalised


@pytest.mark.parametrize(
    "bad",
    [
        "app.example.com",
        "https://app.example.com/path",
        "https://app.example.com?x=1",
        "https://user@app.example.com",
        "https://app.example.com:99999",
        "https://",
        "*",
        "https://*.example.com",
    ],
)
def test_not_origins(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_origin(bad)


def test_no_origin_is_a_non_browser_caller_and_allowed() -> None:
    assert OriginPolicy([]).allows(None)


def test_listed_origins_only() -> None:
    policy = OriginPolicy([APP, "http://localhost:3000"])
    assert policy.allows("https://app.example.com")
    assert policy.allows("https://app.example.com:443")
    assert policy.allows("http://localhost:3000")
    assert not policy.allows("http://app.example.com")  # other scheme
    assert not policy.allows("https://app.example.com:8443")  # other port
    assert not policy.allows("https://evil.example.com")
    assert not policy.allows("https://app.example.com.evil.net")
    assert not policy.allows("http://localhost:3001")
    assert not policy.allows("garbage")
    assert not policy.allows("")


def test_null_origin_refused_unless_listed() -> None:
    assert not OriginPolicy([APP]).allows("null")
    assert OriginPolicy(["null"]).allows("null")


def test_empty_list_means_same_origin_only() -> None:
    policy = OriginPolicy([])
    assert policy.allows("http://127.0.0.1:8000", host="127.0.0.1:8000")
    assert policy.allows("https://glossify.example.com", host="glossify.example.com")
    assert policy.allows("https://glossify.example.com", host="glossify.example.com:443")
    assert policy.allows("http://[::1]:8000", host="[::1]:8000")
    assert not policy.allows("http://127.0.0.1:8000", host="127.0.0.1:8001")
    assert not policy.allows("http://127.0.0.1:8000")  # no Host given
    assert not policy.allows("https://evil.example", host="glossify.example.com")
    assert not policy.allows("http://glossify.example.com", host="glossify.example.com:443")


def test_wildcard_origin_is_refused() -> None:
    with pytest.raises(ValueError, match="explicitly"):
        OriginPolicy(["*"])


def test_cors_headers_echo_only_allowed_origins() -> None:
    policy = OriginPolicy([APP])
    assert policy.cors_headers(APP) == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Expose-Headers": "Retry-After",
    }
    assert policy.cors_headers("https://evil.example") == {"Vary": "Origin"}
    assert policy.cors_headers(None) == {"Vary": "Origin"}


def test_no_credentials_unless_asked() -> None:
    assert "Access-Control-Allow-Credentials" not in OriginPolicy([APP]).cors_headers(APP)
    with_cookies = OriginPolicy([APP], allow_credentials=True)
    assert with_cookies.cors_headers(APP)["Access-Control-Allow-Credentials"] == "true"


def test_preflight() -> None:
    policy = OriginPolicy([APP], max_age_s=120)
    headers = policy.preflight_headers(APP)
    assert headers == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Expose-Headers": "Retry-After",
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "120",
    }
    assert policy.preflight_headers("https://evil.example") is None
    assert policy.preflight_headers(None) is None


@pytest.mark.parametrize(
    ("patterns", "host", "allowed"),
    [
        (["*"], None, True),
        (["*"], "anything:1234", True),
        (["glossify.example.com"], "glossify.example.com", True),
        (["glossify.example.com"], "GLOSSIFY.example.com:8443", True),
        (["glossify.example.com"], "evil.example.com", False),
        (["glossify.example.com"], None, False),
        (["glossify.example.com"], "", False),
        (["glossify.example.com"], "glossify.example.com/x", False),
        (["glossify.example.com"], "a@glossify.example.com", False),
        (["*.example.com"], "a.example.com", True),
        (["*.example.com"], "a.b.example.com:80", True),
        (["*.example.com"], "example.com", False),
        (["*.example.com"], "badexample.com", False),
        (["localhost", "127.0.0.1", "[::1]"], "127.0.0.1:8000", True),
        (["localhost", "127.0.0.1", "[::1]"], "[::1]:8000", True),
        (["localhost", "127.0.0.1", "[::1]"], "rebind.evil.example:8000", False),
    ],
)
def test_trusted_hosts(patterns: list[str], host: str | None, allowed: bool) -> None:
    assert OriginPolicy([], patterns).host_allowed(host) is allowed


@pytest.mark.parametrize(
    "pattern", ["http://example.com", "example.com:8000", "a.*.com", "", "::1"]
)
def test_bad_host_patterns(pattern: str) -> None:
    with pytest.raises(ValueError):
        OriginPolicy([], [pattern])


def test_dns_rebinding_is_stopped_by_trusted_hosts() -> None:
    # evil.example resolved to 127.0.0.1: same-origin by its own Host header...
    origin, host = "http://evil.example:8000", "evil.example:8000"
    policy = OriginPolicy([], ["localhost", "127.0.0.1"])
    assert policy.allows(origin, host=host)
    # ...but the Host is not one this server answers to.
    assert not policy.host_allowed(host)


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/json;charset=UTF-8", True),
        (None, False),
        ("", False),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/jsonx", False),
        ("text/json", False),
    ],
)
def test_json_content_type(content_type: str | None, ok: bool) -> None:
    assert is_json_content_type(content_type) is ok


def test_state_changing_methods() -> None:
    assert is_state_changing("POST") and is_state_changing("delete")
    assert not is_state_changing("GET") and not is_state_changing("OPTIONS")
    assert not is_state_changing("HEAD")
