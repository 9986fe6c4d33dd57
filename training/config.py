"""Trainer configs: one JSON file per recipe (``training/*.json``) plus command-line overrides.

Both trainers (:mod:`training.train_stamps`, :mod:`training.train_ocr_ko`) read their recipe
with :func:`load`, so ``--set key=value`` works alike for each and every default stays in the
recipe file.
"""

from __future__ import annotations

import json
from pathlib import Path


def overrides(items: list[str]) -> dict:
    """``["key=value", …]`` → ``{key: value}``, each value parsed as JSON (so strings are
    written ``name='"x"'`` in a shell). Raises ``ValueError`` for an item without ``=`` or a
    value that is not JSON."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects key=value, got {item!r}")
        out[key] = json.loads(value)
    return out


def load(path: Path, sets: list[str], smoke: bool) -> dict:
    """The recipe at ``path`` with its ``smoke`` block applied when ``smoke``, then the
    ``--set`` items (:func:`overrides`), which win over both. The ``smoke`` key itself is
    dropped."""
    config = json.loads(Path(path).read_text())
    smoke_values = config.pop("smoke", {})
    if smoke:
        config.update(smoke_values)
    config.update(overrides(sets))
    return config
