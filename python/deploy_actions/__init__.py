"""deploy-actions: one artifact, one smoke check — locally, on stage and in production."""

__version__ = "0.1.0"
