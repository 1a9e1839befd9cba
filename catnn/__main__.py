"""``python -m catnn``: the command line."""

from .cli import entry

entry()
