"""A documented operation the target lacks is said once, "not implemented on the target", and its checks skipped."""

from __future__ import annotations

from contract_tests.reporting import report_files
from contract_tests.results import Outcome
from contract_tests.runner import run
from contract_tests.session import Options
from tests.faults import missing
from tests.gateways import ADMIN_KEY, ReferenceGateway, mock_transport

LIVE_URL = "https://gateway.example/v1"
NEW_APIS = ("responses.*", "messages.*")


without_new_apis = missing("/responses", "/messages")  # a router of today


def test_missing_operations_skip_their_checks_with_one_note(tmp_path):
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(without_new_apis(
        ReferenceGateway())), include=NEW_APIS, allow_writes=True), *report_files(tmp_path))
    assert result.results and all(r.outcome is Outcome.SKIP for r in result.results), result.results
    reasons = {r.check: r.skip_reason for r in result.results}
    assert {reason.split(" (")[0] for reason in reasons.values()} == {
        "not implemented on the target: POST /responses", "not implemented on the target: POST /messages"}
    notes = [n for n in result.notes if n.startswith("not implemented on the target")]
    assert len(notes) == 2
    assert "POST /responses (answered 404); 7 check(s)" in notes[0] and "responses.stream_order" in notes[0]
    assert "POST /messages (answered 404); 5 check(s)" in notes[1] and "messages.error_shape" in notes[1]
    report = (tmp_path / "report.md").read_text()
    assert report.count("not implemented on the target: POST /responses (answered 404);") == 1


def test_the_same_checks_run_on_a_target_that_has_the_operations():
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(ReferenceGateway()),
                         include=NEW_APIS, allow_writes=True))
    assert [r for r in result.results if r.outcome is not Outcome.PASS] == []
    assert not [n for n in result.notes if "not implemented" in n]


def test_dead_and_wrong_keys_leave_out_what_the_target_lacks():
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(without_new_apis(
        ReferenceGateway())), include=("responses.stream_order", "messages.stream_grammar", "errors.wrong_key_401",
                                       "keys.dead_key_refused_everywhere"), allow_writes=True))
    outcomes = {r.check: r.outcome for r in result.results}
    assert outcomes["errors.wrong_key_401"] is Outcome.PASS
    assert outcomes["keys.dead_key_refused_everywhere"] is Outcome.PASS


def test_speech_transcription_and_image_checks_skip_on_a_target_without_them():
    result = run(Options(base_url=LIVE_URL, api_key=ADMIN_KEY, transport=mock_transport(missing(
        "/audio", "/images")(ReferenceGateway())), include=("speech.*", "transcription.*", "images.*"), allow_writes=True))
    assert len(result.results) == 8 and all(r.outcome is Outcome.SKIP for r in result.results), result.results
    assert {r.skip_reason.split(" (")[0] for r in result.results} == {
        f"not implemented on the target: {op}" for op in (
            "POST /audio/speech", "POST /audio/transcriptions", "POST /images/generations", "POST /images/edits")}
