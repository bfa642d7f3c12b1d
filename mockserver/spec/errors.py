"""The one error type of spec loading: a one-line message naming the place."""


class SpecError(Exception):
    """A spec or overlay that cannot be used, with the place that is wrong."""
