"""Monitoring in Dagster: run sensors that record incidents, the healing sensor and job,
anomaly checks on the sync assets and the `monitoring/incidents` asset. All logic is in
`perfect_catch.monitoring`."""
