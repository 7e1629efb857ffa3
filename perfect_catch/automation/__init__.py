"""Customer-facing automation: workflows, their steps and the messages they send."""
