"""The Responses API on the chat model: request -> chat request -> completion -> response object or events. No I/O.

A Responses request is read as the chat request it means (:func:`to_chat`): ``instructions`` is a system
message, ``input`` (a string or items) the messages after the conversation of ``previous_response_id``,
a ``function_call_output`` item a tool message, function and custom tools chat function tools,
``text.format`` the ``response_format``, ``max_output_tokens`` ``max_tokens``. :func:`mockserver.llm.chat.complete`
answers it, so replies, token counts and prices are the chat's: the same prompt costs the same through
both APIs. :func:`response_body` renders the answer as a ``response`` object and :func:`stream_steps` as
OpenAI's typed ``response.*`` events, which assemble to that object.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import orjson

from mockserver.errors import MockError
from mockserver.llm import tokens
from mockserver.llm.chat import Completion
from mockserver.llm.streaming import Steps, typed_event

# A custom tool takes free-form text: the mock calls it as a function whose one argument is that text.
CUSTOM_INPUT = {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"],
                "additionalProperties": False}
# Chat's names for the request fields, as a Responses caller knows them (in error messages and params).
RENAMES = (("response_format.json_schema.schema", "text.format.schema"), ("max_tokens", "max_output_tokens"),
           ("messages", "input"), (".function.parameters", ".parameters"))


class Turn(NamedTuple):
    """One Responses call, computed."""

    completion: Completion
    conversation: list[dict[str, Any]]  # the chat messages so far, without instructions, the answer included
    custom_tools: frozenset[str]  # names of the custom tools (their calls are custom_tool_call items)


def respond(request: Mapping[str, Any], complete_chat: Callable[[Mapping[str, Any]], Completion],
            history: Sequence[Mapping[str, Any]] = ()) -> Turn:
    """The answer to a (schema-valid) Responses request, by ``complete_chat`` (the chat request it means in,
    a completion out: the handler's routed model); ``history`` is the conversation of previous_response_id."""
    chat, conversation, custom = to_chat(request, history)
    try:
        completion = complete_chat(chat)
    except MockError as error:
        raise renamed(error, RENAMES) from None
    return Turn(completion, [*conversation, *answer_messages(completion)], custom)


def to_chat(request: Mapping[str, Any],
            history: Sequence[Mapping[str, Any]] = ()) -> tuple[dict[str, Any], list[dict[str, Any]], frozenset[str]]:
    """The chat request a Responses request means, its conversation (without instructions), its custom tools."""
    conversation = [dict(m) for m in history] + _input_messages(request.get("input"))
    instructions = request.get("instructions")
    messages = ([{"role": "system", "content": instructions}] if instructions else []) + conversation
    if not messages:
        raise MockError(400, "There is nothing to answer: give input, or previous_response_id.",
                        code="invalid_request", param="input")
    tools = request.get("tools") or []
    chat: dict[str, Any] = {"model": request.get("model"), "messages": messages}
    if tools:
        chat["tools"] = [_chat_tool(tool) for tool in tools]
    choice = request.get("tool_choice")
    if choice is not None:
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}} \
            if isinstance(choice, Mapping) else choice
    text_format = (request.get("text") or {}).get("format")
    if isinstance(text_format, Mapping) and text_format.get("type") == "json_schema":
        chat["response_format"] = {"type": "json_schema", "json_schema": {
            k: text_format[k] for k in ("name", "description", "schema", "strict") if k in text_format}}
    elif isinstance(text_format, Mapping) and text_format.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    if request.get("max_output_tokens") is not None:
        chat["max_tokens"] = request["max_output_tokens"]
    custom = frozenset(t["name"] for t in tools if isinstance(t, Mapping) and t.get("type") == "custom")
    return chat, conversation, custom


