"""Prism's jobs, one module per job, all in :data:`JOBS` (see :mod:`api.jobs.base`)."""

from .base import JOBS, Context, Job, add_arguments, defaults, parse_options, register
from . import ocr, extract, cut, stamps, generate_text  # noqa: E402,F401 - registers them

__all__ = ["JOBS", "Context", "Job", "add_arguments", "defaults", "parse_options", "register"]
