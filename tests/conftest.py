"""Shared fixtures: real models from models/, real inputs from ../shared."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from api.app import create_app
from api.engines import ALL_SPECS
from api.registry import Registry
from api.settings import REPO_ROOT, Settings

SHARED = REPO_ROOT.parent / "shared"
OCR_EVAL = SHARED / "data" / "eval" / "ocr"
TESTDATA = SHARED / "models" / "testdata"
TRUTH = json.loads((REPO_ROOT / "tests" / "data" / "ocr_truth.json").read_text())


MISSING_SHARED = ("../shared is missing: the tests read real inputs and training data from "
                  "a ../shared folder beside the checkout (see README, 'The two commands')")
#: Test modules that need nothing from ../shared (they still run without it).
SHARED_FREE = {"test_deploy.py", "test_docs.py", "test_jobs.py", "test_registry.py",
               "test_schema.py"}


def shared(rel: str) -> Path:
    """A file under ../shared. Without ../shared the calling test (or module, at import) is
    skipped with :data:`MISSING_SHARED`; with it, a missing file fails the test."""
    if not SHARED.is_dir():
        pytest.skip(MISSING_SHARED, allow_module_level=True)
    path = SHARED / rel
    assert path.is_file(), f"{path} missing from ../shared"
    return path


def pytest_collection_modifyitems(config, items):
    """Without ../shared, every test outside :data:`SHARED_FREE` is skipped with a message
    instead of failing on a missing file."""
    if SHARED.is_dir():
        return
    skip = pytest.mark.skip(reason=MISSING_SHARED)
    for item in items:
        if item.path.name not in SHARED_FREE:
            item.add_marker(skip)


def png_bytes(image: Image.Image, **save) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **save)
    return buf.getvalue()


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env({})


@pytest.fixture(scope="session")
def registry(settings) -> Registry:
    return Registry(ALL_SPECS, settings)


@pytest.fixture(scope="session")
def app(settings, registry):
    return create_app(settings, registry)


@pytest.fixture(scope="session")
def client(app):
    with app.test_client() as c:
        yield c


@pytest.fixture()
def make_client(registry):
    """Build a client whose settings differ from the defaults (same loaded models)."""
    def factory(fresh_registry: bool = False, **changes):
        s = dataclasses.replace(Settings.from_env({}), **changes)
        reg = Registry(ALL_SPECS, s) if fresh_registry else registry
        return create_app(s, reg).test_client()
    return factory
