"""The mock's mutable state: keys (and, as they are added, usage and limits)."""

from __future__ import annotations

from mockserver.auth import AdminKey, Principal
from mockserver.config import MockConfig


class MockState:
    def __init__(self, config: MockConfig):
        self.config = config
        self.admin = AdminKey(config.api_key)

    def authenticate(self, token: str) -> Principal | None:
        return self.admin.authenticate(token)
