"""Which web pages may call Glossify from a browser, and which Host names it answers to.

``OriginPolicy(allowed, trusted_hosts)`` holds the ``access.allowed_origins`` allow-list and the
``access.trusted_hosts`` patterns:

- ``allows(origin, host=...)`` is checked on the WebSocket handshake and on every
  state-changing request (``is_state_changing``). A request without ``Origin`` comes from a
  non-browser caller and is allowed (it still needs a credential); ``null`` (sandboxed frames,
  ``file:`` pages) is refused unless listed; otherwise the origin must equal a listed one
  (``scheme://host[:port]``, compared lower-case with default ports dropped) or be the
  server's own origin (its host and port equal the ``Host`` header passed as ``host``: an empty
  list means same-origin only).
- ``preflight_headers`` and ``cors_headers`` answer CORS: the request's origin is echoed only
  when allowed, with ``Vary: Origin``; credentials (cookies) are not allowed unless asked for,
  since callers authenticate with ``Authorization`` headers.
- ``host_allowed(host_header)``: ``*`` allows any host, ``*.example.com`` its subdomains, other
  patterns exactly that host (ports ignored). Together with the same-origin rule it stops DNS
  rebinding: a page at ``http://evil.example:8000`` resolved to this server sends
  ``Host: evil.example:8000``, which only ``*`` lets through.

``is_json_content_type`` backs the 415 for JSON bodies sent as anything but
``application/json``: the content types a cross-site form may send without a preflight
(``text/plain``, form encodings) are never accepted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Retry-After"
NULL_ORIGIN = "null"

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
# DNS names (punycode for international ones), IPv4 addresses, bracketed IPv6 addresses.
_HOST_NAME = re.compile(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]")


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int | None  # None: no port and the scheme has no default

    @property
    def text(self) -> str:
        default = DEFAULT_PORTS.get(self.scheme)
        port = "" if self.port is None or self.port == default else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def normalise_origin(origin: str) -> str:
    """``origin`` as ``scheme://host[:port]``, lower-case, default port dropped; ``null`` as is.

    Raises ``ValueError`` for anything that is not an origin (a path, query, user name, ...).
    """
    return NULL_ORIGIN if origin.strip() == NULL_ORIGIN else _parse_origin(origin).text


def _parse_origin(origin: str) -> _Origin:
    text = origin.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    # urlsplit drops the IPv6 brackets; the origin keeps them.
    if ":" in host:
        host = f"[{host}]"
    if (
        not _SCHEME.fullmatch(scheme)
        or not _HOST_NAME.fullmatch(host)
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or text.endswith("?")
        or text.endswith("#")
    ):
        raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"not an origin (bad port): {origin!r}") from None
    return _Origin(scheme, host, port if port is not None else DEFAULT_PORTS.get(scheme))


def _split_host_header(host_header: str) -> tuple[str, int | None] | None:
    """``Host`` as (lower-case host, port or None); None when it is not a host."""
    try:
        parsed = _parse_origin(f"http://{host_header.strip()}")
    except ValueError:
        return None
    explicit_port = host_header.strip().rsplit("]", 1)[-1].rpartition(":")[2]
    return parsed.host, parsed.port if explicit_port.isdigit() else None


def is_state_changing(method: str) -> bool:
    return method.upper() in STATE_CHANGING_METHODS


def is_json_content_type(content_type: str | None) -> bool:
    """True for ``application/json``, with or without parameters such as ``charset``."""
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


class OriginPolicy:
    """The origin allow-list and the trusted-host patterns (see the module docstring)."""

    def __init__(
        self,
        allowed: Sequence[str] = (),
        trusted_hosts: Sequence[str] = ("*",),
        *,
        allow_credentials: bool = False,
        max_age_s: int = 600,
    ) -> None:
        """Raises ``ValueError`` for an entry that is not an origin or a host pattern."""
        if "*" in allowed:
            raise ValueError("allowed origins must be listed explicitly, not '*'")
        self._allowed = frozenset(normalise_origin(origin) for origin in allowed)
        self._any_host = "*" in trusted_hosts
        self._exact_hosts: set[str] = set()
        self._host_suffixes: list[str] = []
        for pattern in trusted_hosts:
            if pattern == "*":
                continue
            host = _host_pattern(pattern)
            if host.startswith("*."):
                self._host_suffixes.append(host[1:])
            else:
                self._exact_hosts.add(host)
        self.allow_credentials = allow_credentials
        self.max_age_s = max_age_s

    def __repr__(self) -> str:
        return f"OriginPolicy(allowed={sorted(self._allowed)}, any_host={self._any_host})"

    @property
    def allowed(self) -> frozenset[str]:
        return self._allowed

    def allows(self, origin: str | None, *, host: str | None = None) -> bool:
        """Whether a request with this ``Origin`` may go on; ``host`` is the ``Host`` header,
        for the same-origin rule (None: only listed origins pass)."""
        if origin is None:
            return True
        if origin.strip() == NULL_ORIGIN:
            return NULL_ORIGIN in self._allowed
        try:
            parsed = _parse_origin(origin)
        except ValueError:
            return False
        return parsed.text in self._allowed or _same_origin(parsed, host)

    def cors_headers(self, origin: str | None, *, host: str | None = None) -> dict[str, str]:
        """Headers for an actual (non-preflight) response to a request with this ``Origin``."""
        headers = {"Vary": "Origin"}
        if origin is not None and self.allows(origin, host=host):
            headers["Access-Control-Allow-Origin"] = origin.strip()
            headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            if self.allow_credentials:
                headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight_headers(
        self, origin: str | None, *, host: str | None = None
    ) -> dict[str, str] | None:
        """Headers answering an ``OPTIONS`` preflight, or None when the origin is refused
        (answer the preflight without CORS headers, or 403: the browser stops either way)."""
        if origin is None or not self.allows(origin, host=host):
            return None
        headers = self.cors_headers(origin, host=host)
        headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = str(self.max_age_s)
        return headers

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request's ``Host`` header names a host this server answers to."""
        if self._any_host:
            return True
        if not host_header:
            return False
        split = _split_host_header(host_header)
        if split is None:
            return False
        host = split[0]
        return host in self._exact_hosts or any(
            host.endswith(suffix) for suffix in self._host_suffixes
        )


def _same_origin(origin: _Origin, host_header: str | None) -> bool:
    if not host_header:
        return False
    split = _split_host_header(host_header)
    if split is None:
        return False
    host, port = split
    if host != origin.host:
        return False
    # Host carries no port when it is the default one of the scheme the page was loaded over.
    return origin.port == (port if port is not None else DEFAULT_PORTS.get(origin.scheme))


def _host_pattern(pattern: str) -> str:
    host = pattern.strip().lower()
    bare = host.removeprefix("*.")
    if not _HOST_NAME.fullmatch(bare) or (host.startswith("*.") and bare.startswith("[")):
        raise ValueError(
            f"not a host name, [IPv6] address or *.domain pattern (no scheme, no port): {pattern!r}"
        )
    return host
