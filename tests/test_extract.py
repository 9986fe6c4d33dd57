"""/extract on real pages: ImgExtract's patent samples, the eval pages, PDFs, every mode."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pymupdf
import pytest
from PIL import Image

from api.pipelines.extract import ExtractPipeline
from api.vision import box_iou

from .conftest import SHARED, rgb, shared
from .helpers import assert_problem

SAMPLES = SHARED / "data/seeds/imgextract/test/samples"
# What ImgExtract's own Detectron2 model found on its 7 sample pages.
ORIGINAL_COUNTS = {0: 1, 1: 2, 2: 3, 3: 1, 4: 1, 5: 2, 6: 1}


@pytest.fixture(scope="module")
def pipeline(registry):
    return ExtractPipeline(registry)


@pytest.fixture(scope="module")
def patent_results(pipeline):
    return {i: pipeline(rgb(shared(f"data/seeds/imgextract/test/samples/{i}.png")))
            for i in ORIGINAL_COUNTS}


def test_patent_counts_match_the_original_model(patent_results):
    assert {i: len(r.items) for i, r in patent_results.items()} == ORIGINAL_COUNTS


def test_patent_classes(patent_results):
    classes = {i: sorted(item.cls for item in r.items) for i, r in patent_results.items()}
    assert classes[1] == ["figure", "figure"]
    assert classes[2] == ["equation"] * 3
    assert classes[4] == ["table"] and classes[5] == ["table", "table"]
    assert classes[6] == ["equation"]


def test_front_page_gives_its_small_drawing_not_the_page(patent_results):
    page = patent_results[0]
    (item,) = page.items
    x1, y1, x2, y2 = item.box
    assert (x2 - x1) * (y2 - y1) < 0.1 * page.width * page.height
    assert x1 > page.width / 2  # the drawing sits in the right column


def test_two_neighbouring_drawings_are_separate(patent_results):
    top, bottom = sorted(patent_results[1].items, key=lambda i: i.box[1])
    assert top.box[3] < bottom.box[1]  # no overlap
    assert box_iou(top.box, bottom.box) == 0


def test_boxes_are_tight_to_ink(patent_results):
    for i, result in patent_results.items():
        image = rgb(shared(f"data/seeds/imgextract/test/samples/{i}.png"))
        gray = image.mean(2)
        for item in result.items:
            x1, y1, x2, y2 = (int(v) for v in item.box)
            assert 0 <= x1 < x2 <= result.width and 0 <= y1 < y2 <= result.height
            crop = gray[y1:y2, x1:x2]
            # ink (darker than paper) reaches within a few pixels of every edge
            for edge in (crop[:8], crop[-8:], crop[:, :8], crop[:, -8:]):
                assert edge.min() < 200, (i, item)


def test_equations_not_cut_short(patent_results):
    image = rgb(shared("data/seeds/imgextract/test/samples/2.png"))
    ink = image.mean(2) < 160
    for item in patent_results[2].items:
        x1, y1, x2, y2 = (int(v) for v in item.box)
        band = ink[y1:y2]
        # no ink touches the box from outside within 1% of the page width
        margin = int(0.01 * image.shape[1])
        assert not band[:, max(0, x1 - margin):x1 - 1].any()
        assert not band[:, x2 + 1:x2 + margin].any()


@pytest.mark.parametrize("name,expected", [
    ("publaynet_PMC3976938_00002.jpg", {"figure": 1, "table": 1}),
    ("publaynet_PMC5447509_00002.jpg", {"figure": 1}),
    ("publaynet_PMC5678782_00005.jpg", {"table": 1}),
    ("publaynet_PMC5624106_00000.jpg", {}),
    ("doclayoutyolo_textbook.jpg", {"figure": 1, "equation": 4}),
])
def test_eval_pages(pipeline, name, expected):
    result = pipeline(rgb(shared(f"data/eval/extract/{name}")))
    counts: dict[str, int] = {}
    for item in result.items:
        counts[item.cls] = counts.get(item.cls, 0) + 1
    assert counts == expected


@pytest.mark.parametrize("name", ["doclayoutyolo_textbook.jpg",
                                  "publaynet_PMC3976938_00002.jpg"])
def test_pages_scanned_sideways_give_what_the_upright_page_gives(pipeline, name):
    """The layout model learnt upright pages: turned a quarter, the textbook page lost its
    four equations and the PubLayNet page its table (and gained a second figure); upside
    down, the textbook page read six equations and no figure, the PubLayNet page two
    figures. The page is now turned upright first (api/orientation.py) and its regions come
    back in the frame of the page as sent: the upright page's regions, turned with it."""
    page = rgb(shared(f"data/eval/extract/{name}"))
    upright = pipeline(page)
    h, w = page.shape[:2]
    for turns in (1, 2, 3):
        turned = np.ascontiguousarray(np.rot90(page, -turns))
        found = pipeline(turned)
        assert (found.width, found.height) == (turned.shape[1], turned.shape[0])
        assert found.as_dict()["rotation"] == 90 * turns
        assert sorted(i.cls for i in found.items) == sorted(i.cls for i in upright.items)
        for item in upright.items:
            x1, y1, x2, y2 = item.box
            box = {1: [h - y2, x1, h - y1, x2], 2: [w - x2, h - y2, w - x1, h - y1],
                   3: [y1, w - x2, y2, w - x1]}[turns]
            best = max(box_iou(box, other.box) for other in found.items if other.cls == item.cls)
            assert best >= 0.9, (turns, item.cls, box)


