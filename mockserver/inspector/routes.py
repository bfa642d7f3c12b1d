"""The inspector's routes under ``/__mock/``: the page (no data in it), and what it reads with the admin key.

- ``GET /__mock/``: the page (``page.html``); it asks for the key, or reads it from ``#key=...``;
- ``GET /__mock/inspector/feed``: ``text/event-stream``, the list so far then each new exchange;
- ``GET /__mock/inspector/exchanges/{id}``: one exchange in full, secrets masked, with its curl line;
- ``GET /__mock/inspector/example-scenario``: the bundled example scenario (``examples/scenario.yml``).

The page sends the key in an ``Authorization`` header (``fetch``, not ``EventSource``), never in a
query string, so it is in no URL a server or proxy logs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from mockserver.errors import MockError
from mockserver.inspector.feed import Inspector
from mockserver.responses import JSONResponse

PAGE = Path(__file__).with_name("page.html")
EXAMPLE_SCENARIO_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "examples" / "scenario.yml",  # a source checkout or editable install
    Path(__file__).resolve().parents[1] / "_examples" / "scenario.yml",  # an installed wheel
)
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@cache
def page_bytes() -> bytes:
    return PAGE.read_bytes()


def example_scenario_path() -> Path:
    for candidate in EXAMPLE_SCENARIO_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise MockError(404, "The example scenario is not installed with this copy of the mock.", code="not_found")


def inspector_routes(prefix: str, inspector: Inspector, guarded: Callable) -> list[BaseRoute]:
    """``guarded(handler)`` wraps a handler so it answers only the admin key."""

    async def page(request: Request) -> Response:
        return Response(page_bytes(), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def feed(request: Request) -> Response:
        return StreamingResponse(inspector.feed(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def exchange(request: Request) -> Response:
        raw = request.path_params["ident"]
        found = inspector.detail(int(raw)) if raw.isdigit() else None
        if found is None:
            raise MockError(404, f"No exchange {raw} in the inspector's store (it keeps the last "
                                 f"{inspector.store.max_entries} within {inspector.store.max_bytes} bytes).",
                            code="not_found")
        return JSONResponse(found)

    async def example(request: Request) -> Response:
        return Response(example_scenario_path().read_bytes(), media_type="application/yaml")

    return [
        Route(f"{prefix}/", page, methods=["GET"]),
        Route(f"{prefix}/inspector/feed", guarded(feed), methods=["GET"]),
        Route(f"{prefix}/inspector/exchanges/{{ident}}", guarded(exchange), methods=["GET"]),
        Route(f"{prefix}/inspector/example-scenario", guarded(example), methods=["GET"]),
    ]
