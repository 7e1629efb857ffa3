"""Workflows: definitions in YAML, their conditions, the engine that runs them and its steps.

Above `tools` and `messaging`: a step may call a tool or queue a message.
"""
