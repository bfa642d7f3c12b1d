"""A validated call, as handlers see it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers

from mockserver.auth import Principal
from mockserver.spec.model import LoadedSpec, Operation

if TYPE_CHECKING:
    from mockserver.config import MockConfig
    from mockserver.faults.headers import Directives
    from mockserver.state import MockState


@dataclass(slots=True)
class Call:
    operation: Operation
    params: dict[str, dict[str, Any]]  # typed parameter values by location: path, query, header, cookie
    body: Any  # the parsed JSON body, or None
    raw_body: bytes
    headers: Headers
    principal: Principal | None
    rng: random.Random  # seeded from --seed, the operation and the request
    config: MockConfig
    state: MockState
    example_name: str | None = None
    prefer: Directives | None = None  # the request's Prefer: example=, dynamic=true, a 2xx code=

    @property
    def spec(self) -> LoadedSpec:
        return self.config.spec
