"""A fault scenario: YAML or a mapping -> checked against ``scenario.schema.json`` -> frozen dataclasses.

Every problem is one line naming the source and the place
(``chaos.yml: /errors/0/rate: 1.5 is greater than the maximum of 1``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

STREAM_FAULTS = ("disconnect", "truncate", "stall", "malformed", "error")
DEFAULT_AFTER = 1
DEFAULT_STALL_S = 30.0


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line naming the place."""


@dataclass(frozen=True, slots=True)
class Latency:
    distribution: str  # fixed, uniform, lognormal
    ms: float | None = None  # fixed
    min_ms: float | None = None  # uniform
    max_ms: float | None = None
    median_ms: float | None = None  # lognormal
    sigma: float | None = None
    max_cap_ms: float | None = None  # lognormal tails are capped here (default 60 s)
    operations: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ErrorRule:
    status: int
    rate: float
    message: str | None = None
    operations: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None  # only calls served by these models (id or id@region)

    def for_model(self, model: str | None) -> bool:
        return self.models is None or (model is not None and (model in self.models
                                                               or model.partition("@")[0] in self.models))


@dataclass(frozen=True, slots=True)
class RateLimits:
    rpm: int | None = None
    tpm: int | None = None
    operations: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StreamFault:
    fault: str  # one of STREAM_FAULTS
    after: int = DEFAULT_AFTER  # events sent before the fault
    seconds: float = DEFAULT_STALL_S  # stall only
    rate: float = 1.0
    operations: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    seed: int | None = None
    latency: Latency | None = None
    errors: tuple[ErrorRule, ...] = ()
    rate_limits: RateLimits | None = None
    stream_faults: tuple[StreamFault, ...] = ()
    unavailable_models: frozenset[str] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (self.latency or self.errors or self.rate_limits or self.stream_faults or self.unavailable_models)

    def as_dict(self) -> dict[str, Any]:
        """The scenario as plain data (what ``GET /__mock/scenario`` answers); loads back to an equal scenario."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key == "unavailable_models":
                value = sorted(value)
            if value not in (None, (), [], {}):
                out[key] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


_VALIDATOR: jsonschema_rs.Validator | None = None


def schema() -> dict[str, Any]:
    return json.loads(resources.files("mockserver.data").joinpath("scenario.schema.json").read_text())


def _validator() -> jsonschema_rs.Validator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = jsonschema_rs.validator_for(schema())
    return _VALIDATOR


def load_scenario_file(path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file: {exc.strerror or exc}") from None
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str | bytes, *, source: str = "scenario") -> Scenario:
    """A scenario from YAML (or JSON, which is YAML) text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{source}:{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    return build_scenario({} if data is None else data, source=source)


def build_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    """Check ``data`` against the scenario schema, then build the dataclasses."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{source}: a scenario is a mapping (seed, latency, errors, ...), got {type(data).__name__}")
    _check_finite(data, source, "")
    error = next(iter(_validator().iter_errors(data)), None)
    if error is not None:
        where = "/" + "/".join(str(p) for p in error.instance_path)
        message = error.message
        options = getattr(error.kind, "options", None)
        if type(error.kind).__name__ == "Enum" and isinstance(options, list):
            message = f"{error.instance!r} is not one of {', '.join(map(str, options))}"
        raise ScenarioError(f"{source}: {where}: {message}".replace("\n", " "))
    errors = tuple(ErrorRule(**_ops(rule)) for rule in data.get("errors", ()))
    _check_rates_sum(errors, source, "errors")
    faults = tuple(StreamFault(**_ops(rule)) for rule in data.get("stream_faults", ()))
    _check_rates_sum(faults, source, "stream_faults")
    latency = data.get("latency")
    limits = data.get("rate_limits")
    if latency and latency["distribution"] == "uniform" and latency["min_ms"] > latency["max_ms"]:
        raise ScenarioError(f"{source}: /latency: min_ms ({latency['min_ms']}) is greater than max_ms ({latency['max_ms']})")
    if limits is not None and "rpm" not in limits and "tpm" not in limits:
        raise ScenarioError(f"{source}: /rate_limits: give rpm, tpm or both")
    return Scenario(
        seed=data.get("seed"),
        latency=Latency(**_ops(latency)) if latency else None,
        errors=errors,
        rate_limits=RateLimits(**_ops(limits)) if limits else None,
        stream_faults=faults,
        unavailable_models=frozenset(data.get("unavailable_models", ())),
    )


def _check_finite(value: Any, source: str, where: str) -> None:
    """YAML's ``.inf`` and ``.nan`` are floats JSON cannot hold; say so rather than let them through."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(f"{source}: {where or '/'}: {value} is not a finite number")
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _check_finite(item, source, f"{where}/{key}")


def _ops(rule: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(rule)
    for name in ("operations", "models"):
        if name in out:
            out[name] = tuple(out[name])
    return out


def _check_rates_sum(rules: Iterable[ErrorRule | StreamFault], source: str, where: str) -> None:
    """For any one operation, the rates of the rules that apply to it cannot add up to more than 1."""
    rules = list(rules)
    names = {op for rule in rules for op in (rule.operations or ())} or {"*"}
    models = {m for rule in rules for m in (getattr(rule, "models", None) or ())}
    for name in names | {"*"}:
        for model in [None, *sorted(models)]:
            total = sum(rule.rate for rule in rules if (rule.operations is None or name in rule.operations)
                        and (getattr(rule, "models", None) is None or model in rule.models))
            if total > 1 + 1e-9:
                scope = "every operation" if name == "*" else name
                scope += f" and model {model}" if model else ""
                raise ScenarioError(f"{source}: /{where}: the rates for {scope} add up to {total:g}, more than 1")


def from_options(path: str | None = None, *, latency_ms: float | None = None, error_rates: Iterable[str] = (),
                 rpm: int | None = None, tpm: int | None = None) -> Scenario | None:
    """The scenario of ``mockserver serve``: the file, then the shortcut options replacing its fields."""
    base = load_scenario_file(path) if path else Scenario()
    data = base.as_dict()
    if latency_ms is not None:
        data["latency"] = {"distribution": "fixed", "ms": latency_ms}
    if error_rates:
        data["errors"] = [_error_option(text) for text in error_rates]
    if rpm is not None or tpm is not None:
        limits = dict(data.get("rate_limits", {}))
        limits.update({k: v for k, v in (("rpm", rpm), ("tpm", tpm)) if v is not None})
        data["rate_limits"] = limits
    scenario = build_scenario(data, source="options") if data != base.as_dict() else base
    return None if scenario.empty else scenario


def _error_option(text: str) -> dict[str, Any]:
    status, sep, rate = text.partition("=")
    try:
        if sep:
            return {"status": int(status), "rate": float(rate)}
    except ValueError:
        pass
    raise ScenarioError(f"--error-rate {text!r}: expected STATUS=RATE, e.g. 503=0.05")
