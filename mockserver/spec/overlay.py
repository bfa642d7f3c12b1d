"""Apply an OpenAPI Overlay 1.0 document to an OpenAPI description.

An overlay is a list of actions; each action selects nodes with a JSONPath
(RFC 9535) ``target`` and either merges ``update`` into them or removes them.
Merge rules follow the Overlay specification: objects merge recursively,
primitive values are replaced, and when the target is an array the update is
appended to it.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpath

from mockserver.spec.errors import SpecError


def apply_overlay(document: dict[str, Any], overlay: dict[str, Any], *, source: str = "overlay") -> dict[str, Any]:
    """Return a new document with every action of ``overlay`` applied in order."""
    if not isinstance(overlay, dict) or "overlay" not in overlay:
        raise SpecError(f"{source}: not an Overlay document (missing the 'overlay' version field)")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise SpecError(f"{source}: 'actions' must be a non-empty list")
    result = copy.deepcopy(document)
    for index, action in enumerate(actions):
        _apply_action(result, action, f"{source}: actions[{index}]")
    return result


def _apply_action(document: dict[str, Any], action: Any, where: str) -> None:
    if not isinstance(action, dict) or not isinstance(action.get("target"), str):
        raise SpecError(f"{where}: every action needs a string 'target'")
    target = action["target"]
    where = f"{where} (target {target})"
    if "update" not in action and not action.get("remove"):
        raise SpecError(f"{where}: an action needs 'update' or 'remove: true'")
    try:
        matches = list(jsonpath.finditer(target, document))
    except jsonpath.JSONPathError as exc:
        raise SpecError(f"{where}: invalid JSONPath: {str(exc).splitlines()[0]}") from None
    if not matches:
        raise SpecError(f"{where}: matches nothing in the document")
    if action.get("remove"):
        # Remove from the deepest paths first so earlier removals do not shift later ones.
        for match in sorted(matches, key=lambda m: len(m.parts), reverse=True):
            parent = match.parent.obj if match.parent is not None else None
            if parent is None:
                raise SpecError(f"{where}: cannot remove the document root")
            key = match.parts[-1]
            if isinstance(parent, list):
                del parent[int(key)]
            else:
                parent.pop(key, None)
        return
    update = action["update"]
    for match in matches:
        node = match.obj
        if isinstance(node, list):
            node.append(copy.deepcopy(update))
        elif isinstance(node, dict) and isinstance(update, dict):
            merge(node, update)
        else:
            raise SpecError(f"{where}: can only update objects and arrays, found {type(node).__name__}")


def merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Merge ``update`` into ``target`` in place: objects recursively, other values replaced."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge(current, value)
        else:
            target[key] = copy.deepcopy(value)
