"""Job ``ocr`` (``POST /ocr``): text lines of an image or of PDF pages, English and Korean."""

from __future__ import annotations

from dataclasses import dataclass

from .. import orientation
from ..pipelines import ocr as pipeline
from .base import Context, Job, option, register, sum_timings

#: Page options every job that takes PDFs has (see ``Pages`` and ``Dpi`` in openapi.yaml).
PAGES = dict(max_length=200, help="PDF pages, 1-based, e.g. 1-3,5 (default all)")
DPI = dict(kind=int, minimum=36, maximum=600, help="PDF render resolution (default 200)")
#: ``orient`` of /ocr, /stamps and /extract (api/orientation.py).
ORIENT = dict(help="turn pages scanned sideways or upside down upright first (boxes stay in "
                   "the page as sent)")


@dataclass(frozen=True)
class OcrOptions:
    """``lang``: ``auto`` decides per line, ``en`` Latin only, ``ko`` every line as Korean;
    ``model``: the Latin recogniser, ``fast`` or ``accurate``; ``min_score`` 0–1, lines read
    with less are dropped; ``orient`` reads pages scanned sideways turned upright;
    ``pages``/``dpi`` for PDFs."""

    lang: str = option("auto", choices=pipeline.LANGS, help="auto, en or ko")
    model: str = option(pipeline.MODELS[0], choices=pipeline.MODELS,
                        help="Latin recogniser: fast (PP-OCRv6 tiny) or accurate (small)")
    min_score: float = option(pipeline.MIN_SCORE, minimum=0, maximum=1,
                              help="drop lines read with a lower score")
    orient: bool = option(orientation.ORIENT, **ORIENT)
    pages: str | None = option(None, **PAGES)
    dpi: int | None = option(None, **DPI)


@dataclass
class OcrResult:
    """The pages of one document: ``pages`` ``[(OcrPage, dpi or None)]`` in page order."""

    filename: str
    pages: list[tuple[pipeline.OcrPage, int | None]]

    def as_dict(self) -> dict:
        """``{"filename", "pages": [OcrPage.as_dict() + "dpi"]}`` (``OcrResult`` in the
        spec, without ``timings_ms``)."""
        return {"filename": self.filename,
                "pages": [{**page.as_dict(), "dpi": dpi} for page, dpi in self.pages]}

    def files(self, stem: str) -> list[tuple[str, bytes]]:
        """No files besides the JSON."""
        return []


def run(documents, options: OcrOptions, ctx: Context) -> OcrResult:
    """OCR every page of ``documents[0]`` (:class:`api.inputs.Document`)."""
    doc = documents[0]
    ocr = pipeline.OcrPipeline(ctx.registry)
    pages = []
    for page in doc.pages:
        ctx.deadline.check()
        pages.append((ocr(page.image, page=page.page, lang=options.lang,
                          model=options.model, min_score=options.min_score, timings=ctx.timings,
                          deadline=ctx.deadline, orient=options.orient), page.dpi))
        ctx.progress(1)
    return OcrResult(doc.filename, pages)


def merge(options: OcrOptions, bodies: list[dict]) -> dict:
    """The JSON of a whole PDF from the JSON of its consecutive page ranges: pages joined in
    order, ``timings_ms`` summed per stage."""
    return {"filename": bodies[0]["filename"],
            "pages": [page for body in bodies for page in body["pages"]],
            "timings_ms": sum_timings(bodies)}


JOB = register(Job(
    name="ocr", route="/ocr", summary="text lines, English and Korean, images and PDFs",
    options=OcrOptions, models=("ocr-ppocrv6", "ocr-ko-rec", "ocr-tesseract-kor"), run=run,
    takes_pdf=True, merge=merge))
