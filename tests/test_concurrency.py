"""Thread safety: concurrent requests to one model give the same results as sequential ones
(RapidOCR keeps per-call state on its objects: RapidOCR issue #724)."""

from __future__ import annotations

import concurrent.futures

from .conftest import SHARED, TESTDATA

OCR_FILES = ["data/eval/ocr/tesseract_phototest.png", "data/eval/ocr/rapidocr_en_rec.jpg",
             "data/eval/ocr/tesseract_kor_line_048.png", "models/testdata/ocr_korean_line.jpg"]


def test_concurrent_ocr_equals_sequential(client):
    def ocr(rel):
        r = client.post("/ocr", files={"file": ("f", (SHARED / rel).read_bytes())})
        assert r.status_code == 200
        return [(line["text"], line["box"]) for line in r.json()["pages"][0]["lines"]]

    sequential = [ocr(rel) for rel in OCR_FILES]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        concurrent_runs = list(pool.map(ocr, OCR_FILES * 3))
    assert concurrent_runs == sequential * 3


def test_concurrent_cut_equals_sequential(client):
    data = (TESTDATA / "photo_car_person.jpg").read_bytes()

    def cut(objects):
        r = client.post("/cut", files={"file": ("c.jpg", data)}, data={"objects": objects})
        assert r.status_code == 200
        body = r.json()
        return body["image_base64"], [o["box"] for o in body["objects"]]

    sequential = [cut("car"), cut("person")]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(cut, ["car", "person"] * 2)) == sequential * 2
