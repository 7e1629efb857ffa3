"""Tables dbt reads that no asset materializes: the platform writes the outbox as it sends, and
a shop fills its marketing spend itself. Declared here so the lineage shows them as external
tables with a description instead of anonymous keys."""

import dagster as dg

from perfect_catch.defs.dbt.translator import INTEGRATION_SOURCES

outbox_table = dg.AssetSpec(
    key=INTEGRATION_SOURCES[("automation", "outbox")],
    description=(
        "Every message the platform queued, sent or suppressed (SMS and email), written by the "
        "workflows and the dispatcher as they run; the lead-response marts read the first "
        "outbound message per lead from it."
    ),
    group_name="messaging",
    kinds={"postgres"},
    metadata={"table": "automation.outbox", "written_by": "workflows and the outbox dispatcher"},
)

marketing_spend_table = dg.AssetSpec(
    key=INTEGRATION_SOURCES[("integrations", "marketing_spend")],
    description=(
        "Advertising spend per lead source and month, filled by the shop (SQL or its own "
        "import); the attribution mart divides it by sold jobs for the cost per sold job."
    ),
    group_name="integrations",
    kinds={"postgres"},
    metadata={"table": "integrations.marketing_spend", "written_by": "the shop"},
)
