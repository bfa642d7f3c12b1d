"""openapi-core as an independent oracle: a different implementation judges the mock's answers."""

from __future__ import annotations

import httpx
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from mockserver.spec import LoadedSpec

HOST = "https://router.requesty.ai"


_CACHE: dict[int, tuple[LoadedSpec, OpenAPI]] = {}


def _openapi(spec: LoadedSpec) -> OpenAPI:
    cached = _CACHE.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    document = dict(spec.document)
    document["servers"] = [{"url": f"{HOST}{spec.base_path}"}]
    openapi = OpenAPI.from_dict(document)
    _CACHE[id(spec)] = (spec, openapi)
    return openapi


def assert_valid_response(spec: LoadedSpec, method: str, path: str, response: httpx.Response) -> None:
    """Raise if openapi-core finds ``response`` invalid for ``method path`` of ``spec``."""
    openapi = _openapi(spec)
    request = MockRequest(HOST, method.lower(), spec.base_path + path)
    content_type = response.headers.get("content-type", "").split(";")[0] or None
    openapi.validate_response(
        request,
        MockResponse(response.content, status_code=response.status_code, content_type=content_type,
                     headers=dict(response.headers)),
    )
