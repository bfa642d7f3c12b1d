"""Imports the modules that register the gateway's semantic handlers."""

from mockserver.handlers import management  # noqa: F401
