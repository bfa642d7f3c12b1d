"""What a check gets: the HTTP, catalog and keys parts of one run, and what the run knows of its target."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from contract_tests.budget import Budget
from contract_tests.checks.applies import documented
from contract_tests.checks.catalog import Catalog
from contract_tests.checks.http_calls import HttpCalls
from contract_tests.checks.key_manager import KeyManager
from contract_tests.checks.policies import Policies
from contract_tests.redact import Redactor
from contract_tests.target import Target
from contract_tests.traffic import Operations, Seen, from_response
from mockserver.spec import LoadedSpec


@dataclass
class CheckContext:
    http: HttpCalls
    catalog: Catalog
    keys: KeyManager
    spec: LoadedSpec
    deterministic: bool  # the same request gets the same answer (the embedded mock, loopback)
    budget: Budget
    redactor: Redactor
    policies: Policies = Policies()  # the routing policies the run may call (--policy, --balance-policy)
    overlaid: bool = True  # the spec under test carries an overlay (the bundled one does): overlay-based checks apply
    operations: Operations = field(init=False)
    documented: set[str] = field(init=False)  # the spec's operations, "METHOD /path"

    def __post_init__(self) -> None:
        self.operations = Operations(self.spec)
        self.documented = documented(self.spec)

    @classmethod
    def open(cls, target: Target, spec: LoadedSpec, *, deterministic: bool, allow_writes: bool,
             max_tokens: int = 16, policies: Policies = Policies(), overlaid: bool = True) -> CheckContext:
        http = HttpCalls(target, max_tokens=max_tokens)
        return cls(http, Catalog(http), KeyManager(http, target.redactor, allow_writes=allow_writes), spec,
                   deterministic, target.budget, target.redactor, policies, overlaid)

    @property
    def allow_writes(self) -> bool:
        return self.keys.allow_writes

    def seen(self, response: httpx.Response) -> Seen:
        """An answer this check received, as its judge reads it (redacted, the credential fingerprinted)."""
        return from_response(response, self.redactor, self.operations)
