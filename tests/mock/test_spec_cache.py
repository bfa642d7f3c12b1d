"""The parsed-spec cache: keyed by the file's bytes, switchable off, never trusted over the file."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mockserver.cli import main
from mockserver.spec import loader, read_document
from tests.conftest import DATA


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(directory))
    monkeypatch.delenv("MOCKSERVER_NO_CACHE", raising=False)
    return directory


def _no_parsing(monkeypatch):
    def refuse(path, text):
        raise AssertionError("parsed although cached")

    monkeypatch.setattr(loader, "_parse", refuse)


def test_second_read_comes_from_the_cache(cache_dir, monkeypatch):
    first = read_document(DATA / "library.yml", cache=True)
    assert len(list(cache_dir.glob("*.marshal"))) == 1
    _no_parsing(monkeypatch)
    assert read_document(DATA / "library.yml", cache=True) == first


def test_a_changed_file_is_parsed_again(cache_dir, tmp_path):
    spec = tmp_path / "s.yml"
    spec.write_text("openapi: 3.1.0\nx: 1\n")
    assert read_document(spec, cache=True)["x"] == 1
    spec.write_text("openapi: 3.1.0\nx: 2\n")
    assert read_document(spec, cache=True)["x"] == 2


def test_switched_off_by_environment_and_corrupt_entries_ignored(cache_dir, monkeypatch):
    monkeypatch.setenv("MOCKSERVER_NO_CACHE", "1")
    read_document(DATA / "library.yml", cache=True)
    assert not cache_dir.exists()
    monkeypatch.delenv("MOCKSERVER_NO_CACHE")
    read_document(DATA / "library.yml", cache=True)
    (entry,) = cache_dir.glob("*.marshal")
    entry.write_bytes(b"not marshal")
    assert read_document(DATA / "library.yml", cache=True)["openapi"].startswith("3.")


def test_serve_uses_the_cache_unless_no_cache(cache_dir, monkeypatch):
    monkeypatch.setattr("mockserver.cli.serve", lambda config, host, port, **_: None)
    assert CliRunner().invoke(main, ["serve", "--spec", str(DATA / "library.yml"), "--no-cache"]).exit_code == 0
    assert not cache_dir.exists()
    assert CliRunner().invoke(main, ["serve", "--spec", str(DATA / "library.yml")]).exit_code == 0
    assert len(list(cache_dir.glob("*.marshal"))) == 1
