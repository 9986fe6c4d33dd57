"""The model registry: lazy, loads once under concurrency, 503 on missing or corrupt files."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time

import pytest

from api.engines import ppocr, tesseract
from api.errors import ModelUnavailable
from api.registry import Registry
from api.settings import Settings


def _counting(spec, calls: list):
    def factory(paths, settings):
        calls.append(threading.get_ident())
        time.sleep(0.2)  # widen the window in which racing requests arrive
        return spec.factory(paths, settings)
    return dataclasses.replace(spec, factory=factory)


def test_lazy_and_loaded_once_under_concurrency(settings):
    calls: list = []
    registry = Registry([_counting(ppocr.SPEC, calls)], settings)
    assert registry.status("ocr-ppocrv6")["status"] == "available"
    assert calls == []  # nothing loads at construction
    engines, barrier = [], threading.Barrier(8)

    def worker():
        barrier.wait()
        engines.append(registry.get("ocr-ppocrv6"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len({id(e) for e in engines}) == 1
    status = registry.status("ocr-ppocrv6")
    assert status["status"] == "loaded" and status["load_ms"] > 0
    quads, scores = engines[0].detect(
        __import__("numpy").full((64, 64, 3), 255, "uint8"))
    assert quads.shape == (0, 4, 2)  # a blank image has no text


def _copy_models(settings, tmp_path, spec):
    for rel in spec.files:
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f"{settings.models_dir}/{rel}", target)
    return dataclasses.replace(settings, models_dir=str(tmp_path))


def test_missing_file_is_503_naming_model_and_install(settings, tmp_path):
    local = _copy_models(settings, tmp_path, tesseract.SPEC)
    (tmp_path / tesseract.KOR).unlink()
    registry = Registry([tesseract.SPEC], local)
    assert registry.status("ocr-tesseract-kor")["status"] == "files missing"
    with pytest.raises(ModelUnavailable) as err:
        registry.get("ocr-tesseract-kor")
    assert err.value.status == 503
    assert "ocr-tesseract-kor" in err.value.detail and "make models" in err.value.detail
    assert str(tmp_path) not in err.value.detail


def test_corrupt_file_is_503(settings, tmp_path):
    local = _copy_models(settings, tmp_path, ppocr.SPEC)
    with open(tmp_path / ppocr.DET, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00" * 64)
    registry = Registry([ppocr.SPEC], local)
    with pytest.raises(ModelUnavailable, match="sha256"):
        registry.get("ocr-ppocrv6")


def test_preload_loads_named_models(settings):
    registry = Registry([ppocr.SPEC, tesseract.SPEC], settings)
    registry.preload("ocr-tesseract-kor, unknown-model")
    assert registry.status("ocr-tesseract-kor")["status"] == "loaded"
    assert registry.status("ocr-ppocrv6")["status"] == "available"


def test_settings_from_env():
    s = Settings.from_env({"PRISM_PORT": "9001", "PRISM_ALLOW_PRIVATE_URLS": "yes",
                           "PRISM_MAX_IMAGE_MP": "2.5", "PRISM_PROCESSES": "2"})
    assert (s.port, s.allow_private_urls, s.max_pixels) == (9001, True, 2_500_000)
    assert s.intra_op_threads >= 1
    with pytest.raises(ValueError, match="PRISM_PORT"):
        Settings.from_env({"PRISM_PORT": "eighty"})


def test_onnx_sessions_are_cpu_with_sized_threads(registry, settings):
    engine = registry.get("ocr-ppocrv6")
    parts = [engine.detector, engine.classifier,
             *(engine.recognizer_for(model) for model in ("fast", "accurate"))]
    for part in parts:
        session = part.session.session
        assert session.get_providers() == ["CPUExecutionProvider"]
        assert session.get_session_options().intra_op_num_threads == settings.intra_op_threads


def test_onnx_engines_share_one_base_with_cpu_sessions(registry, settings):
    from api.engines.onnx import OnnxEngine

    engines = [registry.get(name) for name in (
        "seal-text", "layout-cdla", "detect-yolox-nano", "matte-isnet", "stamp-embed")]
    engines += registry.get("stamp-det").members  # the fused stamp detectors
    engines += registry.get("ocr-ko-rec").members  # the fused Korean recognisers
    for engine in engines:
        assert isinstance(engine, OnnxEngine), engine
        assert engine.session.get_providers() == ["CPUExecutionProvider"]
        assert engine.session.get_session_options().intra_op_num_threads == \
            settings.intra_op_threads
        assert engine.input_names, engine


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is installed by make system")
def test_one_file_from_an_npm_package_is_fetched_and_verified(tmp_path):
    """The ``{"npm", "member"}`` source (how training/fonts.json names its fonts) takes one
    file out of the package's tarball, and a wrong sha256 leaves no file behind. The package
    is a local tarball, so no registry is contacted."""
    import hashlib
    import json
    import subprocess

    from api import modelfiles

    pkg = tmp_path / "pkg"
    (pkg / "fonts").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "prism-test-pkg", "version": "1.0.0"}))
    payload = bytes(range(256)) * 8
    (pkg / "fonts" / "a.ttf").write_bytes(payload)
    subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(tmp_path)], cwd=pkg,
                   check=True, stdout=subprocess.DEVNULL)
    tgz = tmp_path / "prism-test-pkg-1.0.0.tgz"
    entry = modelfiles.ModelFile(path="a.ttf", sha256=hashlib.sha256(payload).hexdigest(),
                                 size=len(payload), licence="OFL-1.1",
                                 source={"npm": str(tgz), "member": "package/fonts/a.ttf"})
    dest = tmp_path / "fonts"
    assert modelfiles.fetch_file(entry, dest, dest) == "fetched"
    assert (dest / "a.ttf").read_bytes() == payload
    assert modelfiles.fetch_file(entry, dest, dest) == "ok"
    wrong = dataclasses.replace(entry, path="b.ttf", sha256="0" * 64)
    with pytest.raises(RuntimeError, match="sha256"):
        modelfiles.fetch_file(wrong, dest, dest)
    assert not (dest / "b.ttf").exists()