def _chat_tool(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    kind = tool.get("type")
    if kind == "function":
        function = {k: tool[k] for k in ("name", "description", "parameters", "strict") if tool.get(k) is not None}
        return {"type": "function", "function": function}
    if kind == "custom":
        function = {"name": tool.get("name"), "parameters": CUSTOM_INPUT}
        if tool.get("description"):
            function["description"] = tool["description"]
        return {"type": "function", "function": function}
    return tool  # a built-in tool (web_search, file_search, ...): counted, never called


def _input_messages(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    messages: list[dict[str, Any]] = []
    for item in value:
        kind = item.get("type", "message")
        if kind == "message":
            content = item.get("content")
            messages.append({"role": item["role"],
                             "content": content if isinstance(content, str) else [_part(p) for p in content]})
        elif kind in ("function_call", "custom_tool_call"):
            arguments = item["arguments"] if kind == "function_call" else orjson.dumps({"input": item["input"]}).decode()
            call = {"id": item["call_id"], "type": "function", "function": {"name": item["name"], "arguments": arguments}}
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls"):
                messages[-1]["tool_calls"].append(call)  # parallel calls of one turn
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = item["output"]
            messages.append({"role": "tool", "tool_call_id": item["call_id"],
                             "content": output if isinstance(output, str) else [_part(p) for p in output]})
        # reasoning items: the mock model does not reason; they cost nothing
    return messages


def _part(part: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses content part as the chat part it counts as."""
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": part.get("text", "")}
    if kind == "refusal":
        return {"type": "text", "text": part.get("refusal", "")}
    if kind == "input_image":
        return {"type": "image_url"}
    return dict(part)  # a file: counted as its JSON


def answer_messages(completion: Completion) -> list[dict[str, Any]]:
    """The answer as chat messages, for the conversation a later previous_response_id continues."""
    if completion.tool_calls:
        return [{"role": "assistant", "content": None, "tool_calls": [c.as_dict() for c in completion.tool_calls]}]
    return [{"role": "assistant", "content": completion.content or ""}]


def renamed(error: MockError, renames: Sequence[tuple[str, str]]) -> MockError:
    """``error`` with chat's field names replaced by the caller's API's."""
    message, param = error.message, error.param
    for old, new in renames:
        if "." in old or "_" in old:  # a field name; a plain word ("messages") is left alone in prose
            message = message.replace(old, new)
        param = param.replace(old, new) if param else param
    return MockError(error.status, message, type=error.type, code=error.code, param=param,
                     details=error.details, headers=error.headers)


# -- rendering ---------------------------------------------------------------------------------------


def usage(completion: Completion) -> dict[str, Any]:
    """The Responses API's usage: chat's counts, its cache reads as ``cached_tokens`` and its cache writes as
    ``cache_write_tokens`` (OpenAI's names)."""
    chat = completion.usage
    details = chat["prompt_tokens_details"]
    return {
        "input_tokens": chat["prompt_tokens"],
        "input_tokens_details": {"cached_tokens": details["cached_tokens"],
                                 "cache_write_tokens": details.get("caching_tokens", 0)},
        "output_tokens": chat["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": chat["completion_tokens_details"]["reasoning_tokens"]},
        "total_tokens": chat["total_tokens"],
        "cost": chat["cost"],
    }


def output_items(turn: Turn, ident: str) -> list[dict[str, Any]]:
    """The output items; their ids are made from the response's id (``resp_...``)."""
    suffix = ident.removeprefix("resp_")
    completion = turn.completion
    items: list[dict[str, Any]] = []
    for index, call in enumerate(completion.tool_calls):
        if call.name in turn.custom_tools:
            items.append({"type": "custom_tool_call", "id": f"ctc_{suffix}_{index}", "call_id": call.id,
                          "name": call.name, "input": orjson.loads(call.arguments)["input"], "status": "completed"})
        else:
            items.append({"type": "function_call", "id": f"fc_{suffix}_{index}", "call_id": call.id,
                          "name": call.name, "arguments": call.arguments, "status": "completed"})
    if not items:
        status = "incomplete" if completion.finish_reason == "length" else "completed"
        items.append({"type": "message", "id": f"msg_{suffix}", "status": status, "role": "assistant",
                      "content": [_text_part(completion.content or "")]})
    return items


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def response_body(turn: Turn, request: Mapping[str, Any], *, id: str, created_at: int) -> dict[str, Any]:
    """The ``response`` object of a finished call."""
    completion = turn.completion
    incomplete = completion.finish_reason == "length"
    return {
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": "incomplete" if incomplete else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": completion.model.id,
        "output": output_items(turn, id),
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": request.get("store") is not False,
        "temperature": request.get("temperature", 1.0),
        "text": {"format": (request.get("text") or {}).get("format") or {"type": "text"}},
        "tool_choice": request.get("tool_choice") or "auto",
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage(completion),
        "metadata": request.get("metadata") or {},
        **({"user": request["user"]} if request.get("user") is not None else {}),  # a string when present, as OpenAI's
    }


def stream_steps(body: Mapping[str, Any]) -> list[bytes]:
    """``body`` as OpenAI's typed events with a strictly increasing ``sequence_number``, grouped in pacing steps.

    ``response.created`` and ``response.in_progress``; per output item ``response.output_item.added``, its
    content (``content_part.added``, ``output_text.delta`` per token, ``output_text.done``,
    ``content_part.done``; or ``function_call_arguments.delta`` / ``.done``; or
    ``custom_tool_call_input.delta`` / ``.done``) and ``response.output_item.done``; then
    ``response.completed`` (``response.incomplete`` when max_output_tokens cut the answer) with usage and cost.
    """
    sequence = itertools.count()
    steps = Steps()

    def emit(kind: str, *, token: bool = False, **fields: Any) -> None:
        steps.add(typed_event({"type": kind, "sequence_number": next(sequence), **fields}), token=token)

    # Before the answer there is no usage yet: left out (OpenAI's schema types it as an object when present).
    opening = {**{k: v for k, v in body.items() if k != "usage"}, "status": "in_progress", "output": [],
               "incomplete_details": None}
    emit("response.created", response=opening)
    emit("response.in_progress", response=opening)
    for index, item in enumerate(body["output"]):
        where = {"item_id": item["id"], "output_index": index}
        kind = item["type"]
        if kind == "message":
            text = item["content"][0]["text"]
            emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []})
            emit("response.content_part.added", **where, content_index=0, part=_text_part(""))
            for piece in tokens.split(text):
                emit("response.output_text.delta", token=True, **where, content_index=0, delta=piece, logprobs=[])
            emit("response.output_text.done", **where, content_index=0, text=text, logprobs=[])
            emit("response.content_part.done", **where, content_index=0, part=item["content"][0])
        elif kind == "function_call":
            emit("response.output_item.added", output_index=index,
                 item={**item, "arguments": "", "status": "in_progress"})
            for piece in tokens.split(item["arguments"]):
                emit("response.function_call_arguments.delta", token=True, **where, delta=piece)
            emit("response.function_call_arguments.done", **where, name=item["name"], arguments=item["arguments"])
        else:  # custom_tool_call
            emit("response.output_item.added", output_index=index, item={**item, "input": "", "status": "in_progress"})
            for piece in tokens.split(item["input"]):
                emit("response.custom_tool_call_input.delta", token=True, **where, delta=piece)
            emit("response.custom_tool_call_input.done", **where, input=item["input"])
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.incomplete" if body["status"] == "incomplete" else "response.completed", response=body)
    return steps.steps
