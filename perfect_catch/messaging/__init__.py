"""Outbound messages: the outbox, the dispatcher and its channels, consent, quiet hours and caps.

Below `tools` and `workflows`: a tool or a workflow step queues a message here and the dispatcher
sends it later; nothing in this package knows about workflows.
"""
