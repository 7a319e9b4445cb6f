"""What access control costs the ingress, in microseconds per check.

Run from the repository root::

    .venv/bin/python -m bench.token_check                 # 20000 checks x 7 repeats
    .venv/bin/python -m bench.token_check --iterations 2000 --repeats 3

Each row times one whole check as the ingress will make it, in one process, on one core:

- **REST**: ``bearer_credential`` (the ``Authorization`` header) + ``authenticate`` +
  ``authorize``, for a service key (1 and 3 keys configured: every key is compared) and for a
  meeting token (1 and 3 signing secrets: the token is signed by the oldest, found by ``kid``);
- **socket open**: ``websocket_credential`` (``?access_token=`` and the subprotocol header),
  trusted host, origin, ``authenticate``, ``authorize``, and a socket slot taken for the meeting
  and for the client address (then given back);
- **rate limit**: one ``RateLimiter.take`` on a warm key.

The figure is the median over the repeats of (elapsed ``time.perf_counter_ns`` / checks).
Only the standard library and glossify are imported.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from glossify.access.limits import RateLimiter, Slots
from glossify.access.origins import OriginPolicy
from glossify.access.principal import (
    authenticate,
    authorize,
    bearer_credential,
    websocket_credential,
)
from glossify.access.scopes import Action
from glossify.access.tokens import TokenSigner
from glossify.config.access import AccessSecrets, load_access_secrets

MEETING = "bench-meeting"
ORIGIN = "https://app.example.com"
HOST = "glossify.example.com"
KEYS = [f"bench-service-key-{n}-0123456789abcdef" for n in range(3)]
SECRETS = [f"bench-signing-secret-{n}-0123456789abcdef" for n in range(3)]


def _time_per_call_us(check: Callable[[], object], iterations: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            check()
        samples.append((time.perf_counter_ns() - start) / iterations / 1000)
    return statistics.median(samples)


def _configured(key_count: int, secret_count: int) -> tuple[AccessSecrets, TokenSigner]:
    """Keys and signer as the ingress gets them: from the environment variables."""
    secrets = load_access_secrets(
        {
            "GLOSSIFY_API_KEYS": ",".join(KEYS[:key_count]),
            "GLOSSIFY_AUTH_SECRET": ",".join(SECRETS[:secret_count]),
        }
    )
    signer = secrets.signer(max_ttl_s=24 * 3600)
    assert signer is not None
    return secrets, signer


def _rest_check(credential: str, key_count: int, secret_count: int) -> Callable[[], object]:
    secrets, signer = _configured(key_count, secret_count)
    keys = secrets.service_keys
    header = f"Bearer {credential}"

    def check() -> object:
        principal = authenticate(bearer_credential(header), keys, signer)
        authorize(principal, Action.SPEAK, MEETING)
        return principal

    return check


def _socket_check(token: str, secret_count: int) -> Callable[[], object]:
    secrets, signer = _configured(1, secret_count)
    keys = secrets.service_keys
    policy = OriginPolicy([ORIGIN], [HOST])
    per_meeting, per_address = Slots(200), Slots(50)
    protocols = "glossify.v1"

    def check() -> object:
        if not (policy.host_allowed(HOST) and policy.allows(ORIGIN, host=HOST)):
            raise RuntimeError("bench setup: origin refused")
        found = websocket_credential(token, protocols)
        principal = authenticate(found.credential, keys, signer)
        authorize(principal, Action.READ, MEETING)
        if not (per_meeting.acquire(MEETING) and per_address.acquire("203.0.113.7")):
            raise RuntimeError("bench setup: slots full")
        per_meeting.release(MEETING)
        per_address.release("203.0.113.7")
        return principal

    return check


def _rate_check() -> Callable[[], object]:
    # A rate high enough that the warm key is never refused: the allowed path is timed.
    limiter = RateLimiter(rate_per_s=1e12, burst=1e6)
    return lambda: limiter.take(MEETING, time.monotonic())


def _token(secret_count: int, role: str) -> str:
    """A token signed by the oldest of ``secret_count`` secrets: what a rotation leaves in
    flight (the verifier finds its secret by ``kid`` either way)."""
    oldest = SECRETS[secret_count - 1]
    signer = load_access_secrets({"GLOSSIFY_AUTH_SECRET": oldest}).signer(3600)
    assert signer is not None
    return signer.mint(MEETING, role, "bench", 3600).token


def rows(iterations: int, repeats: int) -> list[tuple[str, str, float]]:
    """(check, configured credentials, µs per check) for every measured case."""
    cases: list[tuple[str, str, Callable[[], object]]] = []
    for count in (1, 3):
        cases.append(
            (
                "REST, service key",
                f"{count} key{'s' if count > 1 else ''}",
                _rest_check(KEYS[count - 1], count, 1),
            )
        )
    for count in (1, 3):
        token = _token(count, "speaker")
        cases.append(
            (
                "REST, meeting token",
                f"{count} secret{'s' if count > 1 else ''}",
                _rest_check(token, 1, count),
            )
        )
    for count in (1, 3):
        token = _token(count, "listener")
        cases.append(
            (
                "socket open, meeting token",
                f"{count} secret{'s' if count > 1 else ''}",
                _socket_check(token, count),
            )
        )
    cases.append(("rate limit take", "1 key warm", _rate_check()))
    return [
        (name, configured, _time_per_call_us(check, iterations, repeats))
        for name, configured, check in cases
    ]


def markdown_table(measured: Sequence[tuple[str, str, float]]) -> str:
    lines = ["| check | configured | µs per check |", "|---|---|---:|"]
    lines += [f"| {name} | {configured} | {us:.1f} |" for name, configured, us in measured]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=20_000, help="checks per repeat")
    parser.add_argument("--repeats", type=int, default=7, help="repeats; the median is shown")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.repeats < 1:
        parser.error("--iterations and --repeats must be at least 1")
    table = markdown_table(rows(args.iterations, args.repeats))
    print(table)
    return table


if __name__ == "__main__":
    main()
