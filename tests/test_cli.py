"""python -m api on real files and folders."""

from __future__ import annotations

import json
import subprocess
import sys

from PIL import Image

from api.metrics import cer
from api.settings import REPO_ROOT

from .conftest import SHARED, TESTDATA, TRUTH


def run(*args, cwd=REPO_ROOT):
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_ocr_json_lines():
    rel = "data/eval/ocr/tesseract_kor_line_048.png"
    result = run("ocr", str(SHARED / rel), str(SHARED / "data/eval/ocr/rapidocr_en_rec.jpg"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    assert cer(lines[0]["pages"][0]["text"], TRUTH[rel]["text"]) <= 0.1
    assert "ocr" in result.stderr  # the progress bar


def test_cut_folder_to_out(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("photo_elephant.jpg", "photo_car_person.jpg"):
        (folder / name).write_bytes((TESTDATA / name).read_bytes())
    out = tmp_path / "out"
    result = run("cut", str(folder), "--objects", "elephant,car", "--out", str(out))
    assert result.returncode == 0, result.stderr
    png = Image.open(out / "photo_elephant.png")
    assert png.mode == "RGBA" and png.size == (610, 700)
    record = json.loads((out / "photo_car_person.json").read_text())
    assert [o["class"] for o in record["objects"]] == ["car"]


def test_extract_writes_crops(tmp_path):
    sample = SHARED / "data/seeds/imgextract/test/samples/1.png"
    result = run("extract", str(sample), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["1_p1_figure_1.png",
                                                              "1_p1_figure_2.png"]


def test_bad_input_is_reported_and_fails(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    result = run("ocr", str(bad))
    assert result.returncode == 1
    assert "error" in json.loads(result.stdout)


def test_models_verify():
    result = run("models", "verify")
    assert result.returncode == 0 and "ok\tocr/PP-OCRv6_det_small.onnx" in result.stdout


def test_stamps_writes_crops(tmp_path):
    """Two pages (the faktura's ZAPLATENÉ, a StaVer seal) at the detector's default
    threshold: one record each, a crop per stamp at its box's size, masks with --mask."""
    pages = [SHARED / "data/eval/stamps/mullevik_stamps_faktura-237279.jpg",
             SHARED / "data/eval/stamps/staver_image_2.png"]
    result = run("stamps", *map(str, pages), "--out", str(tmp_path), "--mask")
    assert result.returncode == 0, result.stderr
    records = [json.loads((tmp_path / f"{p.stem}.json").read_text()) for p in pages]
    assert [len(r["stamps"]) for r in records] == [1, 1]
    assert all(s["mask"] for r in records for s in r["stamps"])
    crops = sorted(tmp_path.glob("*_stamp_*.png"))
    assert len(crops) == 2
    record = records[0]
    x1, y1, x2, y2 = record["stamps"][0]["box"]
    w, h = Image.open(crops[0]).size
    assert abs(w - (x2 - x1)) <= 2 and abs(h - (y2 - y1)) <= 2
