"""/generate-text with a tiny random Kosmos-2 and the real Kosmos-2 processor files.

The real weights (~6.6 GB) cannot be had here; the tiny model has the real vocabulary
(65,037 tokens from ../shared/models/generate-text) and the processor's 64 image tokens, so
the real loading, generation, decoding and post-processing code runs end to end.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from api.app import create_app
from api.engines import ALL_SPECS
from api.engines.kosmos import FOLDER
from api.kosmos_install import install_from_folder, write_tiny_model
from api.pipelines.generate_text import to_entities
from api.registry import Registry
from api.settings import Settings

from .conftest import SHARED, TESTDATA
from .helpers import assert_problem

PROCESSOR = SHARED / "models/generate-text"
PHOTO = TESTDATA / "photo_elephant.jpg"


@pytest.fixture(scope="module")
def tiny_snapshot(tmp_path_factory):
    pytest.importorskip("torch")
    folder = write_tiny_model(tmp_path_factory.mktemp("snapshot"), PROCESSOR)
    from transformers import Kosmos2Processor

    assert len(Kosmos2Processor.from_pretrained(folder).tokenizer) == 65037  # the real vocabulary
    return folder


@pytest.fixture(scope="module")
def caption_client(tiny_snapshot, tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    install_from_folder(tiny_snapshot, models)  # the mirror install path, verified copies
    settings = dataclasses.replace(Settings.from_env({}), models_dir=str(models),
                                   max_new_tokens=24, kosmos_variant="fp32")
    return create_app(settings, Registry(ALL_SPECS, settings)).test_client()


def test_mirror_install_records_checksums(tiny_snapshot, tmp_path):
    record = install_from_folder(tiny_snapshot, tmp_path)
    assert {"config.json", "model.safetensors", "processor_config.json"} <= set(record)
    copied = tmp_path / FOLDER / "model.safetensors"
    assert record["model.safetensors"]["size"] == copied.stat().st_size
    with pytest.raises(FileNotFoundError):
        install_from_folder(tmp_path / "empty", tmp_path / "other")


def test_caption_end_to_end(caption_client):
    r = caption_client.post("/generate-text", files={"file": ("e.jpg", PHOTO.read_bytes())},
                            data={"max_new_tokens": "12"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert 1 <= body["new_tokens"] <= 12
    assert body["raw"].startswith("<grounding>") and "An image of" in body["raw"]
    assert body["text"].startswith("An image of") and "<" not in body["text"]
    assert isinstance(body["entities"], list) and body["timings_ms"]["generate"] > 0


def test_deterministic_and_prompt_is_used(caption_client):
    files = {"file": ("e.jpg", PHOTO.read_bytes())}
    a = caption_client.post("/generate-text", files=files, data={"max_new_tokens": "8"}).json()
    b = caption_client.post("/generate-text", files=files, data={"max_new_tokens": "8"}).json()
    assert a["raw"] == b["raw"]  # greedy decoding
    c = caption_client.post("/generate-text", files=files,
                            data={"prompt": "<grounding>A photo of", "max_new_tokens": "8"}).json()
    assert "A photo of" in c["raw"] and "An image of" not in c["raw"]


def test_token_cap(caption_client):
    r = caption_client.post("/generate-text", files={"file": ("e.jpg", PHOTO.read_bytes())},
                            data={"max_new_tokens": "200"})
    assert r.status_code == 200 and r.json()["new_tokens"] <= 24  # PRISM_MAX_NEW_TOKENS
    assert_problem(caption_client.post("/generate-text", files={"file": ("e.jpg", PHOTO.read_bytes())},
                                       data={"max_new_tokens": "0"}), 400)


def test_annotated_png(caption_client):
    r = caption_client.post("/generate-text", files={"file": ("e.jpg", PHOTO.read_bytes())},
                            data={"mode": "annotated", "max_new_tokens": "4"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == Image.open(PHOTO).size


def test_entities_to_pixels_with_the_real_processor():
    """The HF docs' Kosmos-2 output, parsed by the real processor, mapped to pixels."""
    from transformers import Kosmos2Processor

    processor = Kosmos2Processor.from_pretrained(PROCESSOR)
    generated = ("<grounding> An image of<phrase> a snowman</phrase><object><patch_index_0044>"
                 "<patch_index_0863></object> warming himself by<phrase> a fire</phrase><object>"
                 "<patch_index_0005><patch_index_0911></object>.")
    text, entities = processor.post_process_generation(generated)
    assert text == "An image of a snowman warming himself by a fire."
    out = to_entities(entities, 640, 480)
    assert [e["phrase"] for e in out] == ["a snowman", "a fire"]
    assert text[out[0]["span"][0]:out[0]["span"][1]] == "a snowman"
    snowman = out[0]["boxes"][0]
    assert snowman["box_norm"] == [0.3906, 0.0469, 0.9844, 0.8281]
    assert snowman["box"] == pytest.approx([250.0, 22.5, 630.0, 397.5], abs=0.1)


