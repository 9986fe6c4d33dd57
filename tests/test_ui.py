"""The web page in a real browser: Playwright driving Debian's Chromium against uWSGI."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from api.serve import running
from api.settings import REPO_ROOT

from .conftest import SHARED, TESTDATA

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="module")
def base():
    with running({"PRISM_PROCESSES": "2", "PRISM_JOB_WORKERS": "1"}) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "chromium is installed by `make test` (Debian package)"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, base):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(base + "/")
    page.wait_for_selector("#tabs button[data-tab=generate-text].unavailable")  # /models loaded
    yield page
    context.close()


def run(page, tab: str, path: Path, fill: dict | None = None):
    page.click(f"#tabs button[data-tab='{tab}']")
    page.set_input_files("#file", str(path))
    for selector, value in (fill or {}).items():
        page.fill(selector, value)
    page.click("#run")
    page.wait_for_selector("#result:not([hidden]), #error:not([hidden])", timeout=60_000)


def test_ocr_tab_draws_lines_and_text(page):
    run(page, "ocr", SHARED / "data/eval/ocr/tesseract_phototest.png",
        {"fieldset[data-for=ocr] input[name=min_score]": "0.5"})
    assert page.is_visible("#result")
    assert page.locator("#overlay rect").count() == 8
    assert "quick brown dog" in page.inner_text("#text")
    assert page.evaluate("document.getElementById('view').naturalWidth") == 640
    page.screenshot(path=str(ARTIFACTS / "ui_ocr.png"), full_page=True)


def test_extract_tab_draws_labelled_boxes(page):
    run(page, "extract", SHARED / "data/seeds/imgextract/test/samples/1.png")
    assert page.locator("#overlay rect").count() == 2
    assert page.locator("#overlay text").all_text_contents() == ["figure", "figure"]
    page.screenshot(path=str(ARTIFACTS / "ui_extract.png"), full_page=True)


def test_cut_tab_shows_cutout_over_checkerboard(page):
    run(page, "cut", TESTDATA / "photo_elephant.jpg",
        {"fieldset[data-for=cut] input[name=objects]": "elephant"})
    assert page.evaluate("document.getElementById('view').naturalWidth") == 610
    assert page.is_visible("#download") and "checker" in page.get_attribute("#stage", "class")
    assert "elephant" in page.inner_text("#items")
    page.screenshot(path=str(ARTIFACTS / "ui_cut.png"), full_page=True)


def test_stamps_tab_numbers_boxes_and_shows_similarity(page, tmp_path):
    """Two scans side by side at 150 dpi: the StaVer seal and the faktura's ZAPLATENÉ and
    ATLANTIS stamps give three numbered boxes and a 3 × 3 similarity table."""
    from PIL import Image

    scans = [Image.open(SHARED / f"data/eval/stamps/{n}").convert("RGB").resize((1240, 1754))
             for n in ("staver_image_2.png", "mullevik_stamps_faktura-237279.jpg")]
    both = Image.new("RGB", (2480, 1754), "white")
    both.paste(scans[0], (0, 0))
    both.paste(scans[1], (1240, 0))
    path = tmp_path / "two_scans.jpg"
    both.save(path, quality=90)
    run(page, "stamps", path)
    assert page.locator("#overlay rect").count() == 3
    assert page.locator("#overlay text").all_text_contents() == ["1", "2", "3"]
    assert page.locator("#heat td").count() == 9
    page.screenshot(path=str(ARTIFACTS / "ui_stamps.png"), full_page=True)


def test_stamps_text_check_box_turns_the_check_off(page):
    """On by default, as the spec says; unchecked, the request carries verify_text=false.
    Stamp2vec's page has one stamp either way."""
    doc = SHARED / "data/seeds/stamp2vec/tests/test_data/test_full_doc.jpeg"
    box = "fieldset[data-for=stamps] input[name=verify_text]"
    with page.expect_response(lambda r: r.url.endswith("/stamps")) as answer:
        run(page, "stamps", doc)
    assert page.is_checked(box) and "verify" in answer.value.json()["timings_ms"]
    assert page.locator("#overlay rect").count() == 1
    page.uncheck(box)
    with page.expect_response(lambda r: r.url.endswith("/stamps")) as answer:
        run(page, "stamps", doc)
    assert "verify" not in answer.value.json()["timings_ms"]  # the text check did not run
    assert page.locator("#overlay rect").count() == 1


