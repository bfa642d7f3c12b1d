"""The mock's mutable state: keys, and the accounting seam inference handlers call.

Inference handlers (chat, embeddings) call :meth:`MockState.before_inference`
before doing any work and :meth:`MockState.record_usage` with the ``usage`` block
they return; key management, the usage ledger and spend limits live behind
these two methods. The stores are swappable (:class:`~mockserver.accounts.keys.KeyStore`,
:class:`~mockserver.accounts.ledger.Ledger`); the policy lives here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from mockserver.accounts import money
from mockserver.accounts.analytics import read_analytics
from mockserver.accounts.clock import Clock, format_datetime, month_of, utc_now
from mockserver.accounts.keys import ApiKeyRecord, KeyStore, MemoryKeyStore, hash_secret, new_key
from mockserver.accounts.ledger import NO_META, Ledger, MemoryLedger, UsageEntry, UsageMeta, UsageSummary
from mockserver.accounts.reports import Report, ReportQuery
from mockserver.auth import AdminKey, Principal
from mockserver.backends import Backend, open_backend
from mockserver.config import MockConfig
from mockserver.errors import MockError
from mockserver.governance.store import Governance
from mockserver.llm.caching import PromptCache
from mockserver.stored_responses import ResponseStore

ANONYMOUS_KEY_ID = "anonymous"  # usage of operations that need no key


class MockState:
    def __init__(self, config: MockConfig, *, keys: KeyStore | None = None, ledger: Ledger | None = None,
                 clock: Clock = utc_now, backend: Backend | None = None):
        self.config = config
        self.admin = AdminKey(config.api_key)
        if backend is None and keys is None and ledger is None and config.state_path:
            backend = open_backend(config.state_path)
        self.backend = backend  # the shared store (--state), or None: everything in this process
        if backend is not None:
            keys, ledger = backend.keys, backend.ledger
        self.keys: KeyStore = keys if keys is not None else MemoryKeyStore()
        self.ledger: Ledger = ledger if ledger is not None else MemoryLedger()
        self.clock = clock
        self.prompt_cache = PromptCache()  # per key: the prompt prefixes the providers would have cached
        self.responses = ResponseStore()  # the Responses API's stored answers
        # access lists, alert thresholds and their outbox, guardrail actions (docs/governance.md)
        self.governance = Governance(config.governance, backend)

    # -- who is calling --------------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal | None:
        """The admin or a created key for ``token``; None when unknown.

        Raises a 401 :class:`MockError` (``expired_api_key``) when the key has
        expired, so that the answer says why: callers that only want to know
        who is calling must be ready for it.
        """
        principal = self.admin.authenticate(token)
        if principal is not None:
            return principal
        now = self.clock()
        if self.backend is not None:  # the key and its spend this month in one store round trip
            record, spent = self.backend.find_key(hash_secret(token), month_of(now))
        else:
            record, spent = self.keys.find(hash_secret(token)), None
        if record is None:
            return None
        if record.expired(now):
            assert record.expiry is not None
            raise MockError(401, f"This API key expired at {format_datetime(record.expiry)}; create a new key.",
                            code="expired_api_key", headers={"WWW-Authenticate": "Bearer"})
        return Principal(record.id, False, record, spent)

    def reset(self) -> None:
        """Forget everything created or recorded since start: keys, usage, limits, stored responses. The admin key stays."""
        self.keys.clear()
        self.ledger.clear()
        self.prompt_cache.clear()
        self.responses.clear()
        self.governance.reset()

    def record_of(self, principal: Principal | None) -> ApiKeyRecord | None:
        """The created key a caller authenticated with (as read then, else from the key store); None for the
        admin and for no caller."""
        if principal is None or principal.is_admin:
            return None
        return principal.record if principal.record is not None else self.keys.get(principal.key_id)

    # -- the accounting seam ---------------------------------------------------------------------

    def before_inference(self, principal: Principal | None) -> None:
        """Raise a 402 when ``principal``'s key has spent its limit this month.

        The check runs before the call and the cost is recorded after it, so
        calls already admitted may finish and take a key past its limit by at
        most their own cost; the next call is refused. With many workers the same holds across all
        of them: the overshoot is at most the cost of the key's calls in flight (authenticated, not
        yet recorded) when it crossed; with a shared store the spend is the one read when the key
        authenticated, in the same store round trip.
        """
        if principal is None or principal.is_admin:
            return
        if principal.spent is not None:  # read with the key when it authenticated (a shared store)
            limit, spent = principal.record.limit, principal.spent
            if limit is None:
                return
        elif self.backend is not None:  # the limit and the spend read together, in the store
            found = self.backend.spend_and_limit(principal.key_id, month_of(self.clock()))
            if found is None:
                return
            limit, spent = found
        else:
            record = self.keys.get(principal.key_id)
            if record is None or record.limit is None:
                return
            limit, spent = record.limit, self.ledger.spend_in_month(record.id, month_of(self.clock()))
        if spent >= limit:
            raise MockError(
                402,
                f"This API key has reached its monthly spending limit of {money.describe(limit)} "
                f"(spent {money.describe(spent)}). Raise or remove the limit to continue.",
                code="key_limit_exceeded",
            )

    def record_usage(
        self,
        principal: Principal | None,
        *,
        operation_id: str,
        model: str,
        usage: Mapping[str, object],
        headers: Mapping[str, str],
        cost_units: money.Units | None = None,
        meta: UsageMeta = NO_META,
    ) -> None:
        """Record one inference call's ``usage`` block (tokens and cost) against ``principal``.

        ``headers`` are the request's, with lower-case names (as a :class:`~mockserver.call.Call` has them).
        ``cost_units`` is ``usage["cost"]`` in money units when the caller has it (read from the block otherwise).
        ``meta`` is what the request said about itself (model asked for, tags, user, trace).
        """
        prompt, completion, total = _counts(usage)
        at = self.clock()
        cost = money.from_usd(usage.get("cost") or 0) if cost_units is None else cost_units
        key_id = principal.key_id if principal is not None else ANONYMOUS_KEY_ID
        self.ledger.record(UsageEntry(  # positional, in field order: the cheapest way to make a named tuple
            at, key_id, operation_id, model, prompt, completion, total, cost, read_analytics(headers), meta,
        ))
        if cost and principal is not None and not principal.is_admin and self.governance.alerting(key_id):
            record = self.record_of(principal)
            if record is not None:  # spend alerts: the thresholds this cost crossed, each queued once
                month = month_of(at)
                after = self.ledger.spend_in_month(key_id, month)
                self.governance.spent(record, month, after - cost, after, at)

    # -- management ------------------------------------------------------------------------------

    def create_key(self, *, name: str = "", labels: Sequence[str] = (), limit: money.Units | None = None,
                   expiry: dt.datetime | None = None) -> tuple[ApiKeyRecord, str]:
        """A new key and its secret, which is never available again."""
        record, secret = new_key(name=name, labels=labels, limit=limit, expiry=expiry, now=self.clock())
        self.keys.add(record)
        return record, secret

    def list_keys(self) -> list[ApiKeyRecord]:
        return self.keys.list()

    def get_key(self, key_id: str) -> ApiKeyRecord:
        record = self.keys.get(key_id)
        if record is None:
            raise _unknown_key(key_id)
        return record

    def delete_key(self, key_id: str) -> None:
        """Forget the key and its own totals; its recorded usage stays in the organization's totals."""
        if not self.keys.delete(key_id):
            raise _unknown_key(key_id)
        self.ledger.forget_key(key_id)

    def set_limit(self, key_id: str, limit: money.Units | None) -> ApiKeyRecord:
        record = self.keys.set_limit(key_id, limit)
        if record is None:
            raise _unknown_key(key_id)
        return record

    def usage_for_key(self, key_id: str) -> UsageSummary:
        self.get_key(key_id)
        return self.ledger.usage_for_key(key_id)

    def org_usage(self) -> UsageSummary:
        return self.ledger.org_usage()

    def usage_report(self, query: ReportQuery) -> Report:
        """A filtered or grouped report (:mod:`mockserver.accounts.reports`); a key's must exist."""
        if query.key_id is not None:
            self.get_key(query.key_id)
        return self.ledger.report(query)


def _counts(usage: Mapping[str, object]) -> tuple[int, int, int]:
    """The block's prompt, completion and total tokens (a missing total is their sum); a ValueError for a bad one
    (an explicit ``null`` included)."""
    prompt = _count(usage, "prompt_tokens", 0)
    completion = _count(usage, "completion_tokens", 0)
    return prompt, completion, _count(usage, "total_tokens", prompt + completion)


def _count(usage: Mapping[str, object], name: str, default: int) -> int:
    value = usage.get(name, default)
    if type(value) is int and value >= 0:  # noqa: E721  (an exact int: the usual case, and no bool)
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"usage.{name} must be a non-negative integer, not {value!r}")
    return value


def _unknown_key(key_id: str) -> MockError:
    return MockError(404, f"No API key with id {key_id!r}.", code="api_key_not_found", param="key_id")
