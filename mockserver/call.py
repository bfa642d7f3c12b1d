"""A validated call, as handlers see it."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.auth import Principal
from mockserver.generation import seeded_rng
from mockserver.spec.model import LoadedSpec, Operation

if TYPE_CHECKING:
    from mockserver.config import MockConfig
    from mockserver.exchange import Exchange
    from mockserver.faults.headers import Directives
    from mockserver.faults.runtime import Faults
    from mockserver.state import MockState


@dataclass(slots=True)
class Call:  # made positionally for every request (mockserver/reading.py): keep the fields' order
    operation: Operation
    params: Mapping[str, Mapping[str, Any]]  # typed parameter values by location: path, query, header, cookie
    body: Any  # the parsed JSON body, or None
    raw_body: bytes
    headers: Mapping[str, str]  # lower-case names; a repeated header's first value
    principal: Principal | None
    config: MockConfig
    state: MockState
    seed: tuple[object, ...] = ()  # what rng is seeded from: --seed, the operation, the path and the query
    example_name: str | None = None
    prefer: Directives | None = None  # the request's directives: Prefer example=, dynamic=true, a success code=
    exchange: Exchange | None = None  # the request's facts: its sequence number, what the journal notes
    faults: Faults | None = None  # the faults runtime, which a routing handler asks whether a model answers
    _rng: random.Random | None = field(default=None, repr=False)

    @property
    def spec(self) -> LoadedSpec:
        return self.config.spec

    @property
    def rng(self) -> random.Random:
        """Seeded from :attr:`seed` and the raw body on first use: handlers that never draw pay nothing."""
        if self._rng is None:
            self._rng = seeded_rng(*self.seed, body=self.raw_body)
        return self._rng
