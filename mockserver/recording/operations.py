"""Which spec operation a recorded request reached, and whether it is a management call (keys, usage)."""

from __future__ import annotations

from mockserver.handlers import Handlers
from mockserver.routing import Dispatcher
from mockserver.spec import LoadedSpec


class Operations:
    """``operation(method, path)`` by the spec's routes; ``management`` from the handler table's admin-only entries
    and the settings' path prefixes (the live router's management API, which the spec does not describe)."""

    def __init__(self, spec: LoadedSpec, handlers: Handlers, management_prefixes: tuple[str, ...]):
        table: dict[str, dict[str, str]] = {}
        for op in spec.operations:
            table.setdefault(spec.base_path + op.path, {})[op.method] = op.operation_id
        self.dispatcher: Dispatcher[dict[str, str]] = Dispatcher(table)
        self.admin_only = frozenset(op_id for op_id, handler in handlers.items() if handler.admin_only)
        self.prefixes = management_prefixes

    def operation(self, method: str, path: str) -> str | None:
        found = self.dispatcher.match(path)
        return None if found is None else found[0].get(method.upper())

    def is_management(self, operation: str | None, path: str) -> bool:
        return operation in self.admin_only or path.startswith(self.prefixes)
