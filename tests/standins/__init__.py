"""Local stand-ins of Azure AI Language, Azure AI Foundry agents, a managed-identity token
endpoint and an OpenAI-compatible server, for the real SDK clients to talk to over HTTP.

One Starlette app answers them all; it is served twice: over https with a throwaway CA (the
Azure services: azure-core sends Bearer tokens only over https) and over plain http (the
identity endpoint, as on App Service, and the OpenAI-compatible server, as vLLM or Ray Serve
LLM inside a cluster). Every request is recorded; behaviours are scripted per service.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette

from tests.standins import azure_language, foundry, identity, openai_compat
from tests.standins.server import ThreadedServer
from tests.standins.state import StandInState, bearer
from tests.standins.tls import make_certificates


@dataclass
class StandIns:
    state: StandInState
    https_url: str
    http_url: str
    ca_file: str

    @property
    def language_endpoint(self) -> str:
        return self.https_url

    @property
    def project_endpoint(self) -> str:
        return f"{self.https_url}/api/projects/{self.state.project}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.http_url}/v1"

    @property
    def identity_env(self) -> dict[str, str]:
        """What DefaultAzureCredential needs to get tokens from the stand-in."""
        return {
            "IDENTITY_ENDPOINT": f"{self.http_url}{identity.PATH}",
            "IDENTITY_HEADER": self.state.identity_header,
        }


def build_app(state: StandInState) -> Starlette:
    return Starlette(
        routes=[
            *azure_language.routes(state),
            *foundry.routes(state),
            *identity.routes(state),
            *openai_compat.routes(state),
        ]
    )


@contextmanager
def running_standins() -> Iterator[StandIns]:
    state = StandInState()
    app = build_app(state)
    with tempfile.TemporaryDirectory(prefix="glossify-standin-") as tmp:
        certs = make_certificates(Path(tmp))
        secure = ThreadedServer(app, cert_file=certs.cert_file, key_file=certs.key_file).start()
        plain = ThreadedServer(app).start()
        try:
            yield StandIns(state, secure.url, plain.url, str(certs.ca_file))
        finally:
            secure.stop()
            plain.stop()


class StaticTokenCredential:
    """An async TokenCredential with the tokens the stand-ins accept (offline tests)."""

    def __init__(self) -> None:
        self.scopes: list[str] = []
        self.closed = False

    async def get_token(self, *scopes: str, **_: object) -> object:
        from azure.core.credentials import AccessToken

        self.scopes.extend(scopes)
        resource = scopes[0].removesuffix("/.default")
        return AccessToken(bearer(resource), 2_000_000_000)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


__all__ = ["StandIns", "StaticTokenCredential", "running_standins"]