def test_missing_weights_is_503_and_the_rest_works(client):
    body = assert_problem(client.post("/generate-text", files={"file": ("e.jpg", PHOTO.read_bytes())}), 503)
    assert "caption-kosmos2" in body["detail"] and "kosmos_install" in body["detail"]
    models = {m["name"]: m for m in client.get("/models").json()["models"]}
    assert models["caption-kosmos2"]["status"] == "files missing"
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["optional_missing"] == ["caption-kosmos2"]
    data = (SHARED / "data/eval/ocr/rapidocr_en_rec.jpg").read_bytes()
    r = client.post("/ocr", files={"file": ("p.png", data)})
    assert r.status_code == 200


def test_bad_inputs(caption_client):
    assert_problem(caption_client.post("/generate-text", json={}), 400)
    assert_problem(caption_client.post("/generate-text", files={"file": ("x.png", b"nope")}), 415)
    assert_problem(caption_client.post("/generate-text", json={"image_base64": "%%%"}), 400)
    assert_problem(caption_client.post("/generate-text", json={"image_base64": "aGk=", "prompt": ""}), 400)


@pytest.mark.parametrize("variant", ["bf16", "int8"])
def test_faster_variants_generate(tiny_snapshot, variant):
    import torch

    from api.engines.kosmos import KosmosEngine

    engine = KosmosEngine(tiny_snapshot, threads=1, variant=variant)
    linears = [m for m in engine.model.modules() if type(m).__name__ == "Linear"]
    if variant == "int8":
        assert any("quantized" in type(m).__module__ for m in engine.model.modules())
    else:
        assert all(p.dtype == torch.bfloat16 for p in engine.model.parameters())
        assert linears
    image = np.asarray(Image.open(PHOTO).convert("RGB"))
    out = engine(image, "<grounding>An image of", max_new_tokens=6)
    assert out.raw.startswith("<grounding>") and 1 <= out.new_tokens <= 6
    with pytest.raises(ValueError):
        KosmosEngine(tiny_snapshot, threads=1, variant="fp8")


@pytest.mark.parametrize("variant", ["bf16", "int8"])
def test_low_memory_conversion_equals_the_plain_one(tiny_snapshot, variant):
    """Prism's module-by-module conversion (which gives each converted fp32 weight's pages
    back) builds the same model as torch's one-shot conversion: the same generated tokens
    for a fixed input, and no live weight zeroed (the tied embedding included)."""
    import torch
    from transformers import Kosmos2ForConditionalGeneration, Kosmos2Processor

    from api.engines.kosmos import optimise

    def load():
        return Kosmos2ForConditionalGeneration.from_pretrained(tiny_snapshot).eval()

    plain = load()
    if variant == "int8":
        plain = torch.ao.quantization.quantize_dynamic(plain, {torch.nn.Linear},
                                                       dtype=torch.qint8)
    else:
        plain = plain.to(torch.bfloat16)
    ours = optimise(load(), variant)
    processor = Kosmos2Processor.from_pretrained(tiny_snapshot)
    inputs = processor(text="<grounding>An image of", images=Image.open(PHOTO).convert("RGB"),
                       return_tensors="pt")
    outputs = []
    for model in (plain, ours):
        with torch.inference_mode():
            outputs.append(model.generate(**{k: inputs[k] for k in (
                "pixel_values", "input_ids", "attention_mask", "image_embeds_position_mask")},
                max_new_tokens=12, min_new_tokens=12, do_sample=False).tolist())
    assert outputs[0] == outputs[1]
    embed = ours.get_input_embeddings().weight
    assert embed.abs().sum() > 0 and torch.equal(embed.float(),
                                                 plain.get_input_embeddings().weight.float())
