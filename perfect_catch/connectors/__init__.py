"""API clients of the systems Perfect Catch talks to: plain Python over httpx, no Dagster."""

from perfect_catch.connectors.http import ApiError, CallStats, Clock, ResilientClient, RetryPolicy
from perfect_catch.connectors.servicetitan import (
    ExportPage,
    ListPage,
    ServiceTitanClient,
    ServiceTitanError,
)

__all__ = [
    "ApiError",
    "CallStats",
    "Clock",
    "ExportPage",
    "ListPage",
    "ResilientClient",
    "RetryPolicy",
    "ServiceTitanClient",
    "ServiceTitanError",
]
