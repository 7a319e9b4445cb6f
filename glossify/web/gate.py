"""The ingress's access gate: who is asking (service key or meeting token), how fast, and how
many sockets they hold. One per ingress replica; tokens verify in any replica without shared
state, and the counters here are per replica (a deployment with N ingress replicas admits up to
N times a per-address or per-meeting socket limit; the meeting host enforces the per-meeting
line rate and sizes itself, whoever sends)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from glossify.access.keys import ServiceKeys
from glossify.access.limits import QuotaExceeded, RateLimiter, Slots
from glossify.access.principal import (
    AUTH_OFF,
    KeyPrincipal,
    Principal,
    authenticate,
    bearer_credential,
)
from glossify.access.tokens import MintedToken, MintRequest, TokenSigner
from glossify.config.access import AccessConfig, AccessSecrets

log = logging.getLogger(__name__)


class AccessGate:
    def __init__(self, config: AccessConfig, secrets: AccessSecrets | None) -> None:
        self.config = config
        self.policy = config.origin_policy()
        self.enabled = config.mode == "on"
        self._keys = secrets.service_keys if secrets is not None else ServiceKeys()
        self._signer: TokenSigner | None = (
            secrets.signer(config.token_max_ttl_s) if secrets is not None else None
        )
        quotas = config.quotas
        self._key_requests = RateLimiter(quotas.key_requests_per_s, quotas.key_requests_burst)
        self._meeting_sockets = Slots(quotas.sockets_per_meeting)
        self._address_sockets = Slots(quotas.sockets_per_address)
        self._audio_senders = Slots(quotas.audio_senders_per_meeting)

    def principal(self, credential: str | None) -> Principal:
        """The caller a credential proves (401 otherwise); a service key's requests are
        rate-limited per key (429 with Retry-After)."""
        if not self.enabled:
            return AUTH_OFF
        principal = authenticate(credential, self._keys, self._signer)
        if isinstance(principal, KeyPrincipal):
            wait_s = self._key_requests.take(principal.key_id, time.monotonic())
            if wait_s is not None:
                raise QuotaExceeded(
                    "key_rate_limited", "too many requests with this service key", wait_s
                )
        return principal

    def request_principal(self, authorization: str | None) -> Principal:
        if not self.enabled:
            return AUTH_OFF
        return self.principal(bearer_credential(authorization))

    def mint(self, meeting_id: str, request: MintRequest) -> MintedToken:
        if self._signer is None:
            raise RuntimeError("no signing secret is configured")
        ttl_s = request.ttl_within(self.config.token_default_ttl_s, self.config.token_max_ttl_s)
        return self._signer.mint(meeting_id, request.role, request.subject, ttl_s)

    def hold_socket(self, meeting_id: str, address: str) -> Callable[[], None]:
        """Takes one of the meeting's sockets and one of the client address's; returns the
        function that gives both back when the socket closes."""
        if not self._meeting_sockets.acquire(meeting_id):
            raise QuotaExceeded(
                "too_many_sockets", "this meeting has as many connections as it allows"
            )
        if not self._address_sockets.acquire(address):
            self._meeting_sockets.release(meeting_id)
            raise QuotaExceeded(
                "too_many_sockets_from_address", "too many connections from this address"
            )

        def release() -> None:
            self._address_sockets.release(address)
            self._meeting_sockets.release(meeting_id)

        return release

    def take_audio_sender(self, meeting_id: str) -> None:
        """One more socket sending audio into the meeting (release with ``drop_audio_sender``)."""
        if not self._audio_senders.acquire(meeting_id):
            raise QuotaExceeded(
                "too_many_audio_senders",
                f"this meeting already has {self._audio_senders.limit} audio senders",
            )

    def drop_audio_sender(self, meeting_id: str) -> None:
        self._audio_senders.release(meeting_id)
