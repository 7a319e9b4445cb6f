"""An App Service managed-identity endpoint, the token source DefaultAzureCredential finds
through IDENTITY_ENDPOINT and IDENTITY_HEADER, so replicas get Bearer tokens offline."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.state import StandInState, bearer

SERVICE = "identity"
PATH = "/msi/token"


def routes(state: StandInState) -> list[Route]:
    async def token(request: Request) -> Response:
        recorded = await state.record(SERVICE, request)
        if recorded.headers.get("x-identity-header") != state.identity_header:
            return JSONResponse({"error": "invalid identity header"}, status_code=401)
        resource = request.query_params.get("resource", "")
        return JSONResponse(
            {
                "access_token": bearer(resource),
                "expires_on": str(int(time.time()) + 3600),
                "resource": resource,
                "token_type": "Bearer",
            }
        )

    return [Route(PATH, token, methods=["GET"])]
