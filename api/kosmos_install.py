"""Install the Kosmos-2 snapshot into ``<models dir>/kosmos-2-patch14-224`` (install time only).

``python -m api.kosmos_install --from DIR`` copies a local mirror of the snapshot, verifying
every copied file's size and sha256 against its source and recording them in
``prism-install.json``; ``--revision REV`` downloads that pinned revision of
``microsoft/kosmos-2-patch14-224`` with ``huggingface_hub.snapshot_download`` where a hub is
reachable. At run time Prism only reads the folder (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .engines.kosmos import FOLDER, REQUIRED
from .modelfiles import sha256_of
from .settings import Settings

REPO_ID = "microsoft/kosmos-2-patch14-224"


def install_from_folder(source: Path, models_dir: Path) -> dict:
    """Copy every file of ``source`` into the models folder's Kosmos-2 folder and verify it.

    Returns ``{relative path: {"size", "sha256"}}``. Raises ``FileNotFoundError`` when the
    source lacks a required file and ``RuntimeError`` when a copy does not match its source.
    """
    source = Path(source)
    for rel in REQUIRED:
        if not (source / Path(rel).name).is_file():
            raise FileNotFoundError(f"{source} has no {Path(rel).name}")
    target = Path(models_dir) / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    record = {}
    for src in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = src.relative_to(source)
        if rel.parts[0].startswith("."):
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        want = sha256_of(src)
        shutil.copyfile(src, dest)
        got = sha256_of(dest)
        if got != want or dest.stat().st_size != src.stat().st_size:
            raise RuntimeError(f"{rel}: the copy does not match its source")
        record[str(rel)] = {"size": dest.stat().st_size, "sha256": got}
    (target / "prism-install.json").write_text(json.dumps(
        {"source": "local mirror", "files": record}, indent=1))
    return record


def write_tiny_model(folder: Path, processor_dir: Path, seed: int = 0) -> Path:
    """Save a tiny randomly initialised Kosmos-2 with the real processor into ``folder``.

    For tests and benchmarks only (its captions are noise): the real vocabulary (65,037
    tokens) and the processor's 64 image tokens from ``processor_dir`` (e.g.
    ``../shared/models/generate-text``), 2 text layers of width 64 and 2 vision layers of
    width 32, so loading, generation, decoding and grounding all run for real in well under a
    second. Seeded with ``seed``. Returns ``folder``.
    """
    import torch
    from transformers import Kosmos2Config, Kosmos2ForConditionalGeneration, Kosmos2Processor

    processor = Kosmos2Processor.from_pretrained(processor_dir)
    config = Kosmos2Config(
        text_config={"vocab_size": len(processor.tokenizer), "embed_dim": 64, "layers": 2,
                     "attention_heads": 4, "ffn_dim": 128, "max_position_embeddings": 2048},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "image_size": 224, "patch_size": 14},
        latent_query_num=processor.num_image_tokens)
    torch.manual_seed(seed)
    folder = Path(folder)
    Kosmos2ForConditionalGeneration(config).eval().save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def install_from_hub(revision: str, models_dir: Path) -> Path:
    """Download ``revision`` of the snapshot (needs a reachable hub)."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(REPO_ID, revision=revision,
                                  local_dir=Path(models_dir) / FOLDER))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m api.kosmos_install")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--from", dest="source", help="local snapshot folder")
    group.add_argument("--revision", help="hub revision (commit) to download")
    args = parser.parse_args(argv)
    models_dir = Path(Settings.from_env().models_dir)
    if args.source:
        files = install_from_folder(Path(args.source), models_dir)
        print(f"installed {len(files)} files into {models_dir / FOLDER}")
    else:
        print(f"installed into {install_from_hub(args.revision, models_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
