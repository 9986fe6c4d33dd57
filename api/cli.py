"""Command line: every job of :data:`api.jobs.JOBS` in process, on files or whole folders.

    python -m api ocr FILES... [--lang auto|en|ko] [--min-score S] [--pages 1-3] [--dpi 200]
    python -m api extract FILES... [--classes figure,table] [--min-score S]
    python -m api cut FILES... --objects dog,person [--white-bg] [--crop]
    python -m api stamps FILES... [--min-score S] [--mask] [--pages 1-3] [--dpi 200]
    python -m api stamps-embed CROPS...
    python -m api stamps-compare FILES... --reference CROP [--threshold 0.8]
    python -m api generate-text FILES... [--prompt ...] [--max-new-tokens N]
    python -m api models list|fetch|verify

Each job's flags and defaults come from its options dataclass (``python -m api JOB -h`` shows
them). Folders are walked recursively. Each input gives one JSON line on stdout, or with
``--out DIR`` a ``<name>.json`` there plus the job's files (``<name>.png`` cut-outs,
``<name>_p<page>_<class>_<i>.png`` region crops, ``<name>_p<page>_stamp_<i>.png`` stamp
crops, ``<name>_boxes.png`` grounded phrases). A progress bar goes to stderr. Exit status 1
when any input failed (its line carries ``error``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .problems import Problem
from .settings import Settings


def _inputs(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            files.append(path)
    return files


def _run_one(job, path: Path, args, settings, registry, out: Path | None) -> dict:
    from .jobs import Context, parse_options
    from .jobs.base import load_inputs

    opts = parse_options(job.options, vars(args))
    given = [path] + [Path(getattr(args, part)) for part in job.inputs[1:]]
    docs = load_inputs(job, opts, [[(p.name, p.read_bytes())] for p in given], settings)
    result = job.run(docs, opts, Context(registry, settings))
    if out:
        for name, data in result.files(path.stem):
            (out / name).write_bytes(data)
    return {"file": str(path), **result.as_dict()}


def parser() -> argparse.ArgumentParser:
    """The ``python -m api`` parser: a subcommand per job (flags from its options),
    ``models`` and ``worker``."""
    from .jobs import JOBS, add_arguments

    root = argparse.ArgumentParser(prog="python -m api", description=__doc__.split("\n\n")[0])
    sub = root.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="+", help="files or folders")
    common.add_argument("--out", help="write results here instead of JSON lines on stdout")
    for job in JOBS.values():
        p = sub.add_parser(job.name, parents=[common], help=job.summary)
        for part in job.inputs[1:]:
            p.add_argument(f"--{part}", required=True, help=f"the {part} image")
        add_arguments(p, job.options, required=job.required)
    models = sub.add_parser("models", help="model files: list, fetch, verify")
    models.add_argument("action", choices=["list", "fetch", "verify"])
    worker = sub.add_parser("worker", help="run async jobs (POST /jobs) from PRISM_REDIS_URL")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m api``."""
    args = parser().parse_args(argv)
    if args.command == "models":
        from .modelfiles import main as modelfiles_main

        return modelfiles_main([args.action])
    if args.command == "worker":
        from .queue.worker import main as worker_main

        return worker_main(["--burst"] if args.burst else [])

    from tqdm import tqdm

    from .engines import ALL_SPECS
    from .jobs import JOBS
    from .registry import Registry

    job = JOBS[args.command]
    settings = Settings.from_env()
    registry = Registry(ALL_SPECS, settings)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in tqdm(_inputs(args.inputs), desc=args.command, unit="file", file=sys.stderr):
        try:
            record = _run_one(job, path, args, settings, registry, out)
        except (Problem, OSError) as exc:
            failed += 1
            record = {"file": str(path), "error": getattr(exc, "detail", None) or str(exc)}
        line = json.dumps(record, ensure_ascii=False)
        if out:
            (out / f"{path.stem}.json").write_text(line + "\n")
        else:
            print(line, flush=True)
    return 1 if failed else 0
