"""What a recording redacts and what replay ignores when matching: ``defaults.yml``, plus a ``--config`` file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpath
import yaml

DEFAULTS = Path(__file__).with_name("defaults.yml")
PLACEHOLDER = "[REDACTED]"


class SettingsError(Exception):
    """A --config file that cannot be used: one line naming the file and the key."""


@dataclass(frozen=True)
class Settings:
    redact_headers: frozenset[str]
    redact_paths: tuple[str, ...]
    management_paths: tuple[str, ...]
    ignore_paths: tuple[str, ...]
    management_path_prefixes: tuple[str, ...]
    billed_operations: frozenset[str]

    def redaction_json(self) -> dict[str, Any]:
        return {"placeholder": PLACEHOLDER, "headers": sorted(self.redact_headers), "paths": list(self.redact_paths),
                "management_paths": list(self.management_paths)}

    def match_json(self) -> dict[str, Any]:
        return {"ignore": list(self.ignore_paths)}

    def with_ignore(self, ignore: list[str] | tuple[str, ...]) -> Settings:
        paths = tuple(dict.fromkeys([*self.ignore_paths, *ignore]))
        for path in paths:
            _compile(path, "match.ignore", "recording header")
        return Settings(self.redact_headers, self.redact_paths, self.management_paths, paths,
                        self.management_path_prefixes, self.billed_operations)


_SHAPE = {"redact": {"headers", "paths", "management_paths"}, "match": {"ignore"},
          "management_path_prefixes": None, "billed_operations": None}


def load_settings(config_path: str | Path | None = None) -> Settings:
    """The defaults, with the lists of ``config_path`` (YAML) added. Raises :class:`SettingsError`."""
    merged = _read(DEFAULTS)
    if config_path is not None:
        extra = _read(Path(config_path))
        for key, value in extra.items():
            if isinstance(value, dict):
                for inner, items in value.items():
                    merged[key][inner] = [*merged[key].get(inner, []), *items]
            else:
                merged[key] = [*merged.get(key, []), *value]
    source = str(config_path or DEFAULTS)
    for path in [*merged["redact"]["paths"], *merged["redact"]["management_paths"], *merged["match"]["ignore"]]:
        _compile(path, "a JSON path", source)
    return Settings(
        redact_headers=frozenset(h.lower() for h in merged["redact"]["headers"]),
        redact_paths=tuple(merged["redact"]["paths"]),
        management_paths=tuple(merged["redact"]["management_paths"]),
        ignore_paths=tuple(merged["match"]["ignore"]),
        management_path_prefixes=tuple(merged["management_path_prefixes"]),
        billed_operations=frozenset(merged["billed_operations"]),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a mapping with keys {', '.join(_SHAPE)}")
    for key, value in data.items():
        if key not in _SHAPE:
            raise SettingsError(f"{path}: unknown key {key!r} (known: {', '.join(_SHAPE)})")
        inner = _SHAPE[key]
        if inner is None:
            _strings(value, path, key)
            continue
        if not isinstance(value, dict):
            raise SettingsError(f"{path}: {key} must be a mapping with keys {', '.join(sorted(inner))}")
        for name, items in value.items():
            if name not in inner:
                raise SettingsError(f"{path}: unknown key {key}.{name} (known: {', '.join(sorted(inner))})")
            _strings(items, path, f"{key}.{name}")
    return data


def _strings(value: Any, path: Path, key: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise SettingsError(f"{path}: {key} must be a list of non-empty strings")


def _compile(path: str, what: str, source: str) -> None:
    if not path.startswith("$"):
        raise SettingsError(f"{source}: {path!r} is not a JSON path (it starts with '$', e.g. $.user)")
    try:
        jsonpath.compile(path)
    except jsonpath.JSONPathError as exc:
        raise SettingsError(f"{source}: {path!r} is not {what}: {str(exc).splitlines()[0]}") from None
