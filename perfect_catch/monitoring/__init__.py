"""Monitoring: the platform watching itself.

Plain Python, callable from the CLI and from Dagster alike: failures become incidents (one per
root cause), each with a rule-based diagnosis (and optionally Claude's beside it), safe
automatic healing is taken and logged, operators are alerted once per incident, and `health`
summarises it all from PostgreSQL alone.
"""
