"""Kosmos-2 speed and memory at full size on this CPU (benchmark, not a test).

Compute cost does not depend on the weights' values, so the full-size configuration
(transformers' Kosmos2Config defaults = microsoft/kosmos-2-patch14-224: 24-layer 2048-wide
text decoder, CLIP ViT-L/14 vision tower) is built with random weights, saved as a snapshot
and loaded the way Prism loads it. For each variant it measures load time, RSS, prefill time
and ms per generated token (greedy, 30 new tokens forced), each variant in a fresh process
so RSS is its own, and writes bench/kosmos.md. ``bf16-plain`` and ``int8-plain`` are torch's
one-shot conversions (``model.to(bfloat16)``, ``quantize_dynamic``) that Prism used before its
module-by-module ones (:func:`api.engines.kosmos.optimise`); the last column says whether a
variant generated the same 30 tokens as its plain counterpart.
Usage: python bench/bench_kosmos.py [--runs fp32:2,int8:2,int8:2:nocache] [--snapshot DIR]
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


def measure(snapshot: str, variant: str, threads: int, use_cache: bool, static: bool,
            queue) -> None:
    """Run in a fresh process: load, then time prefill and 30 greedy tokens."""
    torch.set_num_threads(threads)
    start_rss = rss_mb()
    processor = Kosmos2Processor.from_pretrained(snapshot)
    image = Image.open(SHARED / "models/testdata/photo_elephant.jpg").convert("RGB")
    inputs = processor(text="<grounding>An image of", images=image, return_tensors="pt")
    start = time.perf_counter()
    model = Kosmos2ForConditionalGeneration.from_pretrained(snapshot).eval()
    if variant == "int8-plain":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                       dtype=torch.qint8, inplace=True)
    elif variant == "bf16-plain":
        model = model.to(torch.bfloat16)
    else:
        model = optimise(model, variant)
    load_s = time.perf_counter() - start
    gc.collect()
    loaded_rss = rss_mb() - start_rss
    extra = {"use_cache": use_cache}
    if static:
        extra["cache_implementation"] = "static"

    generated = []

    def run(tokens):
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(pixel_values=inputs["pixel_values"], input_ids=inputs["input_ids"],
                           attention_mask=inputs["attention_mask"],
                           image_embeds_position_mask=inputs["image_embeds_position_mask"],
                           max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, **extra)
        generated[:] = out[0].tolist()
        return (time.perf_counter() - t0) * 1000

    one = min(run(1) for _ in range(2))
    thirty = run(30)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - start_rss
    queue.put((load_s, loaded_rss, peak, one, (thirty - one) / 29, thirty, generated))


def main() -> int:
    import multiprocessing as mp

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", default="fp32:2,bf16-plain:2,bf16:2,int8-plain:2,int8:2,"
                        "int8:1,int8:2:nocache", help="variant:threads[:nocache|:static], "
                        "comma list")
    parser.add_argument("--snapshot", help="reuse a full-size random snapshot folder")
    args = parser.parse_args()
    snapshot = args.snapshot or tempfile.mkdtemp(prefix="kosmos-full-")
    if not (Path(snapshot) / "config.json").exists():
        start = time.perf_counter()
        processor = Kosmos2Processor.from_pretrained(SHARED / "models/generate-text")
        config = Kosmos2Config(latent_query_num=processor.num_image_tokens)
        config.text_config.vocab_size = len(processor.tokenizer)
        torch.manual_seed(0)
        Kosmos2ForConditionalGeneration(config).save_pretrained(snapshot)
        processor.save_pretrained(snapshot)
        print(f"built the full-size random snapshot in {time.perf_counter() - start:.0f} s")
    ctx = mp.get_context("spawn")
    rows = []
    for spec in args.runs.split(","):
        parts = spec.split(":")
        variant, threads = parts[0], int(parts[1])
        use_cache, static = "nocache" not in parts, "static" in parts
        queue = ctx.Queue()
        proc = ctx.Process(target=measure, args=(snapshot, variant, threads, use_cache, static,
                                                 queue))
        proc.start()
        result = None
        while result is None and (proc.is_alive() or not queue.empty()):
            try:
                result = queue.get(timeout=5)
            except Exception:  # queue.Empty: keep waiting while the child lives
                pass
        proc.join()
        if result is None:  # a variant that fails is reported, not fatal
            print(spec, "failed in its process (see its traceback above)")
            rows.append((spec, None, None, None, None, None, None, None))
            continue
        rows.append((spec, *result))
        print(rows[-1][:-1], flush=True)
    tokens = {spec.split(":")[0]: row[-1] for spec, *row in rows if row[0] is not None}
    lines = [f"Kosmos-2 full size (random weights), torch {torch.__version__}, "
             f"{os.cpu_count()} cores; each row in a fresh process, photo 610×700, "
             "greedy, 30 new tokens forced.", "",
             "| variant:threads | load s | RSS after load MB | peak RSS MB | prefill + 1 token ms "
             "| ms / token | 30-token caption ms | same tokens as plain |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for spec, load_s, rss, peak, one, per_token, thirty, ids in rows:
        if load_s is None:
            lines.append(f"| {spec} | failed | | | | | | |")
            continue
        plain = tokens.get(spec.split(":")[0].split("-")[0] + "-plain")
        same = "—" if plain is None or spec.split(":")[0].endswith("plain") or \
            spec.startswith("fp32") else ("yes" if ids == plain else "no")
        lines.append(f"| {spec} | {load_s:.1f} | {rss:.0f} | {peak:.0f} | {one:.0f} | "
                     f"{per_token:.0f} | {thirty:.0f} | {same} |")
    table = "\n".join(lines)
    print(table)
    (REPO_ROOT / "bench" / "kosmos.md").write_text(f"# Kosmos-2 on CPU\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
