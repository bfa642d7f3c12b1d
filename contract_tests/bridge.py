"""Let Schemathesis (which speaks ``requests``) send through the suite's one httpx client.

A ``requests`` adapter mounted on Schemathesis' session hands every prepared
request to the target's client, so the schema layer shares the budget, the redacted
log, the 429 handling and the same-host rule with the semantic layer, for the embedded mock
(ASGI) and a URL alike.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import HTTPResponse

from contract_tests.budget import BudgetExhausted


class HttpxAdapter(BaseAdapter):
    def __init__(self, client: httpx.Client):
        super().__init__()
        self.client = client

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout=None, verify=True, cert=None,
             proxies=None) -> requests.Response:
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        if body is not None and not isinstance(body, bytes):
            body = b"".join(body)  # a generator body
        headers = {k: v for k, v in request.headers.items()}
        try:
            answer = self.client.request(request.method or "GET", request.url or "", content=body, headers=headers)
        except BudgetExhausted as exc:
            raise requests.ConnectionError(str(exc), request=request) from None
        except httpx.TransportError as exc:
            raise requests.ConnectionError(str(exc), request=request) from None
        raw = HTTPResponse(body=io.BytesIO(answer.content), headers=list(answer.headers.multi_items()),
                           status=answer.status_code, preload_content=False, decode_content=False,
                           reason=answer.reason_phrase)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers.multi_items())
        response.raw = raw
        response.reason = answer.reason_phrase
        response.url = request.url or ""
        response.request = request
        response.encoding = answer.encoding if "charset" in answer.headers.get("content-type", "") else None
        response.connection = self
        return response

    def close(self) -> None:
        """The client belongs to the target, which closes it."""


@contextmanager
def schemathesis_sessions(client: httpx.Client) -> Iterator[None]:
    """Every ``requests`` session used in this block sends through ``client``.

    Schemathesis' engine builds its sessions in several places (its run
    session, probes, an auth-less session) and offers no seam for a transport;
    answering ``Session.get_adapter`` with the bridge for every URL is the one
    place that catches them all, so no request of the schema layer can bypass the
    budget, the log or the same-host rule.
    """
    adapter = HttpxAdapter(client)
    original = requests.Session.get_adapter

    def get_adapter(self: requests.Session, url: str) -> BaseAdapter:
        return adapter

    requests.Session.get_adapter = get_adapter  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.Session.get_adapter = original  # type: ignore[method-assign]
