"""Anthropic's Messages API on the chat model: request -> chat request -> completion -> message or events. No I/O.

A Messages request is read as the chat request it means (:func:`to_chat`): ``system`` is a system message,
``text`` and ``image`` blocks are content parts, an assistant's ``tool_use`` blocks are tool calls and a
user's ``tool_result`` blocks tool messages, client tools (``input_schema``) are function tools, and
``tool_choice`` ``auto``/``any``/``tool``/``none`` is chat's ``auto``/``required``/named/``none``.
:func:`mockserver.llm.chat.complete` answers it, so replies, token counts and prices are the chat's.
:func:`message_body` renders the answer as a ``message`` and :func:`stream_steps` as Anthropic's events.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from mockserver.errors import MockError
from mockserver.llm import tokens
from mockserver.llm.chat import Completion
from mockserver.llm.responses import renamed
from mockserver.llm.streaming import Steps, typed_event

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}
RENAMES = ((".function.parameters", ".input_schema"), ("tool_choice 'required'", "tool_choice 'any'"))


def respond(request: Mapping[str, Any], complete_chat: Callable[[Mapping[str, Any]], Completion]) -> Completion:
    """The answer to a (schema-valid) Messages request, by ``complete_chat`` (the chat request it means in, a
    completion out: the handler's routed model); raises :class:`MockError` as the router would."""
    try:
        return complete_chat(to_chat(request))
    except MockError as error:
        raise renamed(error, RENAMES) from None


def count_input_tokens(request: Mapping[str, Any], complete_chat: Callable[[Mapping[str, Any]], Completion]) -> int:
    """``input_tokens`` of a count_tokens request: what the same Messages request is billed as input.

    The request is answered and the answer dropped, so it is refused exactly when the Messages call would be
    (unknown model, a tool_choice naming no tool, a malformed input_schema, a prompt over the context window).
    """
    return respond({**request, "max_tokens": None}, complete_chat).usage["prompt_tokens"]


def to_chat(request: Mapping[str, Any]) -> dict[str, Any]:
    """The chat request a Messages request means."""
    messages: list[dict[str, Any]] = []
    system = request.get("system")
    if system:
        messages.append({"role": "system", "content": system if isinstance(system, str) else _parts(system)})
    for message in request["messages"]:
        messages += _chat_messages(message)
    chat: dict[str, Any] = {"model": request.get("model"), "messages": messages}
    if request.get("max_tokens") is not None:
        chat["max_tokens"] = request["max_tokens"]
    if request.get("tools"):
        chat["tools"] = [_chat_tool(tool) for tool in request["tools"]]
    choice = request.get("tool_choice")
    if isinstance(choice, Mapping):
        kind = choice.get("type")
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}} if kind == "tool" \
            else TOOL_CHOICES.get(kind, "auto")
    return chat


def _chat_messages(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    role, content = message["role"], message["content"]
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    blocks = [b for b in content if b.get("type") not in ("tool_use", "tool_result", "thinking", "redacted_thinking")]
    calls = [{"id": b["id"], "type": "function", "function": {"name": b["name"], "arguments": orjson.dumps(b["input"]).decode()}}
             for b in content if b.get("type") == "tool_use"]
    results = [{"role": "tool", "tool_call_id": b["tool_use_id"], "content": _result(b.get("content"))}
               for b in content if b.get("type") == "tool_result"]
    out: list[dict[str, Any]] = []
    if blocks or (not calls and not results):
        out.append({"role": role, "content": _parts(blocks)})
    if calls:
        if out and role == "assistant":
            out[-1]["tool_calls"] = calls
        else:
            out.append({"role": "assistant", "content": None, "tool_calls": calls})
    return out + results  # a user turn's text before its tool results: the model answers the results


def _parts(blocks: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    parts = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": block.get("text", "")})
        elif kind == "image":
            parts.append({"type": "image_url"})
        else:
            parts.append(dict(block))  # a document or other block: counted as its JSON
    return parts


def _result(content: Any) -> Any:
    if content is None or isinstance(content, str):
        return content or ""
    return _parts(content)


def _chat_tool(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    if tool.get("type", "custom") == "custom":
        function = {"name": tool.get("name"), "parameters": tool.get("input_schema")}
        if tool.get("description"):
            function["description"] = tool["description"]
        return {"type": "function", "function": function}
    return tool  # a server tool (web_search, ...): counted, never called


# -- rendering ---------------------------------------------------------------------------------------


def usage(completion: Completion) -> dict[str, Any]:
    """Anthropic's usage: ``input_tokens`` are the prompt tokens neither read from the cache nor written to it,
    so input + cache creation + cache read is chat's ``prompt_tokens`` (the first sight of a cached prefix is
    its creation, a later one a read)."""
    chat = completion.usage
    details = chat["prompt_tokens_details"]
    cached, caching = details["cached_tokens"], details.get("caching_tokens", 0)
    return {"input_tokens": chat["prompt_tokens"] - cached - caching, "output_tokens": chat["completion_tokens"],
            "cache_creation_input_tokens": caching, "cache_read_input_tokens": cached, "cost": chat["cost"]}


def content_blocks(completion: Completion) -> list[dict[str, Any]]:
    if completion.tool_calls:
        return [{"type": "tool_use", "id": "toolu_" + call.id.removeprefix("call_"), "name": call.name,
                 "input": orjson.loads(call.arguments)} for call in completion.tool_calls]
    return [{"type": "text", "text": completion.content or ""}]


def message_body(completion: Completion, *, id: str) -> dict[str, Any]:
    return {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": completion.model.id,
        "content": content_blocks(completion),
        "stop_reason": STOP_REASONS[completion.finish_reason],
        "stop_sequence": None,
        "usage": usage(completion),
    }


def stream_steps(body: Mapping[str, Any]) -> list[bytes]:
    """``body`` as Anthropic's stream, grouped in pacing steps.

    ``message_start`` (input tokens), ``ping``; per content block ``content_block_start``, a
    ``content_block_delta`` per token (``text_delta``, or ``input_json_delta`` fragments of the tool input's
    JSON) and ``content_block_stop``; then ``message_delta`` (stop_reason and the final usage, cost
    included) and ``message_stop``.
    """
    steps = Steps()

    def emit(payload: dict[str, Any], *, token: bool = False) -> None:
        steps.add(typed_event(payload), token=token)

    final = body["usage"]
    opening_usage = {"input_tokens": final["input_tokens"], "output_tokens": 0,
                     "cache_creation_input_tokens": final["cache_creation_input_tokens"],
                     "cache_read_input_tokens": final["cache_read_input_tokens"]}
    emit({"type": "message_start", "message": {**body, "content": [], "stop_reason": None, "stop_sequence": None,
                                               "usage": opening_usage}})
    emit({"type": "ping"})
    for index, block in zip(itertools.count(), body["content"]):
        if block["type"] == "text":
            emit({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            deltas = [{"type": "text_delta", "text": piece} for piece in tokens.split(block["text"])]
        else:
            emit({"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}})
            deltas = [{"type": "input_json_delta", "partial_json": piece}
                      for piece in tokens.split(orjson.dumps(block["input"]).decode())]
        for delta in deltas:
            emit({"type": "content_block_delta", "index": index, "delta": delta}, token=True)
        emit({"type": "content_block_stop", "index": index})
    emit({"type": "message_delta", "delta": {"stop_reason": body["stop_reason"], "stop_sequence": None},
          "usage": final})
    emit({"type": "message_stop"})
    return steps.steps
