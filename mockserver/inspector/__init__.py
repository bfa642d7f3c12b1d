"""The live request inspector at ``/__mock/``: a page, its feed, and the bounded store behind them.

store.py    the captured exchanges: bounded in entries and bytes, oldest dropped first
masking.py  secrets out of headers and bodies (Authorization, x-api-key, created keys' secrets)
curl.py     an exchange's request as one curl line, the key as ``$REQUESTY_API_KEY``
detail.py   an exchange as the page shows it: its summary row, and the whole of it when opened
feed.py     the journal listener and its subscribers: what the SSE feed pushes
routes.py   /__mock/ (the page), /__mock/inspector/feed, .../exchanges/{id}, .../example-scenario
page.html   the page: one file, inline CSS and JavaScript, no external assets
"""

from mockserver.inspector.feed import Inspector
from mockserver.inspector.store import DEFAULT_BYTES, DEFAULT_ENTRIES, DetailStore

__all__ = ["DEFAULT_BYTES", "DEFAULT_ENTRIES", "DetailStore", "Inspector"]
