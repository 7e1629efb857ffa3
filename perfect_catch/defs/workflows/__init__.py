"""Workflows: the sensors that turn events into runs, and the job that runs an instance."""
