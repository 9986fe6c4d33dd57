"""What a job is: its name, route, models, options (every default and bound in one frozen
dataclass) and ``run(documents, options, ctx) -> result``. The HTTP handlers, the CLI and the
tests are adapters over :data:`JOBS`; each result owns every output form it has
(``as_dict()``, PNGs, crop files), like Ultralytics' ``Results``.

Option fields are declared with :func:`option`; :func:`parse_options` turns a mapping (a
validated request body, a parsed command line) into the dataclass, filling defaults and
checking bounds; :func:`add_arguments` builds argparse flags from the same fields.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..pipelines.base import Deadline, Timings
from ..problems import BadRequest
from ..registry import Registry
from ..settings import Settings


def option(default: Any, *, kind: type | str | None = None, minimum: float | None = None,
           maximum: float | None = None, choices: tuple | None = None,
           max_length: int | None = None, help: str = "", cli: str | bool | None = None):
    """A job option: a dataclass field whose metadata carries its kind (``float``, ``int``,
    ``bool``, ``str`` or ``"names"``, a comma-separated or list value kept as a tuple of
    strings; default: the type of ``default``), numeric bounds, allowed ``choices`` (for
    names: of each element), ``max_length`` of a string, CLI help and flag (default
    ``--name-with-dashes``; ``False``: an HTTP-only option such as the response form)."""
    if kind is None:
        kind = type(default) if default is not None else str
    return field(default=default, metadata={
        "kind": kind, "minimum": minimum, "maximum": maximum, "choices": choices,
        "max_length": max_length, "help": help, "cli": cli})


def _names(value) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))


def _coerce(name: str, meta: Mapping, value):
    kind = meta["kind"]
    try:
        if kind == "names":
            value = _names(value)
            if not value:
                raise ValueError
        elif kind is bool:
            value = value if isinstance(value, bool) else str(value).lower() in ("1", "true",
                                                                                  "yes", "on")
        else:
            value = kind(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be of type {getattr(kind, '__name__', kind)}.") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, not {value}.")
    lo, hi = meta["minimum"], meta["maximum"]
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadRequest(f"{name} must be in [{lo}, {hi}], not {value}.")
    if meta["max_length"] is not None and len(value) > meta["max_length"]:
        raise BadRequest(f"{name} is longer than {meta['max_length']} characters.")
    choices = meta["choices"]
    if choices is not None:
        bad = [v for v in (value if kind == "names" else (value,)) if v not in choices]
        if bad:
            raise BadRequest(f"{name} {bad} unknown; choose from {', '.join(choices)}.")
    return value


def parse_options(cls: type, values: Mapping[str, Any]):
    """An instance of the options dataclass ``cls`` from ``values``: a missing, ``None`` or
    empty value means the field's default; keys that are not fields are ignored. Raises
    :class:`~api.errors.BadRequest` for a value of the wrong kind, out of bounds or not among
    the choices."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        value = values.get(f.name)
        if value is None or value == "" or value == []:
            continue
        kwargs[f.name] = _coerce(f.name, f.metadata, value)
    return cls(**kwargs)


def add_arguments(parser: argparse.ArgumentParser, cls: type, required: tuple[str, ...] = ()
                  ) -> None:
    """Add a flag per field of ``cls`` to ``parser`` (defaults left to
    :func:`parse_options`, so each default exists only in the dataclass); fields in
    ``required`` must be given."""
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if meta["cli"] is False:
            continue
        flag = meta["cli"] or "--" + f.name.replace("_", "-")
        shown = ",".join(f.default) if isinstance(f.default, tuple) else f.default
        text = meta["help"] if f.name in required or f.default is None \
            else f"{meta['help']} (default: {shown})"
        if meta["kind"] is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=None, help=text)
        else:
            parser.add_argument(flag, dest=f.name, default=None, required=f.name in required,
                                type=None if meta["kind"] == "names" else meta["kind"],
                                choices=None if meta["kind"] == "names" else meta["choices"],
                                help=text)


def load_inputs(job: "Job", options, sources: list[list[tuple[str, bytes]]],
                settings: Settings) -> list:
    """Decode a job's inputs: ``sources[k]`` the ``(filename, bytes)`` given for
    ``job.inputs[k]`` (several for ``file`` when ``job.multiple``). ``file`` may be a PDF when
    ``job.takes_pdf`` (rendered at the options' ``pages``/``dpi``), later inputs are images;
    all share one :class:`~api.inputs.Budget`. Returns one :class:`~api.inputs.Document` per
    source, ``file`` documents first; raises the :mod:`api.inputs` problems."""
    from ..inputs import Budget, load_document

    budget = Budget.for_request(settings)
    docs = []
    for k, given in enumerate(sources):
        first = k == 0
        docs += [load_document(data, name, settings, allow_pdf=first and job.takes_pdf,
                               pages=getattr(options, "pages", None) if first else None,
                               dpi=getattr(options, "dpi", None) if first else None,
                               budget=budget)
                 for name, data in given]
    return docs


