"""An exchange's request as one curl line: the key is ``$REQUESTY_API_KEY``, never the one sent."""

from __future__ import annotations

from collections.abc import Mapping

from mockserver.inspector.masking import Masker

KEY_VARIABLE = "$REQUESTY_API_KEY"
LEFT_OUT = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent", "cookie",
                      "proxy-authorization", "transfer-encoding", "origin", "referer", "sec-fetch-site",
                      "sec-fetch-mode", "sec-fetch-dest", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform"})


def quote(value: str) -> str:
    """POSIX shell single quotes."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def curl_line(method: str, path: str, query: str, headers: Mapping[str, str], body: str, masker: Masker,
              truncated: bool = False) -> str:
    host = headers.get("host", "localhost:8000")
    url = f"http://{host}{path}" + (f"?{masker.text(query)}" if query else "")
    parts = ["curl"]
    if method != "GET" or body:
        parts += ["-X", method]
    parts.append(quote(url))
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in LEFT_OUT or lowered.startswith("x-stainless-"):
            continue
        if lowered == "authorization":
            scheme = value.partition(" ")[0] or "Bearer"
            parts += ["-H", f'"Authorization: {scheme} {KEY_VARIABLE}"']
        elif lowered in ("x-api-key", "api-key"):
            parts += ["-H", f'"{name}: {KEY_VARIABLE}"']
        else:
            parts += ["-H", quote(f"{name}: {masker.text(value)}")]
    if body:
        parts += ["--data-raw", quote(masker.text(body))]
    line = " ".join(parts)
    return line + ("  # the body was longer than the inspector keeps; it is cut here" if truncated else "")
