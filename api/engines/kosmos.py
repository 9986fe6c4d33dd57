"""Grounded captioning with Kosmos-2 (Microsoft, MIT) through transformers, CPU, offline.

Loaded from ``<models dir>/kosmos-2-patch14-224``: the Hugging Face snapshot of
``microsoft/kosmos-2-patch14-224`` (config, weights, processor files), placed there by
``python -m api.kosmos_install`` — never downloaded at run time (``HF_HUB_OFFLINE=1``).
``Kosmos2Processor`` turns a prompt such as ``<grounding>An image of`` and a 224×224 CLIP-
normalised image into token ids with 64 image-placeholder positions; ``generate`` continues the
text with ``<phrase>…</phrase><object><patch_index_i><patch_index_j></object>`` groundings that
``post_process_generation`` turns into phrases with normalised boxes on a 32×32 grid.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..registry import ModelSpec

FOLDER = "kosmos-2-patch14-224"
REQUIRED = (f"{FOLDER}/config.json", f"{FOLDER}/processor_config.json",
            f"{FOLDER}/tokenizer_config.json")


@dataclass
class Generation:
    """``raw``: generated text with grounding tags; ``text``: clean caption; ``entities``:
    ``(phrase, (start, end) character span in text, [(x1, y1, x2, y2) normalised 0–1])``;
    ``new_tokens``: tokens generated."""

    raw: str
    text: str
    entities: list
    new_tokens: int


VARIANTS = ("fp32", "bf16", "int8")


def _drop_pages(tensor) -> None:
    """Tell the kernel this process no longer needs the memory pages that lie wholly inside
    ``tensor``'s data (``madvise(MADV_DONTNEED)``). The weights transformers loads are views
    of the safetensors file's mapping, and every page of it that was read stays resident
    while any tensor keeps the mapping alive; after a weight was converted its pages are
    never read again. Only for a tensor nothing else shares (the caller checks): a page of
    an anonymous allocation reads back as zeros afterwards."""
    import ctypes
    import mmap

    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    first, last = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE, end // mmap.PAGESIZE * mmap.PAGESIZE
    if last > first:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), 4)  # DONTNEED


def optimise(model, variant: str):
    """Return ``model`` in a CPU inference variant: ``fp32`` as loaded, ``bf16`` weights and
    activations in bfloat16, or ``int8`` dynamic quantisation of every ``nn.Linear``
    (``torch.ao.quantization`` ``default_dynamic_qconfig``: per-tensor symmetric int8
    weights, the same modules ``quantize_dynamic`` builds).

    Both conversions go module by module and give each converted fp32 weight's pages back
    at once (:func:`_drop_pages`), so only the converted model stays resident and the peak
    is about its size plus one layer, not the fp32 model plus the copy (full-size Kosmos-2:
    8.3 GB resident for int8 and a 9.6 GB bf16 peak before, bench/kosmos.md).
    Raises ``ValueError`` for other names."""
    import torch

    from ..worker import release_memory

    if variant not in VARIANTS:
        raise ValueError(f"unknown Kosmos-2 variant {variant!r}; choose from {VARIANTS}")
    if variant == "fp32":
        return model
    counts: dict[int, int] = {}
    for _, param in model.named_parameters(remove_duplicate=False):
        counts[param.data_ptr()] = counts.get(param.data_ptr(), 0) + 1
    if variant == "bf16":
        for module in model.modules():
            for param in module.parameters(recurse=False):
                old = param.data
                if old.dtype == torch.bfloat16:  # a tied weight, converted at its first user
                    continue
                param.data = old.to(torch.bfloat16)
                if counts.get(old.data_ptr(), 0) <= 1:
                    _drop_pages(old)
            for name, buf in list(module.named_buffers(recurse=False)):
                if buf.is_floating_point():
                    module._buffers[name] = buf.to(torch.bfloat16)
        release_memory()  # the freed fp32 heap back to the system
        return model
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import default_dynamic_qconfig

    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is not torch.nn.Linear:
                continue
            child.qconfig = default_dynamic_qconfig
            setattr(parent, name, DynamicLinear.from_float(child))
            weight = child.weight.data
            counts[weight.data_ptr()] -= 1
            if counts[weight.data_ptr()] == 0:  # a tied weight stays for its other user
                _drop_pages(weight)
    release_memory()
    return model


class KosmosEngine:
    """Kosmos-2 processor + model. Args: ``folder`` snapshot; ``threads`` torch threads;
    ``variant`` see :func:`optimise`.
    Raises ``OSError``/``ValueError`` from transformers when the snapshot is incomplete."""

    def __init__(self, folder: Path, threads: int, variant: str = "fp32"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import Kosmos2ForConditionalGeneration, Kosmos2Processor

        torch.set_num_threads(max(1, threads))
        self._torch = torch
        self.processor = Kosmos2Processor.from_pretrained(folder, local_files_only=True)
        self.model = optimise(Kosmos2ForConditionalGeneration.from_pretrained(
            folder, local_files_only=True).eval(), variant)
        self.variant = variant
        self._lock = threading.Lock()

    def __call__(self, image: np.ndarray, prompt: str, max_new_tokens: int) -> Generation:
        """Caption an RGB image ``(H, W, 3)`` uint8 (greedy decoding, KV cache)."""
        from PIL import Image

        inputs = self.processor(text=prompt, images=Image.fromarray(image), return_tensors="pt")
        with self._lock, self._torch.inference_mode():
            out = self.model.generate(
                pixel_values=inputs["pixel_values"], input_ids=inputs["input_ids"],
                attention_mask=inputs["attention_mask"],
                image_embeds_position_mask=inputs["image_embeds_position_mask"],
                max_new_tokens=max_new_tokens, do_sample=False, use_cache=True)
        new_tokens = int(out.shape[1] - inputs["input_ids"].shape[1])
        decoded = self.processor.batch_decode(out, skip_special_tokens=True)[0]
        raw = self.processor.post_process_generation(decoded, cleanup_and_extract=False)
        text, entities = self.processor.post_process_generation(decoded)
        return Generation(raw=raw, text=text, entities=entities, new_tokens=new_tokens)


SPEC = ModelSpec(
    name="caption-kosmos2",
    task="generate-text",
    summary="Kosmos-2 grounded captioning (phrases with boxes)",
    files=(),
    folder_files=REQUIRED,
    licence="MIT",
    source="microsoft/kosmos-2-patch14-224 snapshot, installed with python -m api.kosmos_install",
    factory=lambda paths, settings: KosmosEngine(Path(paths[REQUIRED[0]]).parent,
                                                 settings.intra_op_threads,
                                                 settings.kosmos_variant),
    input_size="224×224",
    memory_mb=2300,
    accuracy="Peng et al. 2023 report Flickr30k Entities R@1 78.7 (zero-shot phrase grounding)",
    install="python -m api.kosmos_install --from <snapshot folder> (or --revision <rev> where "
            "the hub is reachable)",
)
