"""``contract-tests audit`` on recordings written here exchange by exchange: what it judges, what it names, what it
leaves unjudged and why, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from contract_tests.audit.offline import AuditOptions, audit
from contract_tests.checks import all_checks
from contract_tests.cli import main
from contract_tests.results import Outcome
from contract_tests.session import UsageError
from mockserver.recording import Chunk, RecordedExchange, RecordedRequest, RecordedResponse
from mockserver.recording.format import Header, dump_line, exchange_json
from mockserver.recording.har import write_har
from tests.gateways import MODELS

SECRET = "rq-secret-that-must-not-show-0042"
CHAT = {"model": "acme/tiny-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
JSON = (("content-type", "application/json"),)


def exchange(number: int, method: str, path: str, body: object, status: int, answer: object,
             headers=JSON, chunks: tuple[Chunk, ...] | None = None) -> RecordedExchange:
    data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
    request = RecordedRequest(method, path, "", (("host", "router.test"), ("authorization", "Bearer [REDACTED]"),
                                                ("content-type", "application/json")),
                              json.dumps(body).encode() if body is not None else b"")
    return RecordedExchange(number, request, RecordedResponse(status, headers, data, chunks, 1.0, 2.0))


def chat_answer(cost: float) -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "acme/tiny-chat",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12, "cost": cost}}


def stream_without_done() -> str:
    base = {"id": "s1", "object": "chat.completion.chunk", "created": 1, "model": "acme/tiny-chat"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "po"},
                                    "finish_reason": None}]},
              {**base, "choices": [{"index": 0, "delta": {"content": "ng"}, "finish_reason": "stop"}]}]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)


def traffic() -> list[RecordedExchange]:
    right = (10 * 0.1 + 2 * 0.2) / 1e6
    stream = stream_without_done()
    return [
        exchange(1, "GET", "/v1/models", None, 200, {"object": "list", "data": MODELS}),
        exchange(2, "POST", "/v1/chat/completions", CHAT, 200, chat_answer(right)),
        exchange(3, "POST", "/v1/chat/completions", CHAT, 200, chat_answer(right * 1e6)),  # per token, not per million
        exchange(4, "POST", "/v1/chat/completions", {**CHAT, "stream": True}, 200, stream,
                 (("content-type", "text/event-stream"),), (Chunk(1.0, stream.encode()),)),
        exchange(5, "GET", "/v1/models", None, 500, f"boom: sent Authorization: Bearer {SECRET}",
                 (("content-type", "text/plain"),)),  # a secret an answer echoes, which the recorder did not know
    ]


def write_recording(path: Path, exchanges: list[RecordedExchange]) -> Path:
    header = Header("https://router.test/v1", "2026-12-01T00:00:00Z", {}, {})
    path.write_bytes(dump_line(header.as_dict()) + b"".join(dump_line(exchange_json(e)) for e in exchanges))
    return path


def cell(result, check: str):
    return next(r for r in result.results if r.check == check)


def test_every_check_is_judged_from_traffic_or_says_why_not():
    for check in all_checks():
        assert (check.judge is None) != (not check.not_judged), check.name


def test_a_recording_is_judged_and_each_finding_names_its_exchange(tmp_path):
    recording = write_recording(tmp_path / "session.jsonl", traffic())
    result = audit(AuditOptions(str(recording)))
    cost = cell(result, "usage.cost_matches_prices")
    assert cost.outcome is Outcome.FAIL and cost.observations == 2
    finding = cost.findings[0]
    assert finding.message.startswith(f"{recording}:4: usage.cost")  # line 4: the header is line 1
    assert "matches the prices read per token" in finding.message
    assert finding.curl.startswith("curl -sS -X POST https://router.test/v1/chat/completions")
    assert "$REQUESTY_API_KEY" in finding.curl
    assert cell(result, "sse.done_last").findings[0].message.startswith(f"{recording}:5: stream: no `data: [DONE]`")
    assert cell(result, "sse.role_first").outcome is Outcome.PASS
    assert cell(result, "usage.total_is_sum").outcome is Outcome.PASS
    assert cell(result, "errors.error_shape").outcome is Outcome.FAIL
    server_error = next(r for r in result.results if r.check == "schema:not_a_server_error" and r.outcome is Outcome.FAIL)
    assert server_error.operation == "GET /models"
    assert result.exit_code == 1 and result.requests == 5


def test_what_traffic_cannot_judge_is_listed_with_the_reason(tmp_path):
    result = audit(AuditOptions(str(write_recording(tmp_path / "session.jsonl", traffic()))))
    limit = cell(result, "keys.limit_enforced")
    assert limit.outcome is Outcome.SKIP and limit.skip_reason.startswith("not judged from recorded traffic: ")
    assert "redacts credentials" in cell(result, "keys.created_key_authenticates").skip_reason
    assert "break the schema" in cell(result, "schema:negative_data_rejection").skip_reason
    assert cell(result, "embeddings.index_order").skip_reason == "no exchange in the traffic that it judges"
    assert any(note.startswith("keys.deleted_key_rejected is judged in part") for note in result.notes)


def test_a_har_file_is_audited_the_same_way(tmp_path):
    har = tmp_path / "session.har"
    write_har(traffic(), har, origin="https://router.test")
    result = audit(AuditOptions(str(har)))
    finding = cell(result, "sse.done_last").findings[0]
    assert finding.message.startswith(f"{har}#entries[3]: ")
    assert cell(result, "usage.cost_matches_prices").outcome is Outcome.FAIL


def test_the_command_writes_every_report_without_a_secret(tmp_path):
    recording = write_recording(tmp_path / "session.jsonl", traffic())
    reports = tmp_path / "reports"
    done = CliRunner().invoke(main, ["audit", str(recording), "--report-dir", str(reports)])
    assert done.exit_code == 1, done.output
    assert "does NOT conform" in done.output and "usage.cost_matches_prices" in done.output
    for name in ("report.json", "report.md", "report.html", "junit.xml", "run.log"):
        text = (reports / name).read_text()
        assert SECRET not in text
    assert "not judged from recorded traffic" in (reports / "report.md").read_text()
    report = json.loads((reports / "report.json").read_text())
    assert report["profile"] == "audit" and "boom: sent Authorization: Bearer [REDACTED]" in json.dumps(report)


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such recording file or directory"),
    ("not json\n", "not JSON"),
])
def test_an_unreadable_recording_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "broken.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=message):
        audit(AuditOptions(str(path)))
    done = CliRunner().invoke(main, ["audit", str(path), "--report-dir", str(tmp_path / "r")])
    assert done.exit_code == 2
    assert done.output.strip().startswith("contract-tests: error: ") and len(done.output.strip().splitlines()) == 1


def test_the_docs_table_says_what_the_code_judges():
    import re

    docs = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    rows = dict((m.group(1), (m.group(2), m.group(3)))
                for m in re.finditer(r"^\| `(\w+\.\w+)` \| (yes|no|in part) \| (yes|no) \|", docs, re.M))
    for check in all_checks():
        judge = check.judge
        recording = "no" if judge is None or judge.needs_credentials else "in part" if judge.in_part else "yes"
        assert rows[check.name] == (recording, "no" if judge is None else "yes"), check.name
