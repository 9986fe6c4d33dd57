"""Prism: one self-hosted REST service for OCR, document extraction, cut-outs, stamps and captions."""

__version__ = "0.1.0"
