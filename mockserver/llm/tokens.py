"""A deterministic local token estimate (tiktoken needs a download, so the mock cannot use it).

The rule, documented in docs/mock-semantics.md:

- a text token is a run of up to 6 letters or digits, or one other visible
  character, together with the whitespace before it; trailing whitespace is one
  more token. So ``"Hello, world!"`` is ``["Hello", ",", " world", "!"]``: 4 tokens.
  Splitting is lossless: ``"".join(split(text)) == text``;
- each message costs 3 tokens more (role and framing), plus 1 when it has a
  ``name``; every prompt costs 3 tokens more for priming the reply (OpenAI's
  documented counting);
- an ``image_url`` content part counts as 85 tokens (OpenAI's low-detail price);
- a ``file`` content part (a PDF, as ``file_data`` data URL or ``file_id``) counts
  :data:`PDF_PAGE_TOKENS` per page (pages counted in the PDF's page objects; a
  ``file_id`` counts as one page) plus its file name;
- tool calls in messages count their function name and arguments; tool
  definitions and a ``response_format`` schema count as their compact JSON text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import orjson

_TOKEN = re.compile(r"\s*(?:[^\W_]{1,6}|[^\w\s]|_)|\s+")
# The same rule for ASCII text, with explicit character sets (what Unicode \s and \w are within ASCII):
# about a third faster, since sre tests a set by bitmap instead of asking the Unicode database.
_SPACE = r"\t\n\v\f\r\x1c-\x1f "
_ASCII_TOKEN = re.compile(rf"[{_SPACE}]*(?:[A-Za-z0-9]{{1,6}}|[^A-Za-z0-9_{_SPACE}]|_)|[{_SPACE}]+")
PER_MESSAGE = 3
PER_NAME = 1
REPLY_PRIMING = 3
IMAGE_TOKENS = 85
PDF_PAGE_TOKENS = 500
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def split(text: str) -> list[str]:
    """The text's tokens, in order; they join back to ``text``."""
    return (_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text)


def count(text: str) -> int:
    return _remembered_count(text) if len(text) <= REMEMBERED_TEXT else _count(text)


def _count(text: str) -> int:
    return len(split(text))


# Counts of short texts are remembered by content: a conversation resends its earlier messages on every
# turn, a system prompt comes back on every call, a load test repeats its prompts. Bounded: REMEMBERED
# texts of at most REMEMBERED_TEXT characters (docs/mock-semantics.md, "Memory").
REMEMBERED = 4096
REMEMBERED_TEXT = 2048
_remembered_count = lru_cache(maxsize=REMEMBERED)(_count)


def count_json(value: Any) -> int:
    return count(orjson.dumps(value).decode())


def count_content(content: Any) -> int:
    """Tokens of a message's ``content``: a string, a list of parts, or null."""
    if isinstance(content, str):
        return count(content)
    total = 0
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "image_url":
            total += IMAGE_TOKENS
        elif part.get("type") == "file" and isinstance(part.get("file"), Mapping):
            total += count_file(part["file"])
        elif isinstance(part.get("text"), str):
            total += count(part["text"])
        else:
            total += count_json(part)
    return total


def pdf_pages(data: bytes) -> int:
    return len(_PDF_PAGE.findall(data))


def count_file(file: Mapping[str, Any]) -> int:
    """Tokens of a ``file`` content part: :data:`PDF_PAGE_TOKENS` a page, and the file name's tokens."""
    pages = 1
    data = file.get("file_data")
    if isinstance(data, str) and "," in data:
        try:
            pages = max(1, pdf_pages(base64.b64decode(data.split(",", 1)[1], validate=True)))
        except ValueError:
            pages = 1
    name = file.get("filename")
    return pages * PDF_PAGE_TOKENS + (count(name) if isinstance(name, str) else 0)


def count_message(message: Mapping[str, Any]) -> int:
    content = message.get("content")
    total = PER_MESSAGE + (count(content) if type(content) is str else count_content(content))  # noqa: E721
    if message.get("name"):
        total += PER_NAME + count(str(message["name"]))
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            continue
        total += count(str(function.get("name", ""))) + count(str(function.get("arguments", "")))
    return total


def count_prompt(messages: Iterable[Mapping[str, Any]], tools: Any = None, response_format: Any = None) -> int:
    """The prompt tokens of a chat request."""
    total = REPLY_PRIMING
    for message in messages:
        total += count_message(message)
    if tools:
        total += count_json(tools)
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":  # JSON: a dict
        total += count_json(response_format.get("json_schema"))
    return total


def text_of(content: Any) -> str:
    """The text of a message's content: the string, or its text parts joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return ""
