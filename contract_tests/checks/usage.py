"""Token usage and cost on a chat completion: judges of one JSON answer, and the active checks that ask for one."""

from __future__ import annotations

import math

from contract_tests.checks.catalog import expected_cost
from contract_tests.checks.check import Check
from contract_tests.checks.context import CheckContext
from contract_tests.checks.judge import History, Judge, judge_all
from contract_tests.checks.outcomes import CheckFailed, CheckSkipped, expect
from contract_tests.checks.values import number, usage_of
from contract_tests.results import MUST
from contract_tests.traffic import Seen

OP = "POST /chat/completions"
USAGE_COST = "Usage.cost ('Requesty USD cost for the request')"
CHANGELOG = "Requesty changelog: usage.cost on every response"


def is_chat_json(seen: Seen) -> bool:
    """A chat completion answered 200 without streaming."""
    return seen.label == OP and seen.status == 200 and not seen.asked_stream


def capped(seen: Seen) -> bool:
    cap = seen.asked("max_tokens")
    return is_chat_json(seen) and number(cap) and cap > 0


# -- judges ---------------------------------------------------------------------------------------------------------
def judge_total_is_sum(seen: Seen, history: History) -> None:
    usage = usage_of(seen.response_json, OP)
    parts = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    expect(all(number(p) for p in parts), f"usage: received {usage}, documented three token counts")
    prompt, completion, total = parts
    expect(total == prompt + completion, f"usage: total_tokens {total} != prompt_tokens {prompt} + "
                                         f"completion_tokens {completion}")


def judge_cost_present(seen: Seen, history: History) -> None:
    usage = usage_of(seen.response_json, OP)
    cost = usage.get("cost")
    expect(number(cost), f"usage: received {usage}, documented a numeric usage.cost")
    expect(cost >= 0 and math.isfinite(cost), f"usage.cost: received {cost}, documented a non-negative amount")


def judge_cost_matches_prices(seen: Seen, history: History) -> None:
    body = seen.response_json
    usage = usage_of(body, OP)
    model = history.model(seen.asked("model")) or history.model(body.get("model"))
    if model is None or not (number(model.get("input_price")) and number(model.get("output_price"))):
        raise CheckSkipped("GET /models lists no prices for the model used: the cost cannot be checked "
                           "(see models.prices_listed)")
    prompt, completion, cost = usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("cost")
    expected = expected_cost(model, usage)  # cache reads and writes at their own prices, when /models lists them
    if expected is None or not number(cost):
        raise CheckFailed(f"usage: received {usage}, documented token counts and cost")
    if math.isclose(cost, expected, rel_tol=1e-6, abs_tol=1e-12):
        return
    per_token = prompt * model["input_price"] + completion * model["output_price"]
    hint = " (it matches the prices read per token: /models prices are per token, documented per million)" \
        if math.isclose(cost, per_token, rel_tol=1e-6) else ""
    raise CheckFailed(f"usage.cost: received {cost}, documented {expected:.12g} from {model['id']} prices "
                      f"{model['input_price']}/{model['output_price']} per million tokens{hint}")


def judge_max_tokens_honoured(seen: Seen, history: History) -> None:
    cap = seen.asked("max_tokens")
    body = seen.response_json
    usage = usage_of(body, f"{OP} (max_tokens {cap})")
    completion = usage.get("completion_tokens")
    expect(number(completion) and completion <= cap,
           f"usage.completion_tokens: received {completion}, documented at most max_tokens={cap}")
    reason = ((body.get("choices") or [{}])[0] or {}).get("finish_reason")
    if completion == cap:
        expect(reason in ("length", "stop"), f"finish_reason at the cap: received {reason!r}, documented 'length'")


# -- the active checks -----------------------------------------------------------------------------------------------
def _judge_one(ctx: CheckContext, name: str, **extra) -> None:
    response = ctx.http.chat(ctx.catalog.chat_model(), **extra)
    ctx.http.ok(response, OP)
    judge_all(JUDGES[name], [ctx.seen(response)], History(catalog=ctx.catalog.models()))


def total_is_sum(ctx: CheckContext) -> None:
    _judge_one(ctx, "usage.total_is_sum")


def cost_present(ctx: CheckContext) -> None:
    _judge_one(ctx, "usage.cost_present")


def cost_matches_prices(ctx: CheckContext) -> None:
    _judge_one(ctx, "usage.cost_matches_prices")


def max_tokens_honoured(ctx: CheckContext) -> None:
    _judge_one(ctx, "usage.max_tokens_honoured", max_tokens=3)


JUDGES = {
    "usage.total_is_sum": Judge(is_chat_json, judge_total_is_sum),
    "usage.cost_present": Judge(is_chat_json, judge_cost_present),
    "usage.cost_matches_prices": Judge(is_chat_json, judge_cost_matches_prices),
    "usage.max_tokens_honoured": Judge(capped, judge_max_tokens_honoured),
}

CHECKS = [
    Check("usage.total_is_sum", total_is_sum, OP, MUST,
          source="OpenAI API reference: Chat Completions (usage); spec/requesty-openapi.yml: Usage",
          reason="total_tokens = prompt_tokens + completion_tokens: clients bill and budget on it.",
          judge=JUDGES["usage.total_is_sum"]),
    Check("usage.cost_present", cost_present, OP, MUST,
          source=f"spec/requesty-openapi.yml: {USAGE_COST}; {CHANGELOG}",
          reason="Requesty reports the USD cost of each request; it is never negative.",
          judge=JUDGES["usage.cost_present"]),
    Check("usage.cost_matches_prices", cost_matches_prices, OP, MUST,
          source=f"spec/requesty-openapi.yml: Model.input_price, Model.output_price ('price per million tokens in USD'), "
                 f"{USAGE_COST}; {CHANGELOG}",
          reason="cost = prompt_tokens x input_price / 1e6 + completion_tokens x output_price / 1e6 for the model "
                 "/models lists.", judge=JUDGES["usage.cost_matches_prices"]),
    Check("usage.max_tokens_honoured", max_tokens_honoured, OP, MUST,
          source="OpenAI API reference: Chat Completions (max_tokens); "
                 "spec/requesty-openapi.yml: CreateChatCompletionRequest.max_tokens",
          reason="A completion never has more tokens than max_tokens asked for; at the cap it ends with 'length'.",
          judge=JUDGES["usage.max_tokens_honoured"]),
]
