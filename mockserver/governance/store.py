"""What governance is in force at run time: the config file's settings and those made over the API.

Access lists (the file's and created ones), the list attached to each key, each key's alert settings
and guardrail action. With ``--state`` the API's settings are kept in the shared store (a JSON value per
setting, :mod:`mockserver.backends`) and so is the alert outbox; the config file's settings are read at
each start. Each worker keeps the settings in memory and reads them again when the store's governance
counter, which comes with every request's number, says another worker changed them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.accounts import money
from mockserver.accounts.keys import ApiKeyRecord
from mockserver.errors import MockError
from mockserver.governance import alerts
from mockserver.governance.config import EMPTY, AccessList, GovernanceConfig, Threshold, threshold
from mockserver.governance.delivery import Delivery, Outbox, Retry


@dataclass(frozen=True, slots=True)
class KeyAlerts:
    thresholds: tuple[Threshold, ...]
    url: str | None = None
    secret: str | None = None  # write-only over the API: shown as secret_set


class Governance:
    def __init__(self, config: GovernanceConfig = EMPTY, backend: Any = None):
        """``backend``: the shared store (``--state``), whose ``governance`` settings, ``deliveries`` outbox
        and ``governance_version`` this reads; None keeps everything in this process."""
        self.config = config
        self._backend = backend
        self._settings = None if backend is None else backend.governance
        self._version = None
        self._lock = threading.RLock()
        self.lists: dict[str, AccessList] = {}
        self.key_lists: dict[str, str] = {}
        self.key_alerts: dict[str, KeyAlerts] = {}
        self.key_guardrails: dict[str, str] = {}
        self._load()
        self.outbox = Outbox(self._retry, self._secret_for, None if backend is None else backend.deliveries)

    def sync(self) -> None:
        """Read the settings again if another worker changed them (a number compared; no store round trip)."""
        if self._backend is not None and self._backend.governance_version != self._version:
            with self._lock:
                self._load()

    def _load(self) -> None:
        """The settings read into new dicts, put in place together: a reader on another thread (the alert
        sender) sees the old settings or the new ones, never half of them."""
        lists = dict(self.config.access_lists)
        if self._settings is None:
            self.lists = lists
            return
        self._version = self._backend.governance_version
        key_lists, key_alerts, key_guardrails = {}, {}, {}
        for kind, name, value in self._settings.rows():
            data = json.loads(value)
            if kind == "access_list" and name not in self.config.access_lists:
                lists[name] = AccessList(name, tuple(data["models"]), (), data.get("description", ""))
            elif kind == "key_access_list":
                key_lists[name] = data
            elif kind == "key_alerts":
                key_alerts[name] = KeyAlerts(tuple(threshold(t) for t in data["thresholds"]), data.get("url"),
                                             data.get("secret"))
            elif kind == "key_guardrails":
                key_guardrails[name] = data
        self.lists, self.key_lists, self.key_alerts, self.key_guardrails = lists, key_lists, key_alerts, key_guardrails

    def _put(self, kind: str, name: str, value: Any) -> None:
        if self._settings is not None:
            self._settings.put(kind, name, None if value is None else json.dumps(value))

    def reset(self) -> None:
        """Forget what the API set; the config file's settings stay."""
        with self._lock:
            self.lists = dict(self.config.access_lists)
            self.key_lists.clear()
            self.key_alerts.clear()
            self.key_guardrails.clear()
            if self._settings is not None:
                self._settings.clear()
        self.outbox.clear()

    # -- access lists ----------------------------------------------------------------------------------

    def create_list(self, name: str, models: tuple[str, ...], description: str = "") -> AccessList:
        self.sync()
        with self._lock:
            if name in self.lists:
                raise MockError(409, f"An access list named {name!r} exists already; delete it first or pick "
                                     "another name.", code="access_list_exists", param="name")
            access = self.lists[name] = AccessList(name, models, (), description)
            self._put("access_list", name, {"models": list(models), "description": description})
            return access

    def get_list(self, name: str) -> AccessList:
        self.sync()
        access = self.lists.get(name)
        if access is None:
            known = ", ".join(self.lists) or "none"
            raise MockError(404, f"No access list named {name!r}. Access lists: {known}.",
                            code="access_list_not_found", param="name")
        return access

    def delete_list(self, name: str) -> None:
        with self._lock:
            access = self.get_list(name)
            if access.source == "config":
                raise MockError(409, f"The access list {name!r} comes from the --config file; change the file "
                                     "to remove it.", code="access_list_in_config", param="name")
            users = sorted(k for k, v in self.key_lists.items() if v == name)
            if users:
                raise MockError(409, f"The access list {name!r} is attached to {len(users)} key(s) "
                                     f"({', '.join(users[:3])}); detach it first.", code="access_list_in_use",
                                param="name")
            del self.lists[name]
            self._put("access_list", name, None)

    def attach_list(self, key_id: str, name: str | None) -> None:
        with self._lock:
            if name is None:
                self.key_lists.pop(key_id, None)
            else:
                self.get_list(name)
                self.key_lists[key_id] = name
            self._put("key_access_list", key_id, name)

    def list_for(self, record: ApiKeyRecord | None) -> AccessList | None:
        """The access list a key uses: the one attached to it, else the first whose labels it carries."""
        self.sync()
        if record is None:
            return None
        name = self.key_lists.get(record.id)
        if name is not None:
            return self.lists.get(name)
        if record.labels:
            for access in self.lists.values():
                if access.labels and set(access.labels) & set(record.labels):
                    return access
        return None

    # -- guardrails -------------------------------------------------------------------------------------

    def set_guardrail(self, key_id: str, action: str | None) -> None:
        with self._lock:
            if action is None:
                self.key_guardrails.pop(key_id, None)
            else:
                self.key_guardrails[key_id] = action
            self._put("key_guardrails", key_id, action)

    def guardrail_for(self, record: ApiKeyRecord | None, policy: str | None) -> str:
        """The action for a call: the policy's, else the key's, else its labels', else the file's default."""
        self.sync()
        settings = self.config.guardrails
        if policy is not None and policy in settings.policies:
            return settings.policies[policy]
        if record is not None:
            if record.id in self.key_guardrails:
                return self.key_guardrails[record.id]
            for label in record.labels:
                if label in settings.labels:
                    return settings.labels[label]
        return settings.default

    # -- alerts -----------------------------------------------------------------------------------------

    def set_alerts(self, key_id: str, settings: KeyAlerts | None) -> None:
        with self._lock:
            if settings is None:
                self.key_alerts.pop(key_id, None)
                self._put("key_alerts", key_id, None)
                return
            self.key_alerts[key_id] = settings
            self._put("key_alerts", key_id, {"thresholds": [t.as_json() for t in settings.thresholds],
                                             "url": settings.url, "secret": settings.secret})

    def alerting(self, key_id: str) -> bool:
        """Whether a cost charged to the key may cross an alert threshold (thresholds and a URL are set)."""
        self.sync()
        own, defaults = self.key_alerts.get(key_id), self.config.alerts
        if own is None:
            return bool(defaults.thresholds and defaults.url)
        return bool(own.thresholds and (own.url or defaults.url))

    def all_lists(self) -> list[AccessList]:
        self.sync()
        return list(self.lists.values())

    def alerts_for(self, key_id: str) -> KeyAlerts:
        self.sync()
        own = self.key_alerts.get(key_id)
        defaults = self.config.alerts
        if own is None:
            return KeyAlerts(defaults.thresholds, defaults.url, None)
        return KeyAlerts(own.thresholds, own.url or defaults.url, own.secret)

    def spent(self, record: ApiKeyRecord, month: str, before: money.Units, after: money.Units, at: Any) -> None:
        """Queue an event for each threshold ``before -> after`` crosses (each crossing once)."""
        settings = self.alerts_for(record.id)
        if not settings.thresholds or not settings.url:
            return
        for threshold_, amount in alerts.crossed(settings.thresholds, record.limit, before, after):
            crossing = alerts.crossing_id(record.id, month, threshold_)
            if self.outbox.knows(crossing):
                continue
            body = alerts.encode(alerts.event(record.id, record.name, month, threshold_, amount, after,
                                              record.limit, at))
            self.outbox.add(crossing, record.id, settings.url, body)

    def _retry(self) -> Retry:
        a = self.config.alerts
        return Retry(a.retries, a.backoff_ms, a.timeout_s)

    def _secret_for(self, delivery: Delivery) -> str | None:
        own = self.key_alerts.get(delivery.key_id)
        if own is not None and own.secret:
            return own.secret
        return self.config.alerts.secret


def thresholds_json(items: tuple[Threshold, ...]) -> list[Mapping[str, Any]]:
    return [t.as_json() for t in items]
