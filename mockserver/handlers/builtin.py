"""Imports the modules that register the gateway's semantic handlers."""

from mockserver.handlers import inference  # noqa: F401  (registers on import)
