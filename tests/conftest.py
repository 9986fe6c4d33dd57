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


def shared(rel: str) -> Path:
    """A file under ../shared; the test fails clearly when ../shared is absent."""
    path = SHARED / rel
    assert path.is_file(), f"{path} missing: tests need ../shared beside the checkout"
    return path


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
