"""The mockserver command line: thin over plain functions, one clear line on bad input."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from mockserver.cli import main
from tests import mock_process


def test_help_lists_every_option():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--seed", "--spec", "--overlay", "--api-key", "--max-body", "--max-headers",
                   "--body-timeout"):
        assert option in result.output


def test_broken_spec_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("openapi: 3.0.1\ninfo: {title: t}\npaths: {}\n")
    result = CliRunner().invoke(main, ["serve", "--spec", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mockserver: error:") and "bad.yml" in lines[0]


def test_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert result.output.strip() == f"mockserver: error: port {port} on 127.0.0.1 is already in use; pick another with --port"


def test_serve_prints_url_and_key_answers_and_stops_on_ctrl_c():
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--api-key", "k-test"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        url = lines[1].split("base URL:")[1].strip()
        assert lines[2].split("admin key:")[1].strip() == "k-test"
        assert lines[3].split()[:2] == ["inspector:", url.removesuffix("/v1") + "/__mock/"]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        for _ in range(50):
            try:
                response = httpx.get(f"{url}/models", headers={"Authorization": "Bearer k-test"})
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.status_code == 200
        assert time.monotonic() - started < 10
    finally:
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_served_mock_on_a_loopback_port(serve):
    mock = serve(api_key="k2")
    assert mock.url.startswith("http://127.0.0.1:") and mock.url.endswith("/v1")
    response = httpx.get(f"{mock.url}/models", headers={"Authorization": "Bearer k2"})
    assert response.status_code == 200


def test_help_lists_the_fault_options():
    result = CliRunner().invoke(main, ["serve", "--help"])
    for option in ("--scenario", "--latency-ms", "--error-rate", "--rpm", "--tpm"):
        assert option in result.output


def test_bad_scenario_is_one_line_naming_the_place_and_exit_2(tmp_path):
    bad = tmp_path / "chaos.yml"
    bad.write_text("errors:\n  - status: 503\n    rate: 1.5\n")
    for args in (["--scenario", str(bad)], ["--scenario", str(tmp_path / "missing.yml")], ["--error-rate", "503"]):
        result = CliRunner().invoke(main, ["serve", *args])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("mockserver: error:"), result.output
    result = CliRunner().invoke(main, ["serve", "--scenario", str(bad)])
    assert result.output.strip() == f"mockserver: error: {bad}: /errors/0/rate: 1.5 is greater than the maximum of 1"


def test_serve_with_a_routing_config_answers_its_policies_and_aliases():
    with mock_process.served("--api-key", "k-test", "--config", "examples/routing.yml") as (proc, url):
        headers = {"Authorization": "Bearer k-test"}
        for model, served in (("policy/my-fallback", "openai/gpt-4o"),
                              ("coding/eu", "anthropic/claude-sonnet-4-20250514@eu-central-1")):
            answer = httpx.post(f"{url}/chat/completions", headers=headers,
                                json={"model": model, "messages": [{"role": "user", "content": "hi"}]})
            assert answer.status_code == 200 and answer.json()["model"] == served
    assert proc.returncode == 0


def test_help_lists_the_config_option():
    assert "--config" in CliRunner().invoke(main, ["serve", "--help"]).output
