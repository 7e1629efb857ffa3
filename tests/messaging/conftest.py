"""Fixtures of the messaging tests (defined in `messaging_world`)."""

from messaging_world import world

__all__ = ["world"]
