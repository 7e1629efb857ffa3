"""Dagster wiring only, one folder per domain; the logic lives in the plain modules it calls."""