def test_unavailable_endpoints_are_marked_not_broken(page):
    page.click("#tabs button[data-tab='generate-text']")  # Kosmos-2 weights not installed
    assert page.is_disabled("#run") and "not installed" in page.inner_text("#model")


def test_problem_json_is_shown_as_a_message(page, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    run(page, "ocr", bad)
    assert page.is_visible("#error")
    assert "Unsupported Media Type" in page.inner_text("#error")


def test_phone_width(browser, base):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(base + "/")
    page.wait_for_selector("#tabs button[data-tab=generate-text].unavailable")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no horizontal scrolling
    page.screenshot(path=str(ARTIFACTS / "ui_phone.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("path,files", [
    ("/ocr", ["data/eval/ocr/tesseract_phototest.png"]),
    ("/stamps/compare", ["data/eval/stamps/staver_image_2.png",
                         "data/seeds/stamp2vec/tests/test_data/test_cropped_stamp.png"]),
])
def test_swagger_try_it_out_with_only_files_works(browser, base, path, files):
    """Swagger UI sends every optional field empty (``dpi=``, ``min_score=`` …); with only
    the file parts chosen, Execute answers 200 (Connexion typed "" as a number: 400)."""
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto(base + "/ui/")
    page.wait_for_selector(".opblock-summary-path")
    op = page.locator(".opblock-post", has=page.locator(f'.opblock-summary-path[data-path="{path}"]'))
    op.locator(".opblock-summary").click()
    op.locator(".try-out__btn").click()
    inputs = op.locator("input[type=file]")
    assert inputs.count() == len(files)
    for i, rel in enumerate(files):
        inputs.nth(i).set_input_files(str(SHARED / rel))
    with page.expect_response(lambda r: r.url.endswith(path)) as answer:
        op.locator(".execute").click()
    assert answer.value.status == 200, answer.value.text()[:300]
    page.wait_for_selector(".live-responses-table")
    page.screenshot(path=str(ARTIFACTS / f"ui_swagger_{path.strip('/').replace('/', '_')}.png"))
    page.close()


def test_page_loads_without_errors_or_missing_files(browser, base):
    """Nothing the page asks for is missing (the favicon was a 404) and no console error."""
    context = browser.new_context()
    page = context.new_page()
    failed, errors = [], []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    page.wait_for_selector("#tabs button[data-tab=generate-text].unavailable")
    page.wait_for_load_state("networkidle")
    assert failed == [] and errors == []
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("favicon.svg")
    context.close()


def test_ocr_of_a_blank_image_says_no_text_found(page, tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), "white").save(blank)
    run(page, "ocr", blank)
    assert page.inner_text("#text") == "No text found."


def test_a_pdf_runs_as_a_background_job_with_progress_and_is_remembered(page, tmp_path):
    """A PDF on the OCR tab goes to POST /jobs: the page shows the job's progress, then the
    text of every page, and lists the job (kept in localStorage across a reload)."""
    import pymupdf

    src = SHARED / "data/eval/ocr/tesseract_phototest.png"
    doc = pymupdf.open()
    for _ in range(3):
        p = doc.new_page(width=640 * 72 / 100, height=480 * 72 / 100)
        p.insert_image(p.rect, filename=str(src))
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(doc.tobytes())
    page.click("#tabs button[data-tab='ocr']")
    page.select_option("fieldset[data-for=ocr] select[name=lang]", "en")
    page.set_input_files("#file", str(pdf))
    page.click("#run")
    page.wait_for_selector("#jobprogress:not([hidden])", timeout=30_000)
    page.wait_for_selector("#result:not([hidden]), #error:not([hidden])", timeout=180_000)
    assert page.is_hidden("#error"), page.inner_text("#error")
    text = page.inner_text("#text")
    assert text.count("12 point") == 3, text
    assert "finished" in page.text_content("#joblist") and "three.pdf" in page.text_content("#joblist")
    page.reload()
    page.wait_for_selector("#jobs:not([hidden])")
    assert "three.pdf" in page.text_content("#joblist")


