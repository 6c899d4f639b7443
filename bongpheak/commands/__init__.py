"""Command-line groups; each module exposes ``register(subparsers)`` and is found by ``bongpheak.cli``."""


class CommandError(Exception):
    """A problem the operator can fix; printed as one line, never as a traceback."""
