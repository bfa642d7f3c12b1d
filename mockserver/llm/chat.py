"""A chat completion, computed: request in, reply, finish reason and usage out. No I/O.

:func:`complete` decides everything the answer says; :func:`completion_body`
renders it as a ``chat.completion`` object and :mod:`mockserver.llm.streaming`
as chunks, so a stream always says what the non-stream answer says.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import orjson

from mockserver.accounts import money
from mockserver.errors import MockError
from mockserver.generation import seeded_rng
from mockserver.llm import tokens
from mockserver.llm.caching import NO_CACHE, CacheUse
from mockserver.llm.catalog import DEFAULT_MODEL, Catalog, ModelInfo
from mockserver.llm.overrides import Overrides
from mockserver.llm.reasoning import reason, within
from mockserver.llm.replies import last_user_text, reply_text
from mockserver.llm.structured import EMPTY_OBJECT, compile_schema, generate_valid

# The request fields that decide the reply (not stream, stream_options or max_tokens, which only cut it).
SYSTEM_FINGERPRINT = "fp_mockserver"  # OpenAI documents a string; the mock has one backend configuration
REPLY_INPUTS = ("model", "messages", "tools", "tool_choice", "response_format")


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text valid for the function's parameters schema

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


class Completion(NamedTuple):
    """What the mock model answered (a named tuple: made for every call, so cheap to make)."""

    model: ModelInfo
    content: str | None
    finish_reason: str  # stop | length | tool_calls
    usage: dict[str, Any]
    tool_calls: tuple[ToolCall, ...] = ()
    cost_units: int = 0  # usage["cost"] in money units (10^-10 USD), for the ledger
    reasoning_content: str | None = None  # the reasoning text, for models that return it
    served: str | None = None  # the answer's ``model`` when not the catalog id (``id@region``)

    @property
    def model_name(self) -> str:
        return self.served or self.model.id

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content, "refusal": None}
        if self.reasoning_content is not None:
            message["reasoning_content"] = self.reasoning_content
        if self.tool_calls:
            message["tool_calls"] = [call.as_dict() for call in self.tool_calls]
        return message


def complete(request: Mapping[str, Any], catalog: Catalog, overrides: Overrides, seed: int = 0, *,
             model: ModelInfo | None = None, served: str | None = None, cache: CacheUse = NO_CACHE) -> Completion:
    """What the mock model answers to a (schema-valid) chat request; raises :class:`MockError` when the router would.

    ``model`` is the model routing chose (else the request's, from the catalog), ``served`` the name the
    answer gives it, ``cache`` the prompt-cache reads and writes (:mod:`mockserver.llm.caching`).
    """
    model = model or catalog.require(request.get("model") or DEFAULT_MODEL, "chat")
    messages: Sequence[Mapping[str, Any]] = request["messages"]
    tools, tool_choice = request.get("tools"), request.get("tool_choice")
    functions = _functions(tools) if tools else []
    response_format = request.get("response_format")
    prompt_tokens = tokens.count_prompt(messages, tools, response_format)
    max_tokens = _whole(request.get("max_tokens"))
    _check_limits(model, prompt_tokens, max_tokens)
    thinking = within(reason(model, request.get("reasoning_effort")), max_tokens)
    if max_tokens is not None:  # max_tokens bounds every completion token, reasoning first (as OpenAI's models)
        max_tokens -= thinking.tokens
    extra = (thinking.text, served)
    called = _tool_to_call(tool_choice, functions, messages) if functions or tool_choice is not None else None
    if called is not None:
        name, parameters, index = called
        rng = _rng(request, seed)
        arguments = generate_valid(parameters, rng, f"tools[{index}].function.parameters")
        call = ToolCall(f"call_{rng.getrandbits(96):024x}", name, orjson.dumps(arguments).decode())
        units, counts = _bill(model, cache, thinking.tokens, prompt_tokens,
                              tokens.count(call.name) + tokens.count(call.arguments))
        return Completion(model, None, "tool_calls", counts, (call,), units, *extra)
    text = overrides.reply if overrides.reply is not None else _reply(response_format, overrides.style, messages,
                                                                          partial(_rng, request, seed))
    finish = "stop"
    reply_tokens = tokens.count(text)
    if max_tokens is not None and reply_tokens > max_tokens:
        text, finish, reply_tokens = "".join(tokens.split(text)[:max_tokens]), "length", max_tokens
    units, counts = _bill(model, cache, thinking.tokens, prompt_tokens, reply_tokens)
    return Completion(model, text, finish, counts, (), units, *extra)


def _bill(model: ModelInfo, cache: CacheUse, reasoning_tokens: int, prompt_tokens: int,
          reply_tokens: int) -> tuple[int, dict[str, Any]]:
    """The cost in money units and the usage block: reasoning tokens are completion tokens, billed as output."""
    completion_tokens = reply_tokens + reasoning_tokens
    units = model.cost_units(prompt_tokens, completion_tokens, cached_tokens=cache.cached_tokens,
                             caching_tokens=cache.caching_tokens)
    return units, usage(prompt_tokens, completion_tokens, units, cached_tokens=cache.cached_tokens,
                        caching_tokens=cache.caching_tokens, reasoning_tokens=reasoning_tokens)


def _rng(request: Mapping[str, Any], seed: int) -> random.Random:
    """The reply's generator: seeded from --seed and the request fields that decide the reply.

    Made only where a reply draws from it (tool calls, JSON schema replies, lorem): seeding costs microseconds.
    """
    return seeded_rng(seed, "chat", orjson.dumps({k: request.get(k) for k in REPLY_INPUTS}, option=orjson.OPT_SORT_KEYS))


def _whole(value: Any) -> int | None:
    """A JSON Schema integer may be written 2.0: read it as the int it is."""
    return None if value is None else int(value)


def usage(prompt_tokens: int, completion_tokens: int, cost_units: int, *, cached_tokens: int = 0,
          caching_tokens: int = 0, reasoning_tokens: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost": money.to_usd(cost_units),
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "caching_tokens": caching_tokens},
        "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
    }


def completion_body(completion: Completion, *, id: str, created: int) -> dict[str, Any]:
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": completion.model_name,
        "choices": [{"index": 0, "message": completion.message(), "logprobs": None,
                     "finish_reason": completion.finish_reason}],
        "usage": completion.usage,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _check_limits(model: ModelInfo, prompt_tokens: int, max_tokens: int | None) -> None:
    if max_tokens is not None and model.max_output_tokens is not None and max_tokens > model.max_output_tokens:
        raise MockError(400, f"max_tokens is too large: {max_tokens}. {model.id} can write at most "
                             f"{model.max_output_tokens} completion tokens; lower max_tokens.",
                        code="invalid_value", param="max_tokens")
    window = model.context_window
    if prompt_tokens > window:
        raise MockError(400, f"Your messages are {prompt_tokens} tokens, over the {window}-token context window of "
                             f"{model.id}. Shorten the conversation or choose a model with a larger context window.",
                        code="context_length_exceeded", param="messages")
    if max_tokens is not None and prompt_tokens + max_tokens > window:
        raise MockError(400, f"Your messages ({prompt_tokens} tokens) plus max_tokens ({max_tokens}) exceed the "
                             f"{window}-token context window of {model.id}. Lower max_tokens to at most "
                             f"{window - prompt_tokens} or shorten the conversation.",
                        code="context_length_exceeded", param="max_tokens")


def _functions(tools: Any) -> list[tuple[str, Any, int]]:
    """The function tools as (name, parameters schema, index); other tool types are accepted and not called."""
    functions = []
    for index, tool in enumerate(tools or ()):
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function":
            continue
        function = tool.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str) or not function["name"]:
            raise MockError(400, f"tools[{index}] is a function tool without function.name.",
                            code="invalid_value", param=f"tools[{index}].function.name")
        parameters = function.get("parameters", EMPTY_OBJECT)
        compile_schema(parameters, f"tools[{index}].function.parameters")
        functions.append((function["name"], parameters, index))
    return functions


def _tool_to_call(choice: Any, functions: list[tuple[str, Any, int]],
                  messages: Sequence[Mapping[str, Any]]) -> tuple[str, Any, int] | None:
    """Which function the model calls, if any.

    ``none``: no call. ``required``: a call. A named function: that one.
    ``auto`` (the default with tools): a call when the last message is not a
    tool result, so an agent loop ends with a text answer. The function called
    is the first whose name the last user message mentions, else the first.
    """
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        for candidate in functions:
            if candidate[0] == name:
                return candidate
        raise MockError(400, f"tool_choice names the function {name!r}, which is not among the function tools.",
                        code="invalid_value", param="tool_choice")
    choice = choice or ("auto" if functions else "none")
    if choice not in ("none", "auto", "required"):
        raise MockError(400, f"tool_choice must be none, auto, required or a named function; got {choice!r}.",
                        code="invalid_value", param="tool_choice")
    if choice == "required" and not functions:
        raise MockError(400, "tool_choice 'required' needs at least one function in tools.",
                        code="invalid_value", param="tool_choice")
    if choice == "none" or not functions or (choice == "auto" and messages[-1].get("role") == "tool"):
        return None
    mentioned = last_user_text(messages).lower()
    return next((f for f in functions if f[0].lower() in mentioned), functions[0])


def _reply(response_format: Any, style: str, messages: Sequence[Mapping[str, Any]],
           make_rng: Callable[[], random.Random]) -> str:
    kind = response_format.get("type") if isinstance(response_format, dict) else None  # JSON: a dict
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema", EMPTY_OBJECT) if isinstance(spec, Mapping) else EMPTY_OBJECT
        return orjson.dumps(generate_valid(schema, make_rng(), "response_format.json_schema.schema")).decode()
    text = reply_text(style, messages, make_rng)
    if kind == "json_object":
        return orjson.dumps({"reply": text}).decode()
    return text