def test_ocr_result_downloads_json_and_text_and_shows_timings(page):
    """After an OCR run the page offers the JSON and the text as files named after the input,
    and shows the stage timings."""
    run(page, "ocr", SHARED / "data/eval/ocr/tesseract_phototest.png")
    assert page.is_hidden("#error")
    with page.expect_download() as got:
        page.click("#download-json")
    download = got.value
    assert download.suggested_filename == "tesseract_phototest_ocr.json"
    body = json.loads(Path(download.path()).read_text())
    assert body["pages"][0]["lines"] and "timings_ms" in body
    with page.expect_download() as got:
        page.click("#download-text")
    assert got.value.suggested_filename == "tesseract_phototest.txt"
    assert "12 point" in Path(got.value.path()).read_text()
    assert "detect" in page.inner_text("#timings") and "ms" in page.inner_text("#timings")


def test_file_choice_by_keyboard_and_paste_and_url_exclusive(page):
    """Enter on the drop zone opens the file chooser; a pasted image becomes the input; typing
    a URL clears the chosen file (a file and a URL are never sent together)."""
    # The chooser itself is the browser's: count the clicks Enter and Space give the file
    # input (Playwright's filechooser event raced its own interception set-up in CI).
    page.evaluate("""() => { window.opened = 0;
        document.getElementById('file').addEventListener('click', (e) => {
            window.opened += 1; e.preventDefault(); }); }""")
    page.focus("#drop")
    page.keyboard.press("Enter")
    page.keyboard.press(" ")
    assert page.evaluate("window.opened") == 2
    page.focus("#url")
    page.keyboard.press("Enter")  # typing in the URL field is not a file choice
    assert page.evaluate("window.opened") == 2
    page.set_input_files("#file", str(SHARED / "data/eval/ocr/tesseract_phototest.png"))
    _until(page, "document.getElementById('chosen').textContent.includes('phototest')")
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array([137, 80, 78, 71])], "pasted.png", {type: "image/png"}));
        document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt}));
    }""")
    assert "pasted.png" in page.inner_text("#chosen") and page.is_visible("#clear")
    page.fill("#url", "https://example.org/a.png")
    assert page.inner_text("#chosen") == "" and page.is_hidden("#clear")
    assert page.is_hidden("#thumb")


def test_a_file_dropped_anywhere_is_chosen_and_previewed(page, tmp_path):
    """Dropped on the result area, not the drop zone: the image becomes the input with its
    thumbnail; a PDF's thumbnail is its first page rendered by the service."""
    photo = (SHARED / "data/eval/ocr/tesseract_phototest.png").read_bytes()
    page.evaluate("""(bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"}));
        const drop = new DragEvent("drop", {dataTransfer: dt, bubbles: true});
        document.querySelector("main").dispatchEvent(drop);
    }""", list(photo))
    assert "dropped.png" in page.inner_text("#chosen")
    _until(page, "document.getElementById('thumb').naturalWidth === 640")
    import pymupdf

    doc = pymupdf.open()
    doc.new_page(width=300, height=600)
    doc.new_page(width=300, height=600)
    pdf = tmp_path / "two.pdf"
    doc.save(pdf)
    page.set_input_files("#file", str(pdf))
    _until(page, "document.getElementById('chosen').textContent.includes('2 pages')")
    _until(page, "document.getElementById('thumb').naturalHeight === 160")
    assert page.evaluate("document.getElementById('thumb').naturalWidth") == 80
    page.click("#clear")
    assert page.is_hidden("#thumb") and page.inner_text("#chosen") == ""