def defaults(cls: type) -> dict[str, Any]:
    """``{field: default}`` of an options dataclass."""
    return {f.name: f.default for f in dataclasses.fields(cls)}


def _no_progress(pages: int) -> None:
    return None


@dataclass
class Context:
    """What a job runs with: the model ``registry``, the ``settings`` (limits), a stage timer,
    the request's deadline and ``progress(pages)``, called after each finished page (an
    async job counts pages with it; it may raise to stop the job)."""

    registry: Registry
    settings: Settings
    timings: Timings = field(default_factory=Timings)
    deadline: Deadline = field(default_factory=Deadline)
    progress: Callable[[int], None] = _no_progress


@dataclass(frozen=True)
class Reply:
    """A job's answer as the HTTP endpoint sends it: ``body`` (a JSON-able dict, or bytes of
    ``media_type``) and, for a download, its ``filename``. The synchronous endpoint and an
    async job's ``GET /jobs/{id}/result`` send the same reply."""

    body: dict | bytes
    media_type: str = "application/json"
    filename: str | None = None


def json_reply(result, timings: Timings) -> Reply:
    """The default reply: ``result.as_dict()`` plus ``timings_ms``."""
    return Reply({**result.as_dict(), "timings_ms": timings.as_dict()})


def sum_timings(bodies: list[dict]) -> dict[str, float]:
    """``timings_ms`` of several JSON replies added up per stage (rounded to 0.1 ms)."""
    total: dict[str, float] = {}
    for body in bodies:
        for stage, ms in body.get("timings_ms", {}).items():
            total[stage] = round(total.get(stage, 0.0) + ms, 1)
    return total


def png_reply(png: bytes) -> Reply:
    """A PNG reply."""
    return Reply(png, "image/png")


def zip_bytes(files: list[tuple[str, bytes]]) -> bytes:
    """A deflated zip of ``(name, bytes)`` entries."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            zf.writestr(name, data)
    return buf.getvalue()


def zip_reply(data: bytes, filename: str) -> Reply:
    """A zip download."""
    return Reply(data, "application/zip", filename)


@dataclass(frozen=True)
class Job:
    """One capability. ``name`` is used everywhere (route ``/name`` with ``-`` → ``/``
    for sub-jobs, CLI subcommand, bench, job list); ``options`` its options dataclass;
    ``models`` the registry names it loads; ``inputs`` the file parts it takes (``file``,
    then e.g. ``reference``); ``takes_pdf`` whether PDFs are accepted; ``multiple`` whether
    several ``file`` parts are; ``run(documents, options, ctx)`` returns its result, one
    document per input (all ``file`` documents first when ``multiple``);
    ``respond(options, result, timings, accept)`` turns it into the endpoint's
    :class:`Reply` (``accept``: the request's Accept header). ``merge(replies)``, where
    given, joins the JSON replies of consecutive page ranges of one PDF into the reply of
    the whole (async jobs split long PDFs into page chunks: :mod:`api.queue`); ``None`` when
    the reply for these options is not JSON or the job cannot be split."""

    name: str
    route: str
    summary: str
    options: type
    models: tuple[str, ...]
    run: Callable[[list, Any, Context], Any]
    inputs: tuple[str, ...] = ("file",)
    takes_pdf: bool = False
    multiple: bool = False
    required: tuple[str, ...] = ()
    respond: Callable[[Any, Any, Timings, str], Reply] = \
        lambda options, result, timings, accept: json_reply(result, timings)
    merge: Callable[[Any, list[dict]], dict] | None = None

    def describe(self) -> dict:
        """The job as JSON: name, route, summary, inputs, models and each option's default
        and bounds (``GET /capabilities``)."""
        opts = []
        for f in dataclasses.fields(self.options):
            meta = f.metadata
            kind = meta["kind"]
            opts.append({"name": f.name, "type": kind if isinstance(kind, str) else kind.__name__,
                         "default": list(f.default) if isinstance(f.default, tuple)
                         else f.default,
                         "required": f.name in self.required,
                         **{k: (list(meta[k]) if k == "choices" else meta[k])
                            for k in ("minimum", "maximum", "choices") if meta[k] is not None},
                         "help": meta["help"]})
        return {"name": self.name, "route": self.route, "summary": self.summary,
                "inputs": list(self.inputs), "takes_pdf": self.takes_pdf,
                "multiple": self.multiple, "models": list(self.models), "options": opts}


#: Every job by name, in registration order.
JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add ``job`` to :data:`JOBS`. Raises ``ValueError`` when its name or route is taken."""
    if job.name in JOBS or any(j.route == job.route for j in JOBS.values()):
        raise ValueError(f"job {job.name!r} ({job.route}) is already registered")
    JOBS[job.name] = job
    return job


def unregister(name: str) -> None:
    """Remove a job (tests register and remove dummy jobs)."""
    JOBS.pop(name, None)
