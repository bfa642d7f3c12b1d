"""The mock's admin endpoints under ``/__mock/`` (admin key only): reset, scenario, journal; the inspector's page and feed."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.auth import BEARER, authenticate
from mockserver.errors import MockError
from mockserver.faults.runtime import Faults
from mockserver.faults.scenario import Scenario, ScenarioError, parse_scenario
from mockserver.inspector import Inspector
from mockserver.inspector.routes import inspector_routes
from mockserver.request_headers import headers_of
from mockserver.responses import JSONResponse

MAX_SCENARIO_BYTES = 256 * 1024


def admin_routes(prefix: str, faults: Faults, state) -> list[BaseRoute]:
    """``state`` is the app's MockState: its ``authenticate``, ``reset`` and ``config.api_key`` (masked by the inspector)."""
    inspector = Inspector(faults.journal, secrets=[state.config.api_key])

    def guarded(handler: Callable) -> Callable:
        async def endpoint(request: Request) -> Response:
            try:
                _require_admin(request, state)
                return await handler(request)
            except MockError as error:
                return error.response()

        return endpoint

    async def reset(request: Request) -> Response:
        state.reset()
        faults.reset()
        return JSONResponse({"reset": True, "scenario": faults.scenario.as_dict()})

    async def get_scenario(request: Request) -> Response:
        return JSONResponse(faults.scenario.as_dict())

    async def put_scenario(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_SCENARIO_BYTES:
            raise MockError(413, f"A scenario is at most {MAX_SCENARIO_BYTES} bytes.")
        try:
            scenario = parse_scenario(body, source="scenario")
        except ScenarioError as exc:
            raise MockError(400, str(exc), code="invalid_scenario") from None
        faults.load(scenario)
        return JSONResponse(scenario.as_dict())

    async def clear_scenario(request: Request) -> Response:
        faults.load(Scenario())
        return JSONResponse({})

    async def journal(request: Request) -> Response:
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit():
            raise MockError(400, f"limit must be a non-negative integer, got {raw!r}.", param="limit")
        entries = faults.journal.last(int(raw))
        return JSONResponse({"object": "list", "data": entries})

    return [
        Route(f"{prefix}/reset", guarded(reset), methods=["POST"]),
        Route(f"{prefix}/scenario", guarded(get_scenario), methods=["GET"]),
        Route(f"{prefix}/scenario", guarded(put_scenario), methods=["PUT", "POST"]),
        Route(f"{prefix}/scenario", guarded(clear_scenario), methods=["DELETE"]),
        Route(f"{prefix}/journal", guarded(journal), methods=["GET"]),
        *inspector_routes(prefix, inspector, guarded),
    ]


def _require_admin(request: Request, state) -> None:
    principal = authenticate(BEARER, state, headers_of(request.scope)[0], {}, {})
    if principal is None or not principal.is_admin:
        raise MockError(403, "The mock's admin endpoints need the admin key.")