def test_stamps_compare_mode_finds_the_same_stamp_and_not_another(page, tmp_path):
    """With a reference stamp the Stamps tab compares: a crop of one StaVer page's stamp
    matches the stamp on another StaVer page, and not the company stamp of the faktura."""
    from PIL import Image

    truth = json.loads((REPO_ROOT / "tests/data/stamps_truth.json").read_text())["pages"]
    first = "eval/stamps/staver_image_1.png"
    x1, y1, x2, y2 = truth[first][0]
    crop = tmp_path / "reference.png"
    Image.open(SHARED / "data" / first).convert("RGB").crop((x1, y1, x2, y2)).save(crop)
    page.click("#tabs button[data-tab='stamps']")
    page.set_input_files("#reference", str(crop))
    run(page, "stamps", SHARED / "data/eval/stamps/staver_image_2.png")
    assert page.is_hidden("#error"), page.inner_text("#error")
    assert page.inner_text("#caption").startswith("Match: stamp"), page.inner_text("#caption")
    assert "similarity" in page.inner_text("#items")
    page.screenshot(path=str(ARTIFACTS / "ui_stamps_compare.png"), full_page=True)
    run(page, "stamps", SHARED / "data/eval/stamps/mullevik_stamps_faktura-237279.jpg")
    assert page.inner_text("#caption").startswith("No match"), page.inner_text("#caption")


def _until(page, expression: str, timeout_s: float = 60) -> None:
    """Poll ``expression`` in the page until it is truthy (``wait_for_function`` evaluates a
    string, which the page's Content-Security-Policy forbids)."""
    import time

    end = time.monotonic() + timeout_s
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < end, f"timed out waiting for {expression}"
        time.sleep(0.1)


def _three_page_pdf(tmp_path, sources: list[Path], name: str, width_pt: float = 400) -> Path:
    """A PDF with one real image per page (each page the image's aspect ratio, JPEG)."""
    import io

    import pymupdf
    from PIL import Image

    doc = pymupdf.open()
    for src in sources:
        with Image.open(src) as im:
            w, h = im.size
            jpeg = io.BytesIO()
            im.convert("RGB").save(jpeg, "JPEG", quality=85)  # a scan's size, not a raw PNG's
        p = doc.new_page(width=width_pt, height=width_pt * h / w)
        p.insert_image(p.rect, stream=jpeg.getvalue())
    path = tmp_path / name
    path.write_bytes(doc.tobytes())
    return path


