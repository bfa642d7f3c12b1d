"""Requests built from a spec's own schemas, for any media type: JSON, multipart (with real files), forms, bytes."""

from __future__ import annotations

import copy
import json
import random
import re
from typing import Any

from mockserver.generation import generate
from mockserver.llm.catalog import default_catalog
from mockserver.media.audio import wav
from mockserver.media.png import png
from mockserver.spec import LoadedSpec, Operation

# Inference operations need a model the catalog routes: a generated name is (rightly) a 404.
CATALOG_MODEL = {"createChatCompletion": "chat", "createEmbedding": "embedding", "createSpeech": "speech",
                 "createTranscription": "transcription", "createImage": "image", "createImageEdit": "image",
                 "createResponse": "chat", "beta_createResponse": "chat", "createAnthropicMessage": "chat",
                 "countAnthropicMessageTokens": "chat"}
# What the catalog's models take, where the schema allows more (voices, sizes, formats the mock writes).
KNOWN_GOOD = {"createSpeech": {"voice": "alloy", "response_format": "mp3"}, "createImage": {"size": "auto"},
              "createImageEdit": {"size": "auto"}}
IMAGE = png(64, 64, seed=1)


def file_for(name: str) -> tuple[str, bytes, str]:
    """A real file for a binary form field, by what its name says it holds."""
    if name in ("image", "mask") or "image" in name:
        return f"{name}.png", IMAGE, "image/png"
    if name in ("file", "recording", "audio_sample", "audio"):
        return f"{name}.wav", wav(1.0), "audio/wav"
    if name == "video":
        return "video.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video/mp4"
    return f"{name}.txt", b"some data\n", "text/plain"


def _binary(schema: Any, spec: LoadedSpec) -> bool:
    schema = spec.resolve(schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("format") == "binary" or "contentMediaType" in schema:
        return True
    options = [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    if schema.get("type") == "array" and schema.get("items") is not None:
        options.append(schema["items"])
    return any(_binary(option, spec) for option in options)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _properties(schema: Any, spec: LoadedSpec) -> dict[str, Any]:
    schema = spec.resolve(schema) or {}
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(spec.resolve(part).get("properties") or {})
    return props


def request_media(operation: Operation) -> list[str]:
    return list(operation.body.content) if operation.body is not None and operation.body.content else [None]


def build_request(spec: LoadedSpec, operation: Operation, seed: int = 1, known: dict[str, Any] | None = None,
                  media_type: str | None = None) -> tuple[str, dict[str, Any]]:
    """(path, keyword arguments for ``httpx.Client.request``) of a schema-valid request for ``operation``.

    The body is of ``media_type`` (default: JSON when documented, else the first). The generator does not
    honour every keyword (``not``, some ``anyOf`` mixes): values its own schema refuses are drawn again.
    """
    rng = random.Random(seed)
    known = known or {}

    def param(name: str) -> str:
        parameter = next(p for p in operation.parameters if p.name == name and p.location == "path")
        return str(known.get(name) or generate(parameter.schema, spec.resolve, rng)).replace("/", "-")

    path = re.sub(r"{([^}]+)}", lambda m: param(m.group(1)), operation.path)
    kwargs: dict[str, Any] = {}
    query = {p.name: _text(generate(p.schema, spec.resolve, rng)) for p in operation.parameters
             if p.location == "query" and p.required}
    if query:
        kwargs["params"] = query
    if operation.body is None or not operation.body.content:
        return path, kwargs
    if media_type is None:
        media_type = next((n for n in operation.body.content if "json" in n), next(iter(operation.body.content)))
    name, media = media_type, operation.body.content[media_type]
    value = generate(media.schema, spec.resolve, rng) if media.schema is not None else None
    if media.validator is not None and "json" in name:
        value = _shrink_to_valid(value, media.validator)
    kind = CATALOG_MODEL.get(operation.operation_id)
    if kind is not None and isinstance(value, dict):
        models = default_catalog().of_type(kind)
        value["model"] = models[seed % len(models)].id
        value.update({k: v for k, v in KNOWN_GOOD.get(operation.operation_id, {}).items() if k in value or k == "voice"})
    if isinstance(value, dict) and value.get("previous_response_id") is not None:  # a generated id is (rightly) a 404
        value["previous_response_id"] = known.get("response_id")
    if isinstance(value, dict) and isinstance(value.get("tool_choice"), dict):  # names a generated tool: (rightly) a 400
        del value["tool_choice"]
    if operation.operation_id == "createAccessList":  # an access list names catalog models
        models = default_catalog().models
        value["models"] = [models[seed % len(models)].id]
    if operation.operation_id == "setApiKeyAccessList" and value.get("access_list") is not None:
        value["access_list"] = known.get("name", value["access_list"])  # one that exists
    if "json" in name:
        kwargs["json"] = value
    elif name == "multipart/form-data":
        props = _properties(media.schema, spec)
        data: dict[str, Any] = {}
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        for key, item in (value or {}).items():
            if _binary(props.get(key), spec):
                files.append((key, file_for(key)))
            elif isinstance(item, list) and all(not isinstance(v, (dict, list)) for v in item):
                data[key] = [_text(v) for v in item]
            else:
                data[key] = _text(item)
        kwargs["data"] = data
        kwargs["files"] = files or [("__unused", ("empty.txt", b"", "text/plain"))][:0] or None
        if not files:
            kwargs.pop("files")
            kwargs["headers"] = {"Content-Type": "multipart/form-data; boundary=spec-built"}
            kwargs["content"] = _multipart_fields(data, "spec-built")
            kwargs.pop("data")
    elif name == "application/x-www-form-urlencoded":
        kwargs["data"] = {k: _text(v) for k, v in (value or {}).items()}
    else:
        kwargs["content"] = value.encode() if isinstance(value, str) else b"\x00\x01binary"
        kwargs["headers"] = {"Content-Type": name if "*" not in name else "application/octet-stream"}
    return path, kwargs


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path) for p in p if p]


def _shrink_to_valid(value: Any, validator: Any) -> Any:
    """Drop properties where the value breaks its schema (``oneOf`` of ``required`` sets, ``not``), until it is valid."""
    for _ in range(20):
        violations = validator.violations(value)
        if not violations:
            return value
        node = value
        steps = _steps(violations[0].path)
        for step in steps:
            node = node[step]
        if isinstance(node, dict) and node:
            best, fewest = None, len(violations)
            for key in list(node):
                trial = copy.deepcopy(value)
                target = trial
                for step in steps:
                    target = target[step]
                del target[key]
                count = len(validator.violations(trial))
                if count < fewest:
                    best, fewest = trial, count
            if best is not None:
                value = best
                continue
        if not steps:
            return value
        parent = value
        for step in steps[:-1]:
            parent = parent[step]
        if isinstance(parent, dict):
            del parent[steps[-1]]
        elif isinstance(parent, list):
            parent.pop(steps[-1])
    return value


def _multipart_fields(data: dict[str, Any], boundary: str) -> bytes:
    out = bytearray()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            out += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{item}\r\n'.encode()
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)
