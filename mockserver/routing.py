"""Find a request's spec path: fixed paths by one dict lookup, templated ones by regular expression.

The one route table of the mock. There are no trailing-slash redirects; a path the spec does not
have matches nothing (the edge hands it to the mock's own endpoints, or answers ``unknown_path``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Generic, TypeVar
from urllib.parse import parse_qsl

T = TypeVar("T")
_TEMPLATE = re.compile(r"{([^}]*)}")
NO_PARAMS: Mapping[str, str] = {}


def route_order(path: str) -> tuple[tuple[int, str], ...]:
    """Fixed segments before templated ones, so ``/keys/usage`` wins over ``/keys/{id}``."""
    return tuple((1 if "{" in segment else 0, segment) for segment in path.split("/"))


def compile_template(path: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """A spec path template as a pattern with one group per ``{name}`` (one segment each), and the names."""
    names = tuple(_TEMPLATE.findall(path))
    pattern = "".join(re.escape(part) if index % 2 == 0 else "([^/]+)"
                      for index, part in enumerate(_TEMPLATE.split(path)))
    return re.compile(pattern), names


class Dispatcher(Generic[T]):
    def __init__(self, routes: Mapping[str, T]):
        """``routes`` by full path template (base path included). A template with a query (OpenAI's
        ``/responses/{response_id}?beta=true``) is its own route for requests that carry that query."""
        plain = {path: route for path, route in routes.items() if "?" not in path}
        self.fixed = {path: route for path, route in plain.items() if "{" not in path}
        self.templated = [(*compile_template(path), plain[path])
                          for path in sorted(plain, key=route_order) if "{" in path]
        self.queried = [(*compile_template(template), set(parse_qsl(query, keep_blank_values=True)), route)
                        for path, route in sorted(routes.items(), key=lambda item: route_order(item[0])) if "?" in path
                        for template, _, query in [path.partition("?")]]

    def match(self, path: str, query: str = "") -> tuple[T, Mapping[str, str]] | None:
        """The route of ``path`` (and ``query``) and its path parameters by their spec names; None for a path the
        spec lacks."""
        if query and self.queried:
            pairs = set(parse_qsl(query, keep_blank_values=True))
            for pattern, names, needed, candidate in self.queried:
                found = pattern.fullmatch(path)
                if found is not None and needed <= pairs:
                    return candidate, dict(zip(names, found.groups(), strict=True))
        route = self.fixed.get(path)
        if route is not None:
            return route, NO_PARAMS
        for pattern, names, candidate in self.templated:
            found = pattern.fullmatch(path)
            if found is not None:
                return candidate, dict(zip(names, found.groups(), strict=True))
        return None