def test_pdf_pages_each_show_their_own_image_and_boxes(page, tmp_path):
    """A 3-page PDF on Extract and on Stamps: a pager, each page rendered by the service
    (POST /preview) with that page's own boxes and items."""
    samples = SHARED / "data/seeds/imgextract/test/samples"
    pdf = _three_page_pdf(tmp_path, [samples / "1.png", SHARED / "data/eval/ocr/tesseract_phototest.png",
                                     samples / "1.png"], "three.pdf", 595)
    page.click("#tabs button[data-tab='extract']")
    page.set_input_files("#file", str(pdf))
    page.click("#run")
    page.wait_for_selector("#result:not([hidden]), #error:not([hidden])", timeout=180_000)
    assert page.is_hidden("#error"), page.inner_text("#error")
    _until(page, "document.getElementById('pageinfo').textContent.includes('1 of 3')")
    assert page.is_visible("#pager")
    assert page.evaluate("document.getElementById('view').naturalWidth") > 0
    first = page.locator("#overlay rect").count()
    assert first >= 2  # page 1: the patent drawing's figures
    assert page.locator("#items li").count() == first
    page.screenshot(path=str(ARTIFACTS / "ui_pdf_extract_page1.png"), full_page=True)
    page.click("#next")
    _until(page, "document.getElementById('pageinfo').textContent.includes('2 of 3')")
    assert page.locator("#overlay rect").count() == 0  # page 2: text only
    assert "Nothing on page 2" in page.inner_text("#items")
    page.click("#next")
    _until(page, "document.getElementById('pageinfo').textContent.includes('3 of 3')")
    assert page.locator("#overlay rect").count() == first and page.is_disabled("#next")
    ratio = page.evaluate("(() => { const v = document.getElementById('view'); "
                          "return v.naturalWidth / v.naturalHeight; })()")
    from PIL import Image

    with Image.open(samples / "1.png") as im:
        assert abs(ratio - im.width / im.height) < 0.02  # the page itself, not a placeholder
    with page.expect_download() as got:
        page.click("#download-annotated")
    assert got.value.suggested_filename.endswith(".zip")  # several pages: a zip of PNGs
    with page.expect_download() as got:
        page.click("#download-zip")
    with zipfile.ZipFile(got.value.path()) as zf:
        assert any(n.endswith(".png") for n in zf.namelist())

    stamps = SHARED / "data/eval/stamps"
    pdf = _three_page_pdf(tmp_path, [stamps / "staver_image_2.png",
                                     SHARED / "data/eval/ocr/tesseract_phototest.png",
                                     stamps / "mullevik_stamps_faktura-237279.jpg"], "stamps.pdf", 595)
    run(page, "stamps", pdf)
    assert page.is_hidden("#error"), page.inner_text("#error")
    _until(page, "document.getElementById('pageinfo').textContent.includes('1 of 3')")
    assert page.locator("#overlay rect").count() == 1  # the StaVer seal
    page.click("#next")
    _until(page, "document.getElementById('pageinfo').textContent.includes('2 of 3')")
    assert page.locator("#overlay rect").count() == 0
    page.click("#next")
    _until(page, "document.getElementById('pageinfo').textContent.includes('3 of 3')")
    # the ZAPLATENÉ stamp at least (the detector misses ATLANTIS on this page alone, #26);
    # numbering goes on from page 1
    count = page.locator("#overlay rect").count()
    assert count >= 1
    assert page.locator("#overlay text").all_text_contents() == [str(2 + i) for i in range(count)]
    assert page.is_hidden("#before")  # before/after is Cut's alone
    page.screenshot(path=str(ARTIFACTS / "ui_pdf_stamps_page3.png"), full_page=True)
    with page.expect_download() as got:  # every page's stamp crops, rerun as a job
        page.click("#download-zip")
    assert got.value.suggested_filename == "stamps_stamps.zip"
    with zipfile.ZipFile(got.value.path()) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))["stamps"]
    assert [m["page"] for m in manifest] == [1] + [3] * count
    assert sorted(names) == sorted([m["file"] for m in manifest] + ["manifest.json"])


def test_cut_shows_before_with_boxes_and_after(page):
    run(page, "cut", SHARED / "data/eval/cut/ultralytics_bus.jpg",
        {"fieldset[data-for=cut] input[name=objects]": "person, bus"})
    assert page.is_hidden("#error"), page.inner_text("#error")
    assert page.is_visible("#before") and page.is_visible("#stage")
    assert page.is_hidden("#pager")  # one image: no pager
    assert page.locator("#boxes rect").count() >= 4
    assert "bus" in page.locator("#boxes text").all_text_contents()
    assert page.evaluate("document.getElementById('original').naturalWidth") == 810
    page.screenshot(path=str(ARTIFACTS / "ui_cut_before_after.png"), full_page=True)


def test_a_slow_request_shows_elapsed_time_and_can_be_canceled(page):
    page.click("#tabs button[data-tab='ocr']")
    page.set_input_files("#file", str(SHARED / "data/eval/ocr/tesseract_unlv_8087_054.3B.png"))
    page.select_option("fieldset[data-for=ocr] select[name=model]", "accurate")
    page.click("#run")
    page.wait_for_selector("#busy:not([hidden])")
    _until(page, "!['', '0 s'].includes(document.getElementById('elapsed').textContent)")
    page.click("#abort")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "Canceled." and page.is_hidden("#busy")


def test_stamps_embed_mode_returns_one_crops_embedding(page):
    page.click("#tabs button[data-tab='stamps']")
    page.check("#embed-only")
    run(page, "stamps", SHARED / "data/seeds/stamp2vec/tests/test_data/test_cropped_stamp.png")
    assert page.is_hidden("#error"), page.inner_text("#error")
    caption = page.inner_text("#caption")
    assert caption.startswith("Embedding: 1280 numbers") and "length 1.000" in caption
    with page.expect_download() as got:
        page.click("#download-json")
    body = json.loads(Path(got.value.path()).read_text())
    assert len(body["embedding"]) == body["dim"] == 1280


