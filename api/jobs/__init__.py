"""Prism's jobs, one module per job, all in :data:`JOBS` (see :mod:`api.jobs.base`)."""

from .base import JOBS, Context, Job, add_arguments, defaults, parse_options, register

# isort: off
# Registration order is the order of the CLI, GET /capabilities and the page's tabs.
from . import ocr, extract, cut, stamps, generate_text  # noqa: E402,F401 - registers them
# isort: on

__all__ = ["JOBS", "Context", "Job", "add_arguments", "defaults", "parse_options", "register"]
