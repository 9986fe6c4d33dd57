"""Kosmos-2 speed and memory at full size on this CPU (benchmark, not a test).

Compute cost does not depend on the weights' values, so the full-size configuration
(transformers' Kosmos2Config defaults = microsoft/kosmos-2-patch14-224: 24-layer 2048-wide
text decoder, CLIP ViT-L/14 vision tower) is built with random weights, saved as a snapshot
and loaded the way Prism loads it. For each variant it measures load time, RSS, prefill time
and ms per generated token (greedy, KV cache, 30 new tokens forced), and writes
bench/kosmos.md. Usage: python bench/bench_kosmos.py [--variants fp32,bf16,int8] [--threads 2]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import Kosmos2Config, Kosmos2ForConditionalGeneration, Kosmos2Processor  # noqa: E402

from api.engines.kosmos import optimise  # noqa: E402
from api.settings import REPO_ROOT  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"


def rss_mb() -> float:
    """Current resident set size of this process in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def generate(model, inputs, tokens: int) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        model.generate(pixel_values=inputs["pixel_values"], input_ids=inputs["input_ids"],
                       attention_mask=inputs["attention_mask"],
                       image_embeds_position_mask=inputs["image_embeds_position_mask"],
                       max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False,
                       use_cache=True)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="fp32,bf16,int8")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    processor = Kosmos2Processor.from_pretrained(SHARED / "models/generate-text")
    image = Image.open(SHARED / "models/testdata/photo_elephant.jpg").convert("RGB")
    inputs = processor(text="<grounding>An image of", images=image, return_tensors="pt")
    rows = []
    with tempfile.TemporaryDirectory() as snapshot:
        start = time.perf_counter()
        config = Kosmos2Config(latent_query_num=processor.num_image_tokens)
        config.text_config.vocab_size = len(processor.tokenizer)
        torch.manual_seed(0)
        Kosmos2ForConditionalGeneration(config).save_pretrained(snapshot)
        processor.save_pretrained(snapshot)
        print(f"built and saved the full-size random model in {time.perf_counter() - start:.0f} s")
        gc.collect()
        base_rss = rss_mb()
        for variant in args.variants.split(","):
            start = time.perf_counter()
            model = Kosmos2ForConditionalGeneration.from_pretrained(snapshot).eval()
            model = optimise(model, variant)
            load_s = time.perf_counter() - start
            params = sum(p.numel() for p in model.parameters())
            one = min(generate(model, inputs, 1) for _ in range(2))
            thirty = generate(model, inputs, 30)
            per_token = (thirty - one) / 29
            rows.append((variant, load_s, rss_mb() - base_rss, one, per_token, thirty, params))
            print(rows[-1], flush=True)
            del model
            gc.collect()
    lines = [f"Kosmos-2 full size (random weights), {args.threads} threads, "
             f"torch {torch.__version__}, {os.cpu_count()} cores; peak RSS "
             f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB.", "",
             "| variant | load s | RSS MB | prefill + 1 token ms | ms / token | 30-token caption ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for variant, load_s, rss, one, per_token, thirty, _ in rows:
        lines.append(f"| {variant} | {load_s:.1f} | {rss:.0f} | {one:.0f} | {per_token:.0f} | "
                     f"{thirty:.0f} |")
    table = "\n".join(lines)
    print(table)
    (REPO_ROOT / "bench" / "kosmos.md").write_text(f"# Kosmos-2 on CPU\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
