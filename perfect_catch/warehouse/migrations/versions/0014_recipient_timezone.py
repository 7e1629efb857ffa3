"""The recipient's time zone on each outbox row, and where it came from.

Quiet hours and daily caps are the recipient's local time, and the text's rendered times must be
in the same clock, so the zone is resolved once when the message is queued
(`perfect_catch.messaging.recipient_zone`) and kept on the row: `recipient_timezone` (an IANA
name) and `recipient_timezone_source` (workflow, caller, location coordinates, location state
(and zip), phone or tenant), so an operator can see why a message waited. Rows written before this
revision keep nulls and are measured in the tenant's zone, as before.

Revision ID: 0014_recipient_timezone
Revises: 0013_search_columns
"""

from __future__ import annotations

from alembic import op

revision = "0014_recipient_timezone"
down_revision = "0013_search_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "alter table automation.outbox add column recipient_timezone text,"
        " add column recipient_timezone_source text"
    )
    op.execute(
        "comment on column automation.outbox.recipient_timezone is"
        " 'IANA zone of the recipient: quiet hours, daily caps and rendered times use it'"
    )
    op.execute(
        "create index outbox_unknown_idx on automation.outbox (updated_at) where status = 'unknown'"
    )


def downgrade() -> None:
    op.execute("drop index if exists automation.outbox_unknown_idx")
    op.execute(
        "alter table automation.outbox drop column recipient_timezone,"
        " drop column recipient_timezone_source"
    )