def test_the_page_warns_before_sending_what_the_service_would_refuse(page, tmp_path):
    """From GET /capabilities' limits and the PDF's page count (POST /preview): a PDF with
    more pages than one Stamps job takes is refused on the page, with the way out; choosing
    pages clears it; a file past the upload limit is never sent."""
    import pymupdf

    limits = page.evaluate("fetch('/capabilities').then((r) => r.json())")["limits"]
    doc = pymupdf.open()
    for _ in range(limits["max_pdf_pages"] + 1):
        doc.new_page(width=200, height=200)
    pdf = tmp_path / "long.pdf"
    doc.save(pdf)
    page.click("#tabs button[data-tab='stamps']")
    page.set_input_files("#file", str(pdf))
    _until(page, "document.getElementById('chosen').textContent.includes('pages')")
    assert f"{limits['max_pdf_pages'] + 1} pages" in page.inner_text("#chosen")
    hint = page.inner_text("#hint")
    assert f"at most {limits['max_pdf_pages']}" in hint and "PDF pages" in hint
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.click("#run")
    assert page.inner_text("#error") == hint and not sent
    page.fill("fieldset[data-for=stamps] input[name=pages]", "1-2")
    assert "background job" in page.inner_text("#hint")
    page.click("#tabs button[data-tab='ocr']")  # OCR splits a PDF: no page warning
    assert "background job" in page.inner_text("#hint")

    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(limits["max_upload_bytes"]))
    page.set_input_files("#file", str(big))
    assert "PRISM_MAX_UPLOAD_BYTES" in page.inner_text("#hint")
    page.click("#run")
    assert "PRISM_MAX_UPLOAD_BYTES" in page.inner_text("#error") and not sent


def test_each_tab_form_is_the_jobs_options_from_capabilities(page):
    """Every option a job declares (GET /capabilities), except the reply's form and JSON
    extras the page sets itself, is a control in its tab with the job's default, bounds and
    choices; Stamps' compare-only threshold comes from stamps-compare."""
    jobs = page.evaluate("fetch('/capabilities').then((r) => r.json())")["jobs"]
    page_set = {"mode", "format", "crops", "embeddings", "mask"}
    for job in jobs:
        tab = "stamps" if job["name"].startswith("stamps") else job["name"]
        for o in job["options"]:
            if o["name"] in page_set or job["name"] == "stamps-embed":
                continue
            fs = f"fieldset[data-for='{tab}']"
            got = page.evaluate(f"""() => [...document.querySelectorAll(
                "{fs} [name='{o['name']}']")].map((el) => ({{tag: el.tagName, type: el.type,
                value: el.value, checked: el.checked, min: el.min, max: el.max,
                choices: [...(el.options || [])].map((x) => x.value),
                only: Boolean(el.closest('[data-only]'))}}))""")
            assert got, (job["name"], o["name"])
            el = got[0]
            if o["type"] == "bool":
                assert el["type"] == "checkbox" and el["checked"] == o["default"]
            elif o["type"] == "names" and o.get("choices"):
                assert [g["value"] for g in got] == o["choices"]
                assert [g["checked"] for g in got] == [c in o["default"] for c in o["choices"]]
            elif o.get("choices"):
                assert el["tag"] == "SELECT" and el["choices"] == o["choices"]
                assert el["value"] == str(o["default"])
            else:
                assert el["value"] == ("" if o["default"] in (None, []) else str(o["default"]))
                if "minimum" in o:
                    assert float(el["min"]) == o["minimum"] and float(el["max"]) == o["maximum"]
            if job["name"] == "stamps-compare":
                stamps = next(j for j in jobs if j["name"] == "stamps")
                assert el["only"] == (o["name"] not in {x["name"] for x in stamps["options"]})
