"""Figures, tables and equations in document pages: layout model → evidence-based refinement.

The CDLA PicoDet layout model (``layout-cdla``) proposes regions. Patent pages defeat it in
three ways (measured on ImgExtract's own samples), each fixed here with pixel evidence:

- a whole front page called one figure: page-sized figures are replaced by the graphic
  regions inside them — ink left once text lines (PP-OCR detector) and straight rules are
  masked out;
- two neighbouring drawings merged: figures are split at empty gutters, and label-sized parts
  ("Fig. 3B") rejoin their nearest drawing;
- equations cut short: equation boxes grow sideways over the ink connected to them.
A figure and a table on the same region are resolved by evidence (ruling lines → table,
non-text graphics → figure, neither → dropped); every box is finally tightened to its ink.
For born-digital PDF pages, boxes of PDF tables (PyMuPDF ``find_tables``), embedded images and
vector-drawing clusters are passed in as ``hints`` (pixels) and confirm or add items.

One module per concern: :mod:`.geometry` (ink boxes, gutters, rules), :mod:`.refine` (the
steps above, thresholds in :class:`RefineParams`), :mod:`.pipeline` (one page) and
:mod:`.pdf` (hints from a born-digital PDF, every page of a document).
"""

from .pdf import extract_document, page_hints
from .pipeline import MIN_SCORE, TARGETS, ExtractPage, ExtractPipeline
from .refine import RefineParams

__all__ = ["MIN_SCORE", "TARGETS", "ExtractPage", "ExtractPipeline", "RefineParams",
           "extract_document", "page_hints"]
