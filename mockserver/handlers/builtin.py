"""Imports the modules that register the gateway's semantic handlers."""

from mockserver.handlers import audio, images, inference, management  # noqa: F401  (they register on import)
