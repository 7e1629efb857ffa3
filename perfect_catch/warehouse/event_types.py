"""The business events dbt derives (`dbt_project/models/events/`), named once for Python.

dbt owns the events: one model per event type, all unioned into `events.workflow_events`. The
Python side (workflow triggers, template placeholders, tests) reads the names from here, and
`tests/dbt/test_event_types.py` fails when this list and the dbt project disagree.
"""

from __future__ import annotations

from typing import Literal, get_args

EventType = Literal[
    "estimate_created",
    "estimate_approved",
    "estimate_rejected",
    "job_created",
    "job_completed",
    "install_job_created",
    "invoice_created",
    "invoice_overdue",
    "appointment_created",
    "call_missed",
]
"""An event type: the name of its dbt model and its `event_type` in `workflow_events`."""

EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
"""Every event type, in the order dbt unions them into `workflow_events`."""
