"""The MCP server of the platform: a thin front over `perfect_catch.tools`.

Its tools arrive with the MCP issue; the package exists so the layout is the one DESIGN.md names.
"""
