"""Errors a tool raises on purpose, each with a message a model can act on.

A tool never lets a traceback or a secret reach its caller: the registry turns these into the
caller's error type (an MCP `ToolError`, an agent step's error result) and every other exception
into a generic message that names the tool, while the traceback stays in the server log.
"""

from __future__ import annotations


class ToolFailure(Exception):
    """Base of the errors a tool reports to its caller; the message is shown as is."""


class ToolInputError(ToolFailure):
    """The arguments are wrong (bad format, contradictory, unsafe): fix them and call again."""


class NotFoundError(ToolInputError):
    """Something the arguments point at does not exist (customer, job, technician, SKU...)."""


class ConflictError(ToolInputError):
    """The request is well formed but clashes with the current state (double booking, an
    estimate already sold)."""


class UpstreamError(ToolFailure):
    """ServiceTitan (or another provider) refused or failed the call; nothing was changed here."""


class ToolUnavailable(ToolFailure):
    """The tool cannot run in this deployment (missing configuration or endpoint)."""
