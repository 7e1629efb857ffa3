"""Integrations with GoHighLevel and CallRail: pulls into the warehouse, pushes from ST to GHL."""
