"""Imports the modules that register the gateway's semantic handlers."""
