"""Retrieval quality of Prism's stamp embeddings on Stamp2vec's own crops.

Data: ``../shared/data/seeds/stamp2vec/embedding_models/vits8/oml/data``. ``df_stamps.csv``
gives every one of its 40 crops a label of its own, so it holds no positive pair; the stamp
identity is the template name before the underscore (``circle2_1233`` and ``circle2_1246`` are
the same stamp on two documents), and the six ``test/images/99?_*.bmp`` crops are one stamp at
six rotations. Every crop whose identity has another crop is a query; the gallery is all
other crops (45). Prints precision@1, mAP@5 and CMC@5 (OML's definitions) as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.engines.stampembed import WEIGHTS, StampEmbedder  # noqa: E402
from api.settings import Settings  # noqa: E402

DATA = (Path(__file__).resolve().parents[2] / "shared" / "data" / "seeds" / "stamp2vec"
        / "embedding_models" / "vits8" / "oml" / "data")


def crops() -> tuple[list[str], list[str], list[np.ndarray]]:
    """Names, identities and RGB arrays of the 46 Stamp2vec crops."""
    names, ids, images = [], [], []
    for path in sorted((DATA / "train_val" / "images").glob("*.png")):
        names.append(path.name)
        ids.append(path.stem.split("_")[0])
        images.append(np.asarray(Image.open(path).convert("RGB")))
    for path in sorted((DATA / "test" / "images").glob("*.bmp")):
        names.append(path.name)
        ids.append("99")
        images.append(np.asarray(Image.open(path).convert("RGB")))
    return names, ids, images


def retrieval(emb: np.ndarray, ids: list[str], k: int = 5) -> dict:
    """precision@1, mAP@k and CMC@k over queries that have at least one positive."""
    sims = emb @ emb.T
    np.fill_diagonal(sims, -np.inf)
    ids_arr = np.array(ids)
    p1, aps, cmc = [], [], []
    for q in range(len(ids)):
        positives = (ids_arr == ids_arr[q]).sum() - 1
        if positives == 0:
            continue
        order = np.argsort(-sims[q])[:k]
        rel = (ids_arr[order] == ids_arr[q]).astype(float)
        precision_at = np.cumsum(rel) / np.arange(1, k + 1)
        aps.append(float((precision_at * rel).sum() / min(k, positives)))
        p1.append(rel[0])
        cmc.append(float(rel.any()))
    return {"queries": len(p1), "gallery": len(ids) - 1, "precision_at_1": round(float(np.mean(p1)), 3),
            f"map_at_{k}": round(float(np.mean(aps)), 3), f"cmc_at_{k}": round(float(np.mean(cmc)), 3)}


def main() -> None:
    """Embed every crop with the installed model and print the retrieval metrics."""
    settings = Settings.from_env()
    engine = StampEmbedder(Path(settings.models_dir) / WEIGHTS, 2)
    names, ids, images = crops()
    result = retrieval(engine.embed(images), ids)
    result["stamp2vec_published"] = {"map_at_5": 0.80, "cmc_at_5": 0.95}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
