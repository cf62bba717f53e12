"""The HTTP API: Powertools routers per resource, one error-mapping module, the auth context."""
