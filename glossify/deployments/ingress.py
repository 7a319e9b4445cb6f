"""GlossifyIngress: REST + WebSocket front door; every meeting call goes to its meeting host."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle
from starlette.applications import Starlette

from glossify.config.access import AccessSecrets
from glossify.config.settings import GlossifyConfig
from glossify.meetings.hosts import MeetingHosts
from glossify.protocol import PROTOCOL_VERSION
from glossify.transcription.types import SpeechRequest, SpeechResult
from glossify.web.gate import AccessGate
from glossify.web.routes import build_http_app
from glossify.web.websocket import AudioSupport

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 5.0


class ServeTranscriber:
    """The Transcriber deployment seen by audio streams."""

    def __init__(self, handle: DeploymentHandle[Any]) -> None:
        self._handle = handle

    async def final(self, request: SpeechRequest) -> SpeechResult:
        result: SpeechResult = await self._handle.transcribe_final.remote(request)
        return result

    async def partial(self, request: SpeechRequest, sent_at: float) -> SpeechResult:
        result: SpeechResult = await self._handle.transcribe_partial.remote((request, sent_at))
        return result


# One open WebSocket is one ongoing request, so the ingress must admit thousands.
@serve.deployment(max_ongoing_requests=10_000, ray_actor_options={"num_cpus": 0.1})
@serve.ingress()
class GlossifyIngress:
    def __init__(
        self,
        detector: DeploymentHandle[Any],
        explainer: DeploymentHandle[Any],
        transcriber: DeploymentHandle[Any] | None,
        config: dict[str, Any],
        access_secrets: AccessSecrets | None,
    ) -> None:
        """``access_secrets`` (service keys, signing secrets) come from the app builder's
        environment, so that replicas on other nodes need none of their own."""
        app_name = serve.get_replica_context().app_name
        self._config = GlossifyConfig.model_validate({**config, "app_name": app_name})
        self._gate = AccessGate(self._config.auth, access_secrets)
        warning = self._config.auth.startup_warning()
        if warning:
            log.warning(warning)
        self._backends = {"detector": detector, "explainer": explainer}
        self._hosts = MeetingHosts(self._config)
        self._audio: AudioSupport | None = None
        if transcriber is not None:
            from glossify.audio.vad import load_vad_model

            self._backends["transcriber"] = transcriber
            self._audio = AudioSupport(
                ServeTranscriber(transcriber), self._config.audio, vad=load_vad_model()
            )

    def __serve_build_asgi_app__(self) -> Starlette:
        return build_http_app(
            self._hosts, self._gate, self._config.max_body_bytes, self._health, self._audio
        )

    async def _health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"status": "ok", "protocol": PROTOCOL_VERSION}
        try:
            hosts = await asyncio.wait_for(self._hosts.ping_all(), HEALTH_TIMEOUT_S)
            report["meetings"] = {"state": "ok", "open": sum(h["meetings"] for h in hosts)}
            # Meetings go on while PostgreSQL is away; their journal writes wait in memory.
            kept = sum(h["journal_kept"] for h in hosts)
            if any(h["store"] != "ok" for h in hosts):
                report["store"] = {"state": "failing", "journal_kept": kept}
                report["status"] = "degraded"
            elif kept:
                report["store"] = {"state": "degraded", "journal_kept": kept}
            else:
                report["store"] = {"state": "ok"}
        except Exception as exc:
            report["status"] = "degraded"
            report["store"] = {"state": "failing", "error": type(exc).__name__}
        for name, handle in self._backends.items():
            try:
                report[name] = await asyncio.wait_for(handle.health.remote(), HEALTH_TIMEOUT_S)
            except Exception as exc:
                report[name] = {"state": "failing", "error": type(exc).__name__}
            # A backend that is merely degraded (some recent errors) leaves the service ok.
            if report[name].get("state") == "failing":
                report["status"] = "degraded"
        return report
