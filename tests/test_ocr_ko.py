"""Prism's Korean recogniser (ocr-ko-rec): its charset, its committed weights and card, the
training smoke run, and Korean scene text and document lines read through /ocr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from api.engines import korec
from api.metrics import cer
from api.settings import REPO_ROOT

from .conftest import SHARED, TRUTH, rgb, shared

MODEL_DIR = REPO_ROOT / "models" / "ocr-ko"
#: Signboard and word crops read to the issue's target (CER ≤ 0.10); before ocr-ko-rec they
#: came back as "B늘곰Eob" / "Ie 10 분 = 6 17" or empty. The curved 3-D sign (greengarnets_0)
#: and the faded 48-px word were read "p울대역" and "바랑으로" until the third member, trained
#: with arc-set and edge-cut crops, joined the fusion.
SCENE = ["data/eval/ocr/greengarnets_2.jpg", "data/eval/ocr/greengarnets_5.jpg",
         "data/eval/ocr/greengarnets_0.jpg", "data/eval/ocr/paddleocr_korean_word_1.jpg"]
DOCUMENT_LINES = ["data/eval/ocr/tesseract_kor_line_048.png",
                  "data/eval/ocr/tesseract_kor_line_064.png",
                  "models/testdata/ocr_korean_line.jpg"]


def test_charset_holds_every_ks_x_1001_syllable_and_round_trips(tmp_path):
    chars = korec.charset()
    hangul = [c for c in chars if "\uac00" <= c <= "\ud7a3"]
    assert len(hangul) == 2350 and len(set(chars)) == len(chars)
    assert {"가", "힝", " ", "A", "z", "0", "-"} <= set(chars)
    assert "똠" not in chars and "\ud7a3" not in chars  # outside KS X 1001's 2,350
    path = tmp_path / "charset.txt"
    korec.write_charset(path, chars)
    assert korec.read_charset(path) == chars
    assert korec.read_charset(MODEL_DIR / "charset.txt") == chars  # the committed one


def test_ctc_decoding_merges_repeats_and_drops_blanks():
    chars = ("a", "b")
    steps = [0, 1, 1, 0, 1, 2, 2, 0]  # blank a a blank a b b blank -> "aab"
    probs = np.full((1, len(steps), 3), 0.05, np.float32)
    for t, k in enumerate(steps):
        probs[0, t, k] = 0.9
    (text, score), = korec.ctc_decode(probs, chars)
    assert text == "aab" and score == pytest.approx(0.9)
    assert korec.ctc_decode(np.eye(3, dtype=np.float32)[[0, 0]][None], chars) == [("", 0.0)]


def test_preprocess_bounds_width_and_keeps_aspect():
    wide = np.zeros((10, 5000, 3), np.uint8)
    word = np.zeros((24, 96, 3), np.uint8)
    batch = korec.preprocess([wide, word])
    assert batch.shape == (2, 3, 48, korec.MAX_WIDTH) and batch.dtype == np.float32
    assert korec.input_width(24, 96) == 192
    assert batch[1, :, :, 192:].max() == 0 and batch.min() >= -1 and batch.max() <= 1


def _pool_valid(predicate) -> list[dict]:
    from training.train_ocr_ko import pool

    config = json.loads((REPO_ROOT / "training/ocr_ko.json").read_text())
    return [r for r in pool("valid", config["valid_percent"]) if predicate(r)]


def test_two_row_plates_are_split_between_their_rows_and_single_rows_are_not():
    plates = _pool_valid(lambda r: r["group"] == "generated plate")
    two_row = [r for r in plates if rgb(r["file"]).shape[:2] == (170, 336)]
    one_row = [r for r in plates if rgb(r["file"]).shape[:2] != (170, 336)]
    assert len(two_row) >= 20 and len(one_row) >= 20
    for row in two_row:
        top, bottom = korec.split_rows(rgb(row["file"]))
        assert 0.3 * 170 <= top.shape[0] <= 0.7 * 170 and top.shape[0] + bottom.shape[0] == 170
        line = korec.as_line(rgb(row["file"]))
        assert line.shape[0] == bottom.shape[0] and line.shape[1] > 336
    singles = one_row + _pool_valid(lambda r: r["group"] in ("syllable", "plate", "line"))
    assert not [r["file"] for r in singles if korec.split_rows(rgb(r["file"])) is not None]
    for rel in DOCUMENT_LINES + SCENE:
        assert korec.split_rows(rgb(shared(rel))) is None, rel


def test_two_row_plates_are_read_in_reading_order(registry):
    engine = registry.get("ocr-ko-rec")
    rows = [r for r in _pool_valid(lambda r: r["group"] == "generated plate")
            if rgb(r["file"]).shape[:2] == (170, 336)]
    read = engine.recognize([rgb(r["file"]) for r in rows])
    right = sum(text.replace(" ", "") == r["text"] for (text, _), r in zip(read, rows))
    assert right >= 0.9 * len(rows), [(t, r["text"]) for (t, _), r in zip(read, rows)][:5]


def test_two_row_plates_through_the_endpoint(client):
    rows = [r for r in _pool_valid(lambda r: r["group"] == "generated plate")
            if rgb(r["file"]).shape[:2] == (170, 336)
            and r["file"].rsplit("_", 1)[1][0] in "ABCDEFGHIJKLMNOP"][:4]  # region on top
    assert len(rows) == 4
    for row in rows:
        body = {"file": ("plate.jpg", open(row["file"], "rb").read())}
        ko = client.post("/ocr", files=body, data={"lang": "ko"}).json()["pages"][0]
        assert "".join(ko["text"].split()) == row["text"], ko["text"]
        auto = client.post("/ocr", files=body, data={"lang": "auto"}).json()["pages"][0]
        # PP-OCR reads a row's digits only ("80" for 서울80) at 0.99, or a syllable as a
        # sign ("÷7960" for 수7960); the Korean reader's reading replaces both
        assert "".join(auto["text"].split()) == row["text"], auto["text"]
        assert {line["engine"] for line in auto["lines"]} <= {"ocr-ko-rec", "tesseract"}


def test_hangul_skipped_by_ppocr_is_told_from_symbols_read_as_hangul():
    from api.pipelines.ocr import _skipped_hangul

    assert _skipped_hangul("02", "서울02") and _skipped_hangul("7471", "허 7471")
    assert not _skipped_hangul("4.5 ± 0.4", "45소04")  # ± read as 소 by ocr-ko-rec
    assert not _skipped_hangul("P(Bn) = 0.", "P(B,)드0.")
    assert not _skipped_hangul("SEOUL", "SEOUL")  # nothing added


def test_hangul_misread_by_ppocr_on_number_lines_is_told_from_measures():
    from api.pipelines.ocr import _misread_hangul, _numeric

    # plates of the pool's valid split as PP-OCR reads them, and the Korean reader's reading
    for latin, korean in (("6913333", "69고3333"), ("÷7960", "수7960"), ("N06", "울산06"),
                          ("332±8193", "332소8193"), ("090 5505", "09다5505"), ("210", "강원10")):
        assert _numeric(latin) and _misread_hangul(latin, korean), latin
    assert not _misread_hangul("6913333", "6913333")  # no Hangul: nothing misread
    # a plate's left band read as a letter in front of the number (kwon_0016.jpg)
    assert _misread_hangul("C0128813", "01오8813") and _numeric("C0128813")
    assert not _misread_hangul("CC0128813", "01오8813")  # one character more at most
    # a bolt at the plate's right edge read as a trailing digit (kwon_0013.jpg)
    assert _misread_hangul("83723921", "83라2392") and _numeric("83723921")
    assert not _misread_hangul("837239211", "83라2392")
    assert not _misread_hangul("2019 1234", "2019년 1235")  # another digit changed
    # a spaced sign is a measure, not a misread syllable (a PubLayNet table: "288 ± 51",
    # which ocr-ko-rec reads 288노51); words are not number lines either
    assert not _numeric("288 ± 51") and not _numeric("12 - 15")
    assert not _numeric("HYUNDAI") and not _numeric("7")


@pytest.mark.parametrize("name, plate", [("kwon_0016.jpg", "01오8813"),
                                         ("kwon_0013.jpg", "83라2392")])
def test_plate_with_a_character_more_in_ppocr_reads_in_auto_mode(client, name, plate):
    # PP-OCR reads kwon_0016's left band as "C" and its syllable as "2" ("C0128813"), and
    # kwon_0013's syllable as "7" with a bolt at the right edge as "1" ("83723921"): one
    # character more than the syllable can stand for. The Korean readers' reading now
    # replaces it, as with lang=ko.
    photo = SHARED / "data/train/ocr-ko/kwon-evan-plates" / name
    for lang in ("auto", "ko"):
        page = client.post("/ocr", files={"file": ("plate.jpg", photo.read_bytes())},
                           data={"lang": lang}).json()["pages"][0]
        assert "".join(page["text"].split()) == plate, (lang, page["text"])


def test_plates_read_in_auto_and_korean_mode(client):
    # Before number lines were checked, lang=auto returned PP-OCR's confident digits for a
    # plate's syllable and never asked the Korean readers: "6913333" for this real photo,
    # and 26 of the 98 generated plates of the valid split read right; and where they did
    # reach them, Tesseract's digits for the syllable ("682 8269" at 0.93) outranked
    # ocr-ko-rec's exact reading (0.9999). Now all 98 read right in both modes.
    photo = SHARED / "data/train/ocr-ko/kwon-evan-plates/kwon_0011.jpg"
    assert photo in {Path(r["file"]) for r in _pool_valid(lambda r: r["group"] == "plate")}
    page = client.post("/ocr", files={"file": ("plate.jpg", photo.read_bytes())},
                       data={"lang": "auto"}).json()["pages"][0]
    assert page["text"] == "69고3333", page["text"]
    assert {line["engine"] for line in page["lines"]} <= {"ocr-ko-rec", "tesseract"}
    plates = [r for r in _pool_valid(lambda r: r["group"] == "generated plate")
              if rgb(r["file"]).shape[:2] != (170, 336)][:20]  # one row
    assert len(plates) == 20
    for lang in ("auto", "ko"):
        right = 0
        for row in plates:
            body = {"file": ("plate.jpg", open(row["file"], "rb").read())}
            page = client.post("/ocr", files=body, data={"lang": lang}).json()["pages"][0]
            right += "".join(page["text"].split()) == row["text"]
        assert right >= 19, (lang, right)


def test_only_sparse_confident_lines_are_checked_for_skipped_hangul(client):
    from api.pipelines.ocr import _sparse

    assert _sparse("80", np.zeros((48, 170, 3), np.uint8))  # 서울80 read as "80"
    assert not _sparse("To facilitate the shot type analysis", np.zeros((30, 600, 3), np.uint8))
    from api.pipelines.ocr import SKIP_CHECK_DENSITY

    # no confident line of an English page is sparse, so auto mode does not re-read it
    page = client.post("/ocr", files={"file": ("p.png", shared(
        "data/eval/ocr/tesseract_phototest.png").read_bytes())}, data={"lang": "en"}).json()
    for line in page["pages"][0]["lines"]:
        x1, y1, x2, y2 = line["box"]
        assert len("".join(line["text"].split())) >= SKIP_CHECK_DENSITY * (x2 - x1) / (y2 - y1)


#: The fused members: name → the config keys their run set over training/ocr_ko.json
#: (``make train-ocr-ko``, ``make train-ocr-ko-fonts``, ``make train-ocr-ko-arc``).
MEMBERS = {"ocr_ko_rec": {},
           "ocr_ko_rec_fonts": {"name": "ocr_ko_rec_fonts", "fonts": "training/fonts.json",
                                "steps": 16000, "eval_every": 2000, "time_limit_s": 5100,
                                "width_quantum": 40, "bf16": True, "compile": True},
           "ocr_ko_rec_arc": {"name": "ocr_ko_rec_arc", "fonts": "training/fonts.json",
                              "seed": 13, "arc": 0.35, "cut": 0.1, "steps": 16000,
                              "eval_every": 2000, "time_limit_s": 4800, "width_quantum": 40,
                              "bf16": True, "compile": True}}


@pytest.mark.parametrize("name", MEMBERS)
def test_committed_members_are_verified_and_match_their_cards(registry, name):
    card = json.loads((MODEL_DIR / f"{name}.json").read_text())
    assert f"ocr-ko/{name}.onnx" in korec.MEMBERS and card["model"] == f"ocr-ko/{name}.onnx"
    assert (MODEL_DIR / f"{name}.onnx").stat().st_size == card["bytes"] <= 20 * 2 ** 20
    assert card["config"] == {k: v for k, v in json.loads(
        (REPO_ROOT / "training/ocr_ko.json").read_text()).items() if k != "smoke"} | MEMBERS[name]
    assert card["charset"]["classes"] == len(korec.charset()) + 1
    status = registry.status("ocr-ko-rec")
    assert {f["path"] for f in status["files"]} == {*korec.MEMBERS, "ocr-ko/charset.txt"}
    engine = registry.get("ocr-ko-rec")  # loading checks every sha256 against the manifest
    assert isinstance(engine, korec.KoreanRecognizer) and len(engine.members) == len(MEMBERS)


def test_ctc_log_likelihood_is_torchs_ctc_loss_negated():
    """One model and one text at a time, frames short and long, an empty text."""
    import torch

    for frames, labels in ((10, [1, 1, 3]), (20, []), (30, [2, 5, 5, 1, 6, 2]), (1, [4])):
        log_probs = torch.randn(frames, 1, 7, generator=torch.Generator().manual_seed(frames))
        log_probs = log_probs.log_softmax(-1)
        loss = torch.nn.functional.ctc_loss(
            log_probs, torch.tensor([labels], dtype=torch.long), torch.tensor([frames]),
            torch.tensor([len(labels)]), reduction="sum")
        ours = korec.ctc_log_likelihoods(log_probs[:, 0].double().exp().numpy()[None],
                                           [labels])[0, 0]
        assert ours == pytest.approx(-loss.item(), rel=1e-5)
    assert korec.ctc_log_likelihoods(np.full((1, 3, 4), 0.25), [[1, 1, 1]])[0, 0] == -np.inf


def test_ctc_log_likelihoods_score_every_model_and_text_at_once():
    """The batched forward pass (as rescore runs it) equals torch's CTC loss, negated, for
    each (model, text) pair, over frames long enough to need its rescaling, with an empty
    text and one too long for the frames among them."""
    import torch

    frames, classes = 70, 9
    log_probs = torch.randn(frames, 3, classes, generator=torch.Generator().manual_seed(3),
                            dtype=torch.float64) * 4
    log_probs = log_probs.log_softmax(-1)
    texts = [[1, 2, 2, 3, 8], [], [4] * 40, [5, 6, 7, 1, 2, 3, 4, 8] * 4]
    ours = korec.ctc_log_likelihoods(log_probs.exp().permute(1, 0, 2).numpy(), texts)
    assert ours.shape == (3, len(texts))
    for m in range(3):
        for k, labels in enumerate(texts):
            loss = torch.nn.functional.ctc_loss(
                log_probs[:, m:m + 1], torch.tensor([labels], dtype=torch.long),
                torch.tensor([frames]), torch.tensor([len(labels)]), reduction="sum")
            if loss.isinf():  # 40 repeats need 79 frames
                assert ours[m, k] == -np.inf and k == 2
            else:
                assert ours[m, k] == pytest.approx(-loss.item(), rel=1e-6)


def _peaks(steps: list[int], classes: int = 4, peak: float = 0.9) -> np.ndarray:
    """Probabilities ``(1, T, classes)``: ``peak`` on class ``steps[t]`` at frame ``t``, the
    rest shared evenly."""
    probs = np.full((1, len(steps), classes), (1 - peak) / (classes - 1), np.float32)
    for t, k in enumerate(steps):
        probs[0, t, k] = peak
    return probs


def test_the_members_readings_are_rescored_by_both_members():
    """rescore: where the members read differently, the reading both find likelier wins,
    whichever member read it; a unanimous reading stands as read."""
    chars = ("a", "b", "c")
    sure_ab = _peaks([0, 1, 0, 2, 0])  # "ab", 0.9 a frame
    # "ac" greedily (c 0.5 at frame 3) but b close behind there (0.46): a doubtful reading
    unsure_ac = _peaks([0, 1, 0, 3, 0], peak=0.94)
    unsure_ac[0, 3] = [0.02, 0.02, 0.46, 0.50]
    readings = [korec.ctc_decode(p, chars) for p in (sure_ab, unsure_ac)]
    assert [r[0][0] for r in readings] == ["ab", "ac"]
    for order in ((0, 1), (1, 0)):
        probs = [(sure_ab, unsure_ac)[i] for i in order]
        fused = korec.rescore(probs, [readings[i] for i in order], chars)
        assert fused[0][0] == "ab" and fused[0][1] == pytest.approx(readings[0][0][1])
    same = korec.rescore([sure_ab, sure_ab], [readings[0], readings[0]], chars)
    assert same == readings[0]


def test_the_service_recogniser_runs_every_member(registry):
    engine = registry.get("ocr-ko-rec")
    crops = [rgb(shared(rel)) for rel in SCENE + DOCUMENT_LINES]
    batch = korec.preprocess(crops)
    probs = engine.infer(batch)
    assert len(probs) == len(korec.MEMBERS) == 3 and engine.always == korec.ALWAYS == 2
    for p in probs:
        assert p.shape == (len(crops), batch.shape[3] // 8, len(engine.chars) + 1)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert np.abs(probs[a] - probs[b]).max() > 0.1  # three different models
    # each crop alone, as /ocr reads a single-crop image (a batch pads every crop to the
    # widest, and the SVTR neck's attention sees the padding)
    texts = [engine.recognize([crop])[0][0] for crop in crops[:len(SCENE)]]
    assert [cer(t, TRUTH[rel]["text"]) for t, rel in zip(texts, SCENE)] == [0.0] * len(SCENE)


def test_a_third_member_reads_only_the_crops_the_first_two_read_differently(monkeypatch):
    """KoreanRecognizer's gate (korec.ALWAYS = 2): the third member runs only on the crops
    whose letters the first two read differently, and there the three members' readings are
    rescored by all three; elsewhere the first two's fused reading stands. (Here the third
    member is a copy of the first.)"""
    paths = korec.member_paths(REPO_ROOT / "models")
    engine = korec.KoreanRecognizer([*paths[:2], paths[0]], MODEL_DIR / "charset.txt", 1)
    sizes = []
    third, real_run = engine.members[2], engine.members[2].run
    monkeypatch.setattr(third, "run", lambda x, **kw: (sizes.append(len(x)), real_run(x, **kw))[1])
    batch = korec.preprocess([rgb(shared(rel)) for rel in SCENE + DOCUMENT_LINES])
    p1, p2 = (m.run(batch)[0] for m in engine.members[:2])
    first, second = korec.ctc_decode(p1, engine.chars), korec.ctc_decode(p2, engine.chars)
    pair = korec.rescore([p1, p2], [first, second], engine.chars)
    three = korec.rescore([p1, p2, p1], [first, second, first], engine.chars)
    disputed = [i for i, (a, b) in enumerate(zip(first, second))
                if a[0].replace(" ", "") != b[0].replace(" ", "")]
    assert disputed  # the faded word and the curved sign: the first two read them apart
    fused = engine.read_batch(batch)
    assert sizes == [len(disputed)]
    for i in range(len(fused)):
        assert fused[i] == pytest.approx(three[i] if i in disputed else pair[i])


def test_the_fused_card_is_the_committed_members_measured_together():
    """models/ocr-ko/ensemble.json (python -m training.train_ocr_ko --evaluate-ensemble)
    names the members the service loads and scores them together and alone on the pool's
    valid split and the held-out-font synthetic set."""
    from training.train_ocr_ko import FUSION

    card = json.loads((MODEL_DIR / "ensemble.json").read_text())
    assert card["members"] == list(korec.MEMBERS) and card["fusion"] == FUSION
    assert set(card["alone"]) == set(korec.MEMBERS)
    assert card["synthetic_val"]["crops"] == 1000 and card["pool_valid"]["crops"] == 453
    # measured: see docs/jobs/ocr.md; the fused reading is at least each member's alone
    for member in card["alone"].values():
        assert card["synthetic_val"]["word_accuracy"] >= member["synthetic_val"]["word_accuracy"]


def test_smoke_training_exports_a_loadable_model(tmp_path):
    out = tmp_path / "model"
    run = subprocess.run([sys.executable, "-m", "training.train_ocr_ko", "--smoke",
                          "--out", str(out)], cwd=REPO_ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    card = json.loads((out / "ocr_ko_rec.json").read_text())
    assert card["config"]["steps"] == 12 and card["synthetic_val"]["crops"] == 16
    assert card["charset"]["copied_from_pretrained"] >= 95  # ASCII rows kept from PP-OCR
    engine = korec.KoreanRecognizer(out / "ocr_ko_rec.onnx", out / "charset.txt", 1)
    (text, score), = engine.recognize([rgb(shared(SCENE[0]))])
    assert isinstance(text, str) and 0.0 <= score <= 1.0


def test_a_font_without_some_letters_never_draws_them(monkeypatch):
    """DejaVu Sans has no Hangul: its syllables are found missing (drawn as .notdef boxes),
    and a label holding one is drawn in the font that has it, never in DejaVu."""
    from training import text_lines

    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    noto = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    assert {"가", "힝"} <= text_lines.missing_glyphs(dejavu)
    assert not {"A", "7", "("} & text_lines.missing_glyphs(dejavu)
    assert not text_lines.missing_glyphs(noto) & set(text_lines._syllables())
    used = []
    real_render = text_lines.render
    monkeypatch.setattr(text_lines, "render", lambda rng, label, font, style, *rest: (
        used.append((label, font)), real_render(rng, label, font, style, *rest))[1])
    for seed in range(40):
        text_lines.sample(seed, [dejavu, noto])
    hangul = [font for label, font in used if any("\uac00" <= c <= "\ud7a3" for c in label)]
    assert len(hangul) > 20 and set(hangul) == {noto}
    assert dejavu in {font for _, font in used}  # Latin-only labels may still use it


def test_arc_layout_sets_letters_along_a_curve_turned_to_its_tangent():
    """training.text_lines._bend on a layer of five upright bars (one per letter cell): the
    bars come out on a circular arc (the middle one highest for an arch, lowest for a sag,
    the ends level with each other) and turned by opposite angles at the two ends."""
    import random

    import cv2

    from training import text_lines

    pad, adv, h = 10, 40, 60
    alpha = np.zeros((h + 2 * pad, 5 * adv + 2 * pad), np.float32)
    for i in range(5):
        alpha[pad + 5:pad + h - 5, pad + i * adv + 15:pad + i * adv + 25] = 1.0
    premult = np.repeat(alpha[..., None], 3, axis=2) * 200
    shapes = set()
    for seed in range(12):
        _, bent = text_lines._bend(random.Random(seed), premult, alpha, [adv] * 5, pad)
        n, _, stats, centres = cv2.connectedComponentsWithStats((bent > 0.5).astype(np.uint8))
        assert n == 6  # five bars, none lost or merged
        order = np.argsort(centres[1:, 0]) + 1
        ys = centres[order, 1]
        assert abs(ys[0] - ys[4]) < 2 and abs(ys[1] - ys[3]) < 2  # symmetric about the middle
        arched = ys[0] > ys[1] > ys[2]  # image y grows downwards: ends low
        assert arched or ys[0] < ys[1] < ys[2]
        shapes.add(arched)
        # the end bars lean outwards (arch) or inwards (sag): the top of bar 0 sits left of
        # its bottom for an arch
        mask = (bent > 0.5).astype(np.uint8)
        x, y, w, hh = stats[order[0], :4]
        rows = np.nonzero(mask[y:y + hh, x:x + w])
        top = rows[1][rows[0] < hh // 4].mean()
        bottom = rows[1][rows[0] > 3 * hh // 4].mean()
        assert (top < bottom - 3) if arched else (top > bottom + 3)
    assert shapes == {True, False}


def test_arc_and_cut_draw_no_random_numbers_when_off(monkeypatch):
    """A recipe without ``arc``/``cut`` renders exactly as before they existed (the
    committed members' recipes): the layered renderer is never called and no random
    number is drawn for it; with ``arc`` 1 every scene crop goes through it."""
    from training import text_lines

    fonts = text_lines.korean_fonts()["train"][:3]
    calls = []
    real = text_lines._render_layered
    monkeypatch.setattr(text_lines, "_render_layered",
                        lambda *a: (calls.append(a[3:]), real(*a))[1])
    plain = [text_lines.sample(seed, fonts) for seed in range(12)]
    assert not calls
    for seed, line in enumerate(plain):
        again = text_lines.sample(seed, fonts, 0.0, 0.0)
        assert again.text == line.text and np.array_equal(again.image, line.image)
    bent = [text_lines.sample(seed, fonts, 1.0, 0.0) for seed in range(12)]
    assert len(calls) == sum(line.style == "scene" for line in bent) > 0
    assert all(bend and not trim for bend, trim in calls)


def test_training_fonts_come_from_npm_under_the_ofl_and_stay_out_of_the_heldout_set():
    """training/fonts.json: every extra training font is an OFL TTF from an npm package,
    none of them is (or is named like) a held-out font, and the held-out set is unchanged."""
    from training import text_lines

    data = json.loads((REPO_ROOT / "training/fonts.json").read_text())
    assert len(data["files"]) >= 20
    for entry in data["files"]:
        assert entry["licence"] == "OFL-1.1" and entry["path"].endswith(".ttf")
        assert entry["source"]["npm"].startswith("@expo-google-fonts/")
        assert entry["source"]["member"].startswith("package/")
        assert entry["path"] not in text_lines.HELDOUT_FONTS and len(entry["sha256"]) == 64
    heldout = [p.rsplit("/", 1)[1] for p in text_lines.korean_fonts()["heldout"]]
    assert sorted(heldout) == sorted(text_lines.HELDOUT_FONTS)


def test_synthetic_sets_draw_held_out_or_training_fonts_on_seeds_training_never_uses(monkeypatch):
    """The held-out-font set and its training-font twin (scripts/eval_ocr_ko.py) render
    through the same generator, each in its own fonts, on seeds apart from each other and
    from training's (``seed * 1_000_003 + i``, below 10⁹)."""
    from training import text_lines, train_ocr_ko

    calls = []
    real = text_lines.sample
    monkeypatch.setattr(text_lines, "sample", lambda seed, fonts, *a: (
        calls.append((seed, tuple(fonts))) or real(seed, fonts, *a)))
    fonts = text_lines.korean_fonts()
    held = train_ocr_ko.synthetic_val(3, 7)
    seen = train_ocr_ko.synthetic_val(3, 7, fonts="train")
    assert [f for _, f in calls] == [tuple(fonts["heldout"])] * 3 + [tuple(fonts["train"])] * 3
    seeds = [s for s, _ in calls]
    assert len(set(seeds)) == 6 and min(seeds) >= 10 ** 9
    assert all(im.ndim == 3 and text.strip() for im, text in held + seen)
    assert not set(fonts["heldout"]) & set(fonts["train"])


@pytest.mark.parametrize("lang", ["ko", "auto"])
@pytest.mark.parametrize("rel", SCENE)
def test_korean_scene_text_through_the_endpoint(client, rel, lang):
    r = client.post("/ocr", files={"file": ("s.jpg", (SHARED / rel).read_bytes())},
                    data={"lang": lang})
    assert r.status_code == 200, r.text
    page = r.json()["pages"][0]
    assert cer(page["text"], TRUTH[rel]["text"]) <= 0.10, page["text"]
    assert [line["engine"] for line in page["lines"]] == ["ocr-ko-rec"]
    assert all(line["lang"] == "ko" for line in page["lines"])


@pytest.mark.parametrize("rel", DOCUMENT_LINES)
def test_korean_document_lines_stay_read(client, rel):
    r = client.post("/ocr", files={"file": ("l.png", (SHARED / rel).read_bytes())},
                    data={"lang": "auto"})
    page = r.json()["pages"][0]
    assert cer(page["text"], TRUTH[rel]["text"]) <= 0.02, page["text"]
    assert {line["engine"] for line in page["lines"]} <= {"ocr-ko-rec", "tesseract"}


def test_letter_spaced_sign_words_keep_the_korean_recognisers_spacing(registry):
    # The road sign with its alpha channel dropped (the pixels under it, as an RGB copy of
    # the PNG has them): Tesseract reads its widely spaced 평양 as "평 양" at 0.92, above
    # TESS_TRUSTED; the same letters, so ocr-ko-rec's unspaced reading stands.
    from api.pipelines.ocr import OcrPipeline

    page = OcrPipeline(registry)(rgb(shared("data/eval/ocr/easyocr_korean.png")))
    korean = {line.text: line.engine for line in page.lines if line.lang == "ko"}
    assert korean.get("평양") == "ocr-ko-rec", korean
    assert "평 양" not in korean
    # With lang=ko the Korean reader itself spaces them ("서 울" at 0.99) and Tesseract reads
    # "서울": a reading of one-syllable words only is letter spacing, so the other stands.
    page = OcrPipeline(registry)(rgb(shared("data/eval/ocr/easyocr_korean.png")), lang="ko")
    korean = [line.text for line in page.lines if line.lang == "ko"]
    assert korean == ["서울", "평양"], korean


@pytest.mark.parametrize("lang", ["auto", "ko"])
def test_single_syllables_tesseract_reads_as_latin_letters_stay_hangul(client, lang):
    # Tesseract answers Latin letters for these lone syllables at 0.93 ("AF" for 샹, "at"
    # for 짭), above TESS_TRUSTED; ocr-ko-rec's readings stand now.
    rows = {r["text"]: r for r in _pool_valid(lambda r: r["group"] == "syllable")}
    for syllable in ("샹", "짭"):
        body = {"file": ("s.jpg", open(rows[syllable]["file"], "rb").read())}
        page = client.post("/ocr", files=body, data={"lang": lang}).json()["pages"][0]
        assert page["text"] == syllable, (lang, page["text"])


def test_letter_spacing_is_told_from_words():
    from api.pipelines.ocr import _letter_spaced

    assert _letter_spaced("서 울") and _letter_spaced("대 형 출 력")
    assert not _letter_spaced("서울") and not _letter_spaced("쓴 바뀌을 훈민정음")
    assert not _letter_spaced("5 6") and not _letter_spaced("서 1")


def test_trained_weights_written_back_into_the_pretrained_graph_run_at_any_width(tmp_path):
    """training.onnx_torch.write_back (how a PP-OCRv5 mobile member is exported: its traced
    export fixes the example's width) on PP-OCRv6 tiny: the Korean classifier and every
    weight changed in torch, written back into the original ONNX graph, which ONNX Runtime
    then runs at widths other than any example's with torch's output."""
    import onnxruntime as ort
    import torch

    from training import train_ocr_ko

    chars = korec.charset()
    model = train_ocr_ko.Recognizer(*train_ocr_ko.start_files(train_ocr_ko.DEFAULT_START), chars)
    assert model.copied >= 95  # the ASCII rows kept from PP-OCR
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    model.eval()
    path = tmp_path / "member.onnx"
    train_ocr_ko.export(model, path, "write_back")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for width in (72, 200, 616):
        x = torch.randn(2, 3, korec.HEIGHT, width)
        with torch.no_grad():
            expected = model(x).softmax(-1).numpy()
        got = session.run(None, {"x": x.numpy()})[0]
        assert got.shape == (2, width // 8, len(chars) + 1)
        assert np.abs(got - expected).max() < 1e-3  # float32 sums in another order
    assert len(model.sources) >= 80  # every trained tensor has its initialiser


#: Hand-measured syllable boundaries (x, pixels) of greengarnets_5.jpg, "대형출력인쇄": the
#: gaps between its six letter-spaced syllables.
GG5_SYLLABLE_EDGES = (0, 73, 146, 225, 296, 369, 437)


def _vertical_sign(gap: int = 0) -> np.ndarray:
    """greengarnets_5.jpg's six real syllables stacked upright in one column, as a vertical
    signboard is written, ``gap`` px of the sign's own edge repeated under each:
    ``(6 × (81 + gap), 79, 3)`` uint8 RGB."""
    import cv2

    image = rgb(shared("data/eval/ocr/greengarnets_5.jpg"))
    cells = [image[:, a:b] for a, b in zip(GG5_SYLLABLE_EDGES, GG5_SYLLABLE_EDGES[1:])]
    width = max(c.shape[1] for c in cells)
    cells = [cv2.copyMakeBorder(c, 0, gap, (width - c.shape[1]) // 2,
                                width - c.shape[1] - (width - c.shape[1]) // 2,
                                cv2.BORDER_REPLICATE) for c in cells]
    return np.ascontiguousarray(np.concatenate(cells, axis=0))


def test_restack_vertical_lays_a_real_signs_syllables_side_by_side():
    from api.vision import restack_vertical

    column = _vertical_sign()
    layouts = restack_vertical(column)
    # pieces keep the column's width, so a layout's width counts its pieces: one layout
    # cuts the six syllables apart, and every layout is one row about a syllable high
    assert 6 in [lay.shape[1] // column.shape[1] for lay in layouts]
    assert all(lay.shape[0] <= 2 * column.shape[1] for lay in layouts)
    # a column with no text in it comes back as it is
    blank = np.full((300, 60, 3), 128, np.uint8)
    assert [lay.shape for lay in restack_vertical(blank)] == [blank.shape]


@pytest.mark.parametrize("lang", ["ko", "auto"])
def test_vertical_korean_sign_reads_through_the_endpoint(client, lang):
    # Before the stacked reading, /ocr read this column turned 90° only: '쥰 공0 째 표r 1츄'.
    from tests.helpers import png

    r = client.post("/ocr", files={"file": ("v.png", png(_vertical_sign()))},
                    data={"lang": lang})
    assert r.status_code == 200, r.text
    page = r.json()["pages"][0]
    # one line, one word: the margins between the laid-out syllables are not word breaks
    assert page["text"] == "대형출력인쇄", page["text"]
    assert [line["engine"] for line in page["lines"]] == ["ocr-ko-rec"]


def test_a_line_turned_90_degrees_is_still_read_turned(registry):
    # The stacked reading is one more view of a tall crop, not a replacement: a horizontal
    # sign photographed on its side still reads as the line it is.
    from api.pipelines.ocr import OcrPipeline

    image = rgb(shared("data/eval/ocr/greengarnets_2.jpg"))
    page = OcrPipeline(registry)(np.ascontiguousarray(np.rot90(image, -1)))
    assert "".join(page.text.split()) == "영어전문학원", page.text


@pytest.mark.parametrize("lang", ["ko", "auto"])
def test_a_sign_boxed_syllable_by_syllable_reads_as_one_line(client, lang):
    # 20 px between the syllables: the detector boxes each one alone, and each is read as
    # its own line; stacked single syllables are joined back into the column they form.
    # In auto mode PP-OCR read the lone 대 as "CH" until boxes in a column of syllables
    # were read as Korean too.
    from tests.helpers import png

    r = client.post("/ocr", files={"file": ("v.png", png(_vertical_sign(gap=20)))},
                    data={"lang": lang})
    lines = r.json()["pages"][0]["lines"]
    assert [line["text"] for line in lines] == ["대형출력인쇄"], lines
    x1, y1, x2, y2 = lines[0]["box"]
    assert y2 - y1 > 5 * (x2 - x1)  # the whole column


def test_only_close_single_syllables_are_joined():
    from api.pipelines.ocr import join_stacked_syllables

    def item(x1, y1, x2, y2, text):
        quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)
        return quad, (text, 0.9, "ocr-ko-rec")

    # a list whose rows are a full height apart, a word under a syllable, a syllable off
    # to the side: nothing joins
    apart = [item(0, 0, 40, 40, "가"), item(0, 80, 40, 120, "나")]
    assert [r[0] for _, r in join_stacked_syllables(apart)] == ["가", "나"]
    word = [item(0, 0, 40, 40, "가"), item(0, 45, 90, 85, "나라")]
    assert [r[0] for _, r in join_stacked_syllables(word)] == ["가", "나라"]
    aside = [item(0, 0, 40, 40, "가"), item(30, 45, 70, 85, "나")]
    assert [r[0] for _, r in join_stacked_syllables(aside)] == ["가", "나"]
    # a close column of three joins top to bottom into one box
    column = [item(0, 90, 40, 130, "다"), item(0, 0, 40, 40, "가"), item(2, 45, 40, 85, "나")]
    (quad, (text, score, engine)), = join_stacked_syllables(column)
    assert text == "가나다" and quad.min(0).tolist() == [0, 0] and quad.max(0).tolist() == [40, 130]
