"""The ``--state redis://...`` URL: the mock's ``prefix`` parameter is its own; every other one reaches redis-py
as it was written."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from mockserver.backends.redis_store import DEFAULT_PREFIX, client_url


def test_the_prefix_is_taken_out_and_the_rest_kept_quoted():
    clean, prefix = client_url("redis://h:6379/0?password=a%26b%3Dc&prefix=team:&db=2&db=3")
    assert prefix == "team:"
    assert parse_qs(urlsplit(clean).query) == {"password": ["a&b=c"], "db": ["2", "3"]}
    assert clean.startswith("redis://h:6379/0?")


def test_without_a_prefix_the_default_one():
    assert client_url("redis://127.0.0.1:6379") == ("redis://127.0.0.1:6379", DEFAULT_PREFIX)
