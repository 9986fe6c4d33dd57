"""Connexion's hook for the spec's ``ApiKey`` scheme.

Enforcement happens earlier, in :class:`api.middleware.ApiKeyMiddleware`, so a request with a
wrong key never reaches request parsing; by the time Connexion asks, the key is known good.
"""

from __future__ import annotations


def api_key_info(key: str, required_scopes=None) -> dict:
    """Accept the key (the middleware already checked it). Returns Connexion's token info."""
    return {"sub": "api-key"}
