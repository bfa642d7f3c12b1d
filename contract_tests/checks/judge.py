"""A check's judge: the pure part of a check, exchange(s) in, :class:`CheckFailed` out.

The active check (``Check.func``) makes its requests and hands what it got to
its judge; the audit (``contract-tests audit`` and ``proxy``) hands the judge
every exchange of recorded or passing traffic that it ``applies`` to, one at a
time, with the :class:`History` of the exchanges before it (the catalog, the
keys created and deleted, the reports read). One judge, two drivers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from contract_tests.checks.outcomes import CheckFailed, CheckSkipped
from contract_tests.traffic import Seen

KEY_PATH = "/api-keys/{key_id}"
KEY_USAGE = "/api-keys/{key_id}/usage"


@dataclass(frozen=True)
class Judge:
    applies: Callable[[Seen], bool]  # the exchanges it judges
    verdict: Callable[[Seen, History], None]  # raises CheckFailed (or CheckSkipped: nothing to judge here)
    needs_credentials: bool = False  # ties calls to keys: judged only where credentials are known (not recordings)
    in_part: str = ""  # what it cannot judge where credentials are unknown (it judges the rest)


def operation_is(method: str, path: str, status: int | None = None) -> Callable[[Seen], bool]:
    def applies(seen: Seen) -> bool:
        op = seen.operation
        return op is not None and op.method == method and op.path == path and (status is None or seen.status == status)

    return applies


def key_id_of(seen: Seen) -> str | None:
    """The ``{key_id}`` of a key path (``/api-keys/ID``, ``/api-keys/ID/usage``)."""
    parts = seen.path.split("/api-keys/", 1)
    return parts[1].split("/", 1)[0] or None if len(parts) == 2 else None


@dataclass
class History:
    """What the traffic before an exchange showed: the judges' memory."""

    catalog: list[dict] | None = None  # the last GET /models data
    created: dict[str, str | None] = field(default_factory=dict)  # key id -> its secret's fingerprint (None: unknown)
    deleted: set[str] = field(default_factory=set)  # key ids deleted with success
    expiring: set[str] = field(default_factory=set)  # key ids created with an expiry
    seen: list[Seen] = field(default_factory=list)
    reports: dict[str, int] = field(default_factory=dict)  # key id -> position in ``seen`` of its last usage report

    def model(self, model_id: object) -> dict | None:
        return next((m for m in self.catalog or [] if m.get("id") == model_id), None)

    def credential_of(self, key_id: str) -> str | None:
        return self.created.get(key_id)

    @property
    def created_credentials(self) -> dict[str, str]:
        return {fp: key_id for key_id, fp in self.created.items() if fp}

    @property
    def deleted_credentials(self) -> set[str]:
        return {fp for key_id, fp in self.created.items() if fp and key_id in self.deleted}

    def note(self, seen: Seen) -> None:
        """Remember ``seen`` for the judges of the exchanges after it."""
        op = seen.operation
        position = len(self.seen)
        self.seen.append(seen)
        if op is None or seen.status is None or not 200 <= seen.status < 300:
            return
        body = seen.response_json
        if (op.method, op.path) == ("GET", "/models") and isinstance(body, dict) and isinstance(body.get("data"), list):
            self.catalog = [m for m in body["data"] if isinstance(m, dict)]
        elif (op.method, op.path) == ("POST", "/api-keys") and isinstance(body, dict) and isinstance(body.get("id"), str):
            self.created[body["id"]] = seen.created_credential
            if body.get("expiry") or seen.asked("expiry"):
                self.expiring.add(body["id"])
        elif (op.method, op.path) == ("DELETE", KEY_PATH) and key_id_of(seen):
            self.deleted.add(key_id_of(seen) or "")
        elif (op.method, op.path) == ("GET", KEY_USAGE) and key_id_of(seen):
            self.reports[key_id_of(seen) or ""] = position

    def latest(self, predicate: Callable[[Seen], bool]) -> Seen | None:
        return next((s for s in reversed(self.seen) if predicate(s)), None)


def judge_all(judge: Judge, exchanges: Iterable[Seen], history: History | None = None) -> int:
    """The active check's side: judge what it received, oldest first. Raises the first failure; skipped when the
    judge had nothing to judge. Returns how many exchanges were judged."""
    history = history if history is not None else History()
    judged = 0
    why = "nothing the check judges was received"
    for seen in exchanges:
        if judge.applies(seen):
            try:
                judge.verdict(seen, history)
                judged += 1
            except CheckSkipped as exc:
                why = str(exc)
        history.note(seen)
    if not judged:
        raise CheckSkipped(why)
    return judged


def failed_on(seen: Seen, message: str) -> CheckFailed:
    """A failure that names the exchange it was found on."""
    return CheckFailed(message, exchange=seen)
