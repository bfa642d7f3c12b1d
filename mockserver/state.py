"""The mock's mutable state: keys, and the accounting seam inference handlers call.

Inference handlers (chat, embeddings) call :meth:`MockState.before_inference`
before doing any work and :meth:`MockState.record_usage` with the ``usage`` block
they return; key management, the usage ledger and spend limits live behind
these two methods.
"""

from __future__ import annotations

from collections.abc import Mapping

from mockserver.auth import AdminKey, Principal
from mockserver.config import MockConfig


class MockState:
    def __init__(self, config: MockConfig):
        self.config = config
        self.admin = AdminKey(config.api_key)

    def authenticate(self, token: str) -> Principal | None:
        return self.admin.authenticate(token)

    def reset(self) -> None:
        """Forget everything created or recorded since start: keys, usage, limits."""

    def before_inference(self, principal: Principal | None) -> None:
        """Raise a :class:`~mockserver.errors.MockError` when ``principal`` may not spend now."""

    def record_usage(
        self,
        principal: Principal | None,
        *,
        operation_id: str,
        model: str,
        usage: Mapping[str, object],
        headers: Mapping[str, str],
    ) -> None:
        """Record one inference call's ``usage`` block (tokens and cost) against ``principal``."""
