"""Operations declared in the spec whose pipelines are not built yet: 501 problem+json."""

from __future__ import annotations

from ..errors import NotImplementedYet


def _pending(name: str):
    def handler(body=None, **_form):
        raise NotImplementedYet(f"POST /{name} is declared but not built yet in this version.")

    handler.__name__ = name.replace("-", "_")
    handler.__doc__ = f"POST /{name}: not built yet (501)."
    return handler


stamps = _pending("stamps")
