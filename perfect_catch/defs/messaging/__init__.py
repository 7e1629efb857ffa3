"""Messaging: the job that drains the outbox and the sensor that starts it when rows are due."""
