"""Jobs ``stamps`` (``POST /stamps``), ``stamps-embed`` (``POST /stamps/embed``) and
``stamps-compare`` (``POST /stamps/compare``): ink stamps and seals found, embedded and
compared."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .. import orientation
from ..engines.stampdet import MIN_SCORE
from ..pipelines import stamps as pipeline
from ..vision import crop_box, draw_boxes, encode_png
from .base import Context, Job, Reply, json_reply, option, png_reply, register, zip_bytes, zip_reply
from .ocr import DPI, ORIENT, PAGES

_MIN_SCORE = dict(minimum=0, maximum=1, help="detector score from which a box is a stamp "
                                             "(the detector card's threshold)")
_VERIFY = dict(help=f"check boxes scoring below {pipeline.VERIFY_BELOW} with the seal text "
                    "detector and keep those with text")
_DOCUMENT = dict(help="look for stamps only on pages the ImageNet classifier takes for "
                      f"documents (document score ≥ {pipeline.MIN_DOCUMENT}) or that are at "
                      f"least {pipeline.PHOTO_MAX_PAPER:.0%} paper; a photo gets none")


@dataclass(frozen=True)
class StampsOptions:
    """``min_score`` 0–1; ``embeddings`` adds each stamp's vector; ``verify_text`` the seal
    text check; ``document_check`` no stamps on pages that are not documents; ``orient``
    pages scanned sideways or upside down turned upright for detection; ``mode`` json,
    annotated (first page, PNG), removed (first page with the stamps' ink removed, PNG) or
    zip (every page's stamp crops and a manifest); ``mask`` adds each stamp's ink mask;
    ``refine`` grows boxes to the whole impression; ``pages``/``dpi`` for PDFs."""

    min_score: float = option(MIN_SCORE, **_MIN_SCORE)
    embeddings: bool = option(False, help="add each stamp's embedding")
    verify_text: bool = option(pipeline.VERIFY_TEXT, **_VERIFY)
    document_check: bool = option(pipeline.DOCUMENT_CHECK, **_DOCUMENT)
    orient: bool = option(orientation.ORIENT, **ORIENT)
    mode: str = option("json", choices=("json", "annotated", "removed", "zip"),
                       help="json, annotated PNG or removed PNG (first page), or zip of "
                            "crops", cli=False)
    mask: bool = option(False, help="add each stamp's ink mask (base64 PNG)")
    refine: bool = option(True, help="grow or shrink boxes to the whole stamp's ink")
    pages: str | None = option(None, **PAGES)
    dpi: int | None = option(None, **DPI)


@dataclass
class StampsResult:
    """``pages`` the pages searched (:class:`api.inputs.Page`) and ``found`` the pipeline's
    :class:`api.pipelines.stamps.StampsResult`."""

    pages: list
    found: pipeline.StampsResult
    options: StampsOptions

    def as_dict(self) -> dict:
        """``{"stamps", "similarity", "pages"}`` with embeddings and masks as the options
        ask."""
        return self.found.as_dict(self.options.embeddings, self.options.mask)

    def annotated_png(self) -> bytes:
        """The first page with numbered, scored boxes (Stamp2vec's ``/image-w-boxes``)."""
        stamps = self.found.stamps
        labels = [f"{i + 1}: {s.score:.2f}" for i, s in enumerate(stamps)]
        return encode_png(draw_boxes(self.pages[0].image, [s.box for s in stamps], labels))

    def removed_png(self) -> bytes:
        """The first page with the stamps' ink replaced by paper colour."""
        return encode_png(pipeline.remove_stamps(self.pages[0].image, self.found.stamps))

    def files(self, stem: str) -> list[tuple[str, bytes]]:
        """``<stem>_p<page>_stamp_<n>.png`` crops (CLI ``--out``), ``n`` from 1 in the
        order of ``stamps``."""
        by_page = {p.page: p.image for p in self.pages}
        return [(f"{stem}_p{s.page}_stamp_{i}.png", encode_png(crop_box(by_page[s.page], s.box)))
                for i, s in enumerate(self.found.stamps, 1)]

    def crops_zip(self, stem: str = "stamps") -> bytes:
        """:meth:`files` and ``manifest.json`` (``{"stamps": [{"file", "page", "box",
        "score"}, ...]}``) as a zip."""
        files = self.files(stem)
        manifest = [{"file": name, **s.as_dict()} for (name, _), s in zip(files,
                                                                          self.found.stamps)]
        return zip_bytes(files + [("manifest.json", json.dumps({"stamps": manifest},
                                                               indent=1).encode())])


def run_stamps(documents, options: StampsOptions, ctx: Context) -> StampsResult:
    """Stamps of every page (the first page only for the PNG modes; embeddings only for
    JSON)."""
    image_mode = options.mode in ("annotated", "removed")
    pages = documents[0].pages[:1] if image_mode else documents[0].pages
    found = pipeline.StampsPipeline(ctx.registry)(
        pages, min_score=options.min_score, embed=options.mode == "json",
        verify=options.verify_text,
        refine=options.refine or options.mode == "removed", timings=ctx.timings,
        deadline=ctx.deadline, document_check=options.document_check, orient=options.orient)
    return StampsResult(pages, found, options)


@dataclass(frozen=True)
class EmbedOptions:
    """``/stamps/embed`` has no options."""


@dataclass
class EmbedResult:
    """``embedding`` ``(D,)`` float32 unit vector of one stamp crop."""

    embedding: np.ndarray

    def as_dict(self) -> dict:
        """``{"embedding", "dim", "model"}`` (6 decimals)."""
        return {"embedding": [round(float(v), 6) for v in self.embedding],
                "dim": int(self.embedding.shape[0]), "model": "stamp-embed"}

    def files(self, stem: str) -> list[tuple[str, bytes]]:
        """No files besides the JSON."""
        return []


def run_embed(documents, options: EmbedOptions, ctx: Context) -> EmbedResult:
    """Embed the first image, a cropped stamp (Stamp2vec's ``/embeddings-from-cropped``)."""
    with ctx.timings.stage("embed"):
        vector = pipeline.StampsPipeline(ctx.registry).embed([documents[0].pages[0].image])[0]
    return EmbedResult(vector)


@dataclass(frozen=True)
class CompareOptions:
    """``min_score`` 0–1; ``threshold`` −1…1, the cosine similarity from which the document
    carries the reference stamp; ``verify_text``; ``document_check``; ``orient``;
    ``pages``/``dpi`` for PDFs."""

    min_score: float = option(MIN_SCORE, **_MIN_SCORE)
    threshold: float = option(pipeline.MATCH_THRESHOLD, minimum=-1, maximum=1,
                              help="cosine similarity from which a stamp matches")
    verify_text: bool = option(pipeline.VERIFY_TEXT, **_VERIFY)
    document_check: bool = option(pipeline.DOCUMENT_CHECK, **_DOCUMENT)
    orient: bool = option(orientation.ORIENT, **ORIENT)
    pages: str | None = option(None, **PAGES)
    dpi: int | None = option(None, **DPI)


@dataclass
class CompareResult:
    """The document's stamps (``found``) and ``similarity`` ``(N,)`` float32 cosine of each to
    the reference; the verdict is ``match``."""

    found: pipeline.StampsResult
    similarity: np.ndarray
    threshold: float

    @property
    def best(self) -> int | None:
        """Index of the most similar stamp, ``None`` when there is none."""
        return int(self.similarity.argmax()) if len(self.similarity) else None

    @property
    def match(self) -> bool:
        """Whether the best stamp's similarity reaches ``threshold``."""
        return self.best is not None and float(self.similarity[self.best]) >= self.threshold

    def as_dict(self) -> dict:
        """``{"stamps" (+ similarity), "best", "best_similarity", "match", "threshold",
        "pages"}``."""
        best = self.best
        return {"stamps": [{**s.as_dict(), "similarity": round(float(v), 4)}
                           for s, v in zip(self.found.stamps, self.similarity)],
                "best": best,
                "best_similarity": None if best is None else round(float(
                    self.similarity[best]), 4),
                "match": self.match, "threshold": self.threshold,
                "pages": self.found.as_dict()["pages"]}

    def files(self, stem: str) -> list[tuple[str, bytes]]:
        """No files besides the JSON."""
        return []


def run_compare(documents, options: CompareOptions, ctx: Context) -> CompareResult:
    """Score the stamps of ``documents[0]`` against the reference crop ``documents[1]``."""
    found, sims = pipeline.StampsPipeline(ctx.registry).compare(
        documents[0].pages, documents[1].pages[0].image, min_score=options.min_score,
        verify=options.verify_text, timings=ctx.timings, deadline=ctx.deadline,
        document_check=options.document_check, orient=options.orient)
    return CompareResult(found, sims, options.threshold)


_MODELS = ("stamp-det", "stamp-embed", "seal-text", "ocr-ppocrv6")
def respond_stamps(options: StampsOptions, result: StampsResult, timings,
                   accept: str = "") -> Reply:
    """``mode`` json → JSON; annotated → the first page with its stamps drawn; removed → the
    first page with the stamps' ink removed (PNGs); zip → the crops and their manifest."""
    if options.mode == "zip":
        return zip_reply(result.crops_zip(), "stamps.zip")
    if options.mode == "annotated":
        return png_reply(result.annotated_png())
    if options.mode == "removed":
        with timings.stage("remove"):
            return png_reply(result.removed_png())
    return json_reply(result, timings)


STAMPS = register(Job(
    name="stamps", route="/stamps", summary="stamps and seals: boxes, masks, embeddings",
    options=StampsOptions, models=_MODELS, run=run_stamps, takes_pdf=True,
    respond=respond_stamps))
EMBED = register(Job(
    name="stamps-embed", route="/stamps/embed", summary="embedding of one cropped stamp",
    options=EmbedOptions, models=("stamp-embed",), run=run_embed))
COMPARE = register(Job(
    name="stamps-compare", route="/stamps/compare",
    summary="does a document carry the reference stamp?", options=CompareOptions,
    models=_MODELS, run=run_compare, inputs=("file", "reference"), takes_pdf=True))
