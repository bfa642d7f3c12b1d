"""Imports the modules that register the gateway's semantic handlers."""

from mockserver.handlers import inference, management, messages, responses  # noqa: F401  (they register on import)
