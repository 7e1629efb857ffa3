"""ServiceTitan's status names, spelled once for Python as its API spells them.

The warehouse stores ServiceTitan's statuses as they arrive; every reader that filters on one
(the tools, the workflow checks, the GoHighLevel stage map) names it from here, in SQL as a
bound parameter. dbt names the same values in its staging tests (`accepted_values`) and models;
`tests/dbt/test_st_statuses.py` fails when the two disagree.
"""

from __future__ import annotations

from typing import Final


class EstimateStatus:
    """An estimate's `status`: open until sold or dismissed."""

    OPEN: Final = "Open"
    SOLD: Final = "Sold"
    DISMISSED: Final = "Dismissed"
    ALL: Final = (OPEN, SOLD, DISMISSED)


class JobStatus:
    """A job's `job_status`."""

    SCHEDULED: Final = "Scheduled"
    DISPATCHED: Final = "Dispatched"
    IN_PROGRESS: Final = "InProgress"
    HOLD: Final = "Hold"
    COMPLETED: Final = "Completed"
    CANCELED: Final = "Canceled"
    ALL: Final = (SCHEDULED, DISPATCHED, IN_PROGRESS, HOLD, COMPLETED, CANCELED)
    CLOSED: Final = (COMPLETED, CANCELED)
    """Nothing more is booked on a job in these."""


class AppointmentStatus:
    """An appointment's `status`."""

    SCHEDULED: Final = "Scheduled"
    DISPATCHED: Final = "Dispatched"
    WORKING: Final = "Working"
    HOLD: Final = "Hold"
    DONE: Final = "Done"
    CANCELED: Final = "Canceled"
    ALL: Final = (SCHEDULED, DISPATCHED, WORKING, HOLD, DONE, CANCELED)
    CLOSED: Final = (CANCELED, DONE)
    """An appointment in these is no longer ahead of anyone: it neither blocks a technician's
    time nor counts as the customer's next visit."""
