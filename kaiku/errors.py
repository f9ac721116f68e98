"""The root of the services' errors (teams, cases, database, local engine, alerts)."""

from core.errors import KaikuError


class ServiceError(KaikuError):
    """Base error of the kaiku package."""
