"""Does a projection head trained on synthetic stamp identities improve stamp retrieval?

Recipe: ``identities`` synthetic stamps (:func:`training.synth.make_stamp`), each inked
``views`` times with different ink texture, colour, rotation, background text, blur, JPEG
quality and occlusion (:func:`identity_view`); their EfficientNet-Lite0 embeddings (the
service's :class:`api.engines.stampembed.StampEmbedder`) train a linear 1280→``dim`` head
with a supervised contrastive loss (Khosla et al., 2020; temperature 0.1). The head is kept
only if it beats the plain embedding on Stamp2vec's real crops
(``scripts/eval_stamp_embed.py`` protocol) and on held-out synthetic identities.

``python -m training.train_embed_head`` prints both evaluations as JSON (and writes
``--out`` with the head's weights when given).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from training import synth

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "scripts"))


def identity_view(rng: random.Random, ink: np.ndarray) -> np.ndarray:
    """One impression of the stamp ``ink`` (uint8 mask) as an RGB crop on document paper."""
    mask = synth.rotate(ink, rng.uniform(-180, 180) if rng.random() < 0.3 else rng.uniform(-25, 25))
    h, w = mask.shape
    margin = int(max(h, w) * rng.uniform(0.02, 0.15))
    page = synth.layout_page(rng, h + 2 * margin + 200, w + 2 * margin + 200)
    y0, x0 = rng.randint(0, 200), rng.randint(0, 200)
    canvas = page[y0:y0 + h + 2 * margin, x0:x0 + w + 2 * margin].copy()
    alpha = synth.ink_texture(rng, mask)
    weights = synth.ink_weights()
    name = rng.choices(list(weights), list(weights.values()))[0]
    tint = np.clip(np.array(synth.inks()[name], np.float32) + rng.uniform(-25, 25), 0, 255) / 255
    region = canvas[margin:margin + h, margin:margin + w].astype(np.float32)
    canvas[margin:margin + h, margin:margin + w] = (
        region * (1 - alpha[..., None] + alpha[..., None] * tint)).clip(0, 255).astype(np.uint8)
    if rng.random() < 0.4:  # a signature across it
        synth.draw_signature(rng, canvas, 0, 0, canvas.shape[1], canvas.shape[0])
    if rng.random() < 0.4:
        canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.3, 1.2))
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 90)])
        canvas = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return canvas


def synthetic_set(identities: int, views: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """``identities × views`` crops and their identity labels."""
    crops, labels = [], []
    for i in range(identities):
        rng = random.Random(seed * 1_000_003 + i)
        ink = synth.make_stamp(rng, rng.randint(110, 220))
        for _ in range(views):
            crops.append(identity_view(rng, ink))
            labels.append(i)
    return crops, np.array(labels)


def supcon(z: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss over a batch of unit vectors ``z`` ``[B, D]``."""
    sim = z @ z.T / temperature
    eye = torch.eye(len(z), dtype=torch.bool)
    sim = sim.masked_fill(eye, -1e9)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    log_prob = sim - torch.logsumexp(sim, 1, keepdim=True)
    return -(log_prob * pos).sum(1).div(pos.sum(1).clamp(min=1)).mean()


def train_head(x: np.ndarray, y: np.ndarray, dim: int, steps: int, seed: int) -> torch.Tensor:
    """Linear head ``[1280, dim]`` trained with :func:`supcon` on features ``x``."""
    torch.manual_seed(seed)
    w = torch.nn.Parameter(torch.randn(x.shape[1], dim) / x.shape[1] ** 0.5)
    opt = torch.optim.Adam([w], lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    ids = np.unique(y)
    gen = np.random.default_rng(seed)
    for _ in range(steps):
        chosen = gen.choice(ids, size=min(32, len(ids)), replace=False)
        idx = torch.from_numpy(np.flatnonzero(np.isin(y, chosen)))
        loss = supcon(F.normalize(xt[idx] @ w, dim=1), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach()


def main() -> None:
    """Build the sets, train, evaluate with and without the head; print JSON."""
    from eval_stamp_embed import crops as stamp2vec_crops
    from eval_stamp_embed import retrieval

    from api.engines.stampembed import WEIGHTS, StampEmbedder
    from api.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m training.train_embed_head")
    parser.add_argument("--identities", type=int, default=240)
    parser.add_argument("--views", type=int, default=6)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    engine = StampEmbedder(Path(Settings.from_env().models_dir) / WEIGHTS, 2)
    train_crops, train_y = synthetic_set(args.identities, args.views, args.seed)
    test_crops, test_y = synthetic_set(60, 4, args.seed + 1)
    x_train = engine.embed(train_crops)
    x_test = engine.embed(test_crops)
    _, real_ids, real_images = stamp2vec_crops()
    x_real = engine.embed(real_images)
    w = train_head(x_train, train_y, args.dim, args.steps, args.seed).numpy()

    def head(x):
        z = x @ w
        return z / np.linalg.norm(z, axis=1, keepdims=True)

    report = {
        "config": vars(args) | {"out": str(args.out) if args.out else None},
        "synthetic_heldout": {"plain": retrieval(x_test, list(test_y)),
                              "head": retrieval(head(x_test), list(test_y))},
        "stamp2vec": {"plain": retrieval(x_real, real_ids), "head": retrieval(head(x_real), real_ids)},
    }
    print(json.dumps(report, indent=1))
    if args.out:
        np.save(args.out, w.astype(np.float32))


if __name__ == "__main__":
    main()
