"""Token usage and cost on a chat completion."""

from __future__ import annotations

import math

from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import number, usage_of
from contract_tests.results import MUST

OP = "POST /chat/completions"
USAGE_COST = "Usage.cost ('Requesty USD cost for the request')"
CHANGELOG = "Requesty changelog: usage.cost on every response"
PER_MILLION = 1_000_000


def _chat(ctx: CheckContext, **extra) -> dict:
    return ctx.http.chat_json(ctx.catalog.chat_model(), **extra)


def total_is_sum(ctx: CheckContext) -> None:
    usage = usage_of(_chat(ctx), OP)
    parts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    expect(all(number(p) for p in parts), f"usage: received {usage}, documented three token counts")
    prompt, completion, total = parts
    expect(total == prompt + completion, f"usage: total_tokens {total} != prompt_tokens {prompt} + "
                                         f"completion_tokens {completion}")


def cost_present(ctx: CheckContext) -> None:
    usage = usage_of(_chat(ctx), OP)
    cost = usage.get("cost")
    expect(number(cost), f"usage: received {usage}, documented a numeric usage.cost")
    expect(cost >= 0 and math.isfinite(cost), f"usage.cost: received {cost}, documented a non-negative amount")


def cost_matches_prices(ctx: CheckContext) -> None:
    body = _chat(ctx)
    usage = usage_of(body, OP)
    model = ctx.catalog.model(ctx.catalog.chat_model()) or ctx.catalog.model(str(body.get("model")))
    if model is None or not (number(model.get("input_price")) and number(model.get("output_price"))):
        raise CheckSkipped("GET /models lists no prices for the model used: the cost cannot be checked "
                           "(see models.prices_listed)")
    prompt, completion, cost = usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("cost")
    if not (number(prompt) and number(completion) and number(cost)):
        raise CheckFailed(f"usage: received {usage}, documented token counts and cost")
    expected = (prompt * model["input_price"] + completion * model["output_price"]) / PER_MILLION
    if math.isclose(cost, expected, rel_tol=1e-6, abs_tol=1e-12):
        return
    per_token = prompt * model["input_price"] + completion * model["output_price"]
    hint = " (it matches the prices read per token: /models prices are per token, documented per million)" \
        if math.isclose(cost, per_token, rel_tol=1e-6) else ""
    raise CheckFailed(f"usage.cost: received {cost}, documented {expected:.12g} from {model['id']} prices "
                      f"{model['input_price']}/{model['output_price']} per million tokens{hint}")


def max_tokens_honoured(ctx: CheckContext) -> None:
    cap = 3
    body = _chat(ctx, max_tokens=cap)
    usage = usage_of(body, f"{OP} (max_tokens {cap})")
    completion = usage.get("completion_tokens")
    expect(number(completion) and completion <= cap,
           f"usage.completion_tokens: received {completion}, documented at most max_tokens={cap}")
    reason = ((body.get("choices") or [{}])[0] or {}).get("finish_reason")
    if completion == cap:
        expect(reason in ("length", "stop"), f"finish_reason at the cap: received {reason!r}, documented 'length'")


CHECKS = [
    Check("usage.total_is_sum", total_is_sum, OP, MUST,
          source="OpenAI API reference: Chat Completions (usage); spec/requesty-openapi.yml: Usage",
          reason="total_tokens = prompt_tokens + completion_tokens: clients bill and budget on it."),
    Check("usage.cost_present", cost_present, OP, MUST, source=f"spec/requesty-openapi.yml: {USAGE_COST}; {CHANGELOG}",
          reason="Requesty reports the USD cost of each request; it is never negative."),
    Check("usage.cost_matches_prices", cost_matches_prices, OP, MUST,
          source=f"spec/requesty-openapi.yml: Model.input_price, Model.output_price ('price per million tokens in USD'), "
                 f"{USAGE_COST}; {CHANGELOG}",
          reason="cost = prompt_tokens x input_price / 1e6 + completion_tokens x output_price / 1e6 for the model "
                 "/models lists."),
    Check("usage.max_tokens_honoured", max_tokens_honoured, OP, MUST,
          source="OpenAI API reference: Chat Completions (max_tokens); "
                 "spec/requesty-openapi.yml: CreateChatCompletionRequest.max_tokens",
          reason="A completion never has more tokens than max_tokens asked for; at the cap it ends with 'length'."),
]
