"""``contract-tests``: the conformance suite's command line."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Conformance tests for Requesty-compatible LLM gateways."""
