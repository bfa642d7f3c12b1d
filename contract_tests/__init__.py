"""The conformance suite for Requesty-compatible gateways."""