def test_classes_and_min_score_filter(pipeline):
    image = rgb(shared("data/eval/extract/publaynet_PMC3976938_00002.jpg"))
    assert [i.cls for i in pipeline(image, classes=("table",)).items] == ["table"]
    assert pipeline(image, min_score=0.99).items == []


# --- HTTP --------------------------------------------------------------------------------

def _page_pdf(paths) -> bytes:
    """A scanned-style PDF: each real page image fills one PDF page."""
    doc = pymupdf.open()
    for path in paths:
        image = Image.open(path).convert("L")
        jpeg = io.BytesIO()
        image.save(jpeg, "JPEG", quality=90)
        page = doc.new_page(width=image.width * 72 / 300, height=image.height * 72 / 300)
        page.insert_image(page.rect, stream=jpeg.getvalue())
    return doc.tobytes(deflate=True)


def test_http_json_with_crops_and_several_files(client):
    files = [("file", (f"{i}.png", (SAMPLES / f"{i}.png").read_bytes())) for i in (1, 6)]
    r = client.post("/extract", files=files, data={"crops": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["filename"] for f in body["files"]] == ["1.png", "6.png"]
    items = body["files"][0]["pages"][0]["items"]
    assert len(items) == 2
    crop = Image.open(io.BytesIO(__import__("base64").b64decode(items[0]["crop"])))
    x1, y1, x2, y2 = items[0]["box"]
    assert crop.size == (round(x2) - int(x1), round(y2) - int(y1))


def test_http_scanned_pdf_pages(client):
    pdf = _page_pdf([SAMPLES / "5.png", SAMPLES / "2.png", SAMPLES / "4.png"])
    r = client.post("/extract", files={"file": ("patents.pdf", pdf)},
                    data={"pages": "1-2", "dpi": "150"})
    assert r.status_code == 200, r.text
    pages = r.json()["files"][0]["pages"]
    assert [p["page"] for p in pages] == [1, 2]
    assert [sorted(i["class"] for i in p["items"]) for p in pages] == [
        ["table", "table"], ["equation"] * 3]
    assert pages[0]["width"] == round(2479 * 150 / 300)


def test_born_digital_pdf_table_and_image(client):
    """A PDF built with a real photo and a ruled text table: both come back, and the boxes
    agree with where the PDF put them."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 60), "Results of the survey", fontsize=16)
    photo = pymupdf.Rect(72, 90, 372, 315)
    page.insert_image(photo, filename=str(SHARED / "models/testdata/photo_car_person.jpg"))
    top, rows, cols = 400, 6, [72, 200, 330, 460]
    for r in range(rows + 1):
        page.draw_line((cols[0], top + 24 * r), (cols[-1], top + 24 * r))
    for x in cols:
        page.draw_line((x, top), (x, top + 24 * rows))
    for r in range(rows):
        for c, x in enumerate(cols[:-1]):
            page.insert_text((x + 6, top + 24 * r + 16), f"cell {r}.{c}" if r else f"Col {c}",
                             fontsize=10)
    r = client.post("/extract", files={"file": ("digital.pdf", doc.tobytes())},
                    data={"dpi": "100"})
    assert r.status_code == 200, r.text
    items = r.json()["files"][0]["pages"][0]["items"]
    by_class = {i["class"]: i for i in items}
    s = 100 / 72
    assert box_iou(by_class["figure"]["box"], [v * s for v in photo]) > 0.8
    table_pt = [cols[0], top, cols[-1], top + 24 * rows]
    assert box_iou(by_class["table"]["box"], [v * s for v in table_pt]) > 0.8


def test_http_annotated_png_and_zip(client):
    one = client.post("/extract", files={"file": ("1.png", (SAMPLES / "1.png").read_bytes())},
                      data={"mode": "annotated"})
    assert one.status_code == 200 and one.headers["content-type"] == "image/png"
    drawn = np.asarray(Image.open(io.BytesIO(one.content)).convert("RGB"))
    original = rgb(SAMPLES / "1.png")
    assert drawn.shape == original.shape and (drawn != original).any()
    pdf = _page_pdf([SAMPLES / "5.png", SAMPLES / "6.png"])
    many = client.post("/extract", files={"file": ("p.pdf", pdf)},
                       data={"mode": "annotated", "dpi": "72"})
    assert many.headers["content-type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(many.content)).namelist() == ["p_p1.png", "p_p2.png"]


def test_http_zip_of_crops_is_never_empty_when_items_exist(client):
    r = client.post("/extract", files={"file": ("2.png", (SAMPLES / "2.png").read_bytes())},
                    data={"mode": "zip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    assert names == ["2_p1_equation_1.png", "2_p1_equation_2.png", "2_p1_equation_3.png",
                     "manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))["items"]
    assert [m["file"] for m in manifest] == names[:-1]
    for m in manifest:
        crop = Image.open(io.BytesIO(archive.read(m["file"])))
        assert crop.size[0] > 100 and crop.size[1] > 50


def test_http_json_image_base64(client):
    import base64

    data = base64.b64encode((SAMPLES / "4.png").read_bytes()).decode()
    r = client.post("/extract", json={"image_base64": data, "classes": ["table"]})
    assert r.status_code == 200
    assert [i["class"] for i in r.json()["files"][0]["pages"][0]["items"]] == ["table"]


def test_http_errors(client, make_client):
    png = (SAMPLES / "1.png").read_bytes()
    assert_problem(client.post("/extract", files={"file": ("a.png", png)},
                               data={"classes": "dog"}), 400)
    assert_problem(client.post("/extract", files={"file": ("a.png", png)},
                               data={"mode": "pdf"}), 400)
    assert_problem(client.post("/extract", json={"image_base64": "aGk=", "classes": ["cat"]}), 400)
    empty = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    assert_problem(client.post("/extract", files={"file": ("e.pdf", empty)}), 422)
    enc = pymupdf.open()
    enc.new_page()
    locked = enc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="x", owner_pw="y")
    assert_problem(client.post("/extract", files={"file": ("l.pdf", locked)}), 422)
    assert_problem(client.post("/extract", files={"file": ("c.pdf", b"%PDF-1.7 junk")}), 422)
    many = pymupdf.open()
    for _ in range(30):
        many.new_page(width=72, height=72)
    assert_problem(client.post("/extract", files={"file": ("m.pdf", many.tobytes())}), 413)
    assert_problem(client.post("/extract", files={"file": ("t.png", b"text")}), 415)
