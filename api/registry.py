"""Name-keyed, lazy, thread-safe model registry.

Each model is declared once as a :class:`ModelSpec` next to its engine code
(``api/engines/*.py``, one module per model family, like rembg's ``sessions/``). A spec names
its manifest files and metadata (task, classes or languages, input size, licence, source,
memory, reported accuracy — torchvision-weights style). The :class:`Registry` loads a model on
first use under a per-model lock, so concurrent first requests load it once, and keeps it for
the life of the worker process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, TypeVar, overload

from .modelfiles import ModelFile, check_file, load_manifest
from .problems import ModelUnavailable
from .settings import Settings

log = logging.getLogger("prism.registry")

#: The engine type a spec's factory builds (``registry.get(ppocr.SPEC)`` is a ``PPOcr``).
E = TypeVar("E")


@dataclass(frozen=True)
class ModelSpec(Generic[E]):
    """Static description of one model.

    ``files`` are manifest paths; ``factory(paths, settings)`` receives ``{manifest path:
    absolute Path}`` and returns the loaded engine object. ``labels`` are the class names or
    languages it outputs; ``memory_mb`` is the approximate resident size once loaded.
    """

    name: str
    task: str
    summary: str
    files: tuple[str, ...]
    licence: str
    source: str
    factory: Callable[[dict[str, Path], Settings], E]
    labels: tuple[str, ...] = ()
    input_size: str = ""
    memory_mb: int = 0
    accuracy: str = ""
    install: str = "make models"
    #: Files (relative to the models folder) a model needs that are not in the manifest:
    #: third-party snapshots too large to pin here, checked for presence only.
    folder_files: tuple[str, ...] = ()


@dataclass
class _Slot:
    spec: ModelSpec
    lock: threading.Lock = field(default_factory=threading.Lock)
    engine: Any = None
    load_ms: float | None = None
    loads: int = 0
    error: str | None = None


class Registry:
    """Holds every known model; loads each lazily and at most once per process.

    Args: ``specs`` the models; ``settings`` service settings (models dir, threads);
    ``manifest`` ``{path: ModelFile}`` (default: ``models/manifest.json``). Raises
    ``ValueError`` when two specs share a name.
    """

    def __init__(self, specs: Iterable[ModelSpec], settings: Settings,
                 manifest: dict[str, ModelFile] | None = None):
        self.settings = settings
        self.models_dir = Path(settings.models_dir)
        self.manifest = load_manifest() if manifest is None else manifest
        self._slots: dict[str, _Slot] = {}
        for spec in specs:
            if spec.name in self._slots:
                raise ValueError(f"two models are named {spec.name!r}")
            self._slots[spec.name] = _Slot(spec)

    def names(self) -> list[str]:
        """Registered model names, in declaration order."""
        return list(self._slots)

    def spec(self, name: str) -> ModelSpec:
        """The spec of ``name``; ``KeyError`` when unknown."""
        return self._slots[name].spec

    def _problems(self, spec: ModelSpec, verify: bool) -> list[str]:
        problems = [f"{rel}: missing" for rel in spec.folder_files
                    if not (self.models_dir / rel).exists()]
        for path in spec.files:
            entry = self.manifest.get(path)
            if entry is None:
                problems.append(f"{path}: not in the manifest")
                continue
            target = self.models_dir / path
            if not target.is_file():
                problems.append(f"{path}: missing")
            elif verify:
                why = check_file(entry, self.models_dir)
                if why:
                    problems.append(f"{path}: {why}")
        return problems

    @overload
    def get(self, model: ModelSpec[E]) -> E: ...

    @overload
    def get(self, model: str) -> Any: ...

    def get(self, model):
        """Return the loaded engine for ``model`` (its :class:`ModelSpec`, which types the
        result, or its name), loading it on first use.

        Raises :class:`ModelUnavailable` (HTTP 503) when its files are missing or corrupt or
        its loader fails; the message names the model and the install command; ``KeyError``
        for a model this registry does not hold.
        """
        name = model.name if isinstance(model, ModelSpec) else model
        slot = self._slots[name]
        engine = slot.engine
        if engine is not None:
            return engine
        with slot.lock:
            if slot.engine is not None:
                return slot.engine
            problems = self._problems(slot.spec, verify=True)
            if problems:
                slot.error = "; ".join(problems)
                raise ModelUnavailable(
                    f"Model '{name}' is not installed ({slot.error}). "
                    f"Install it with `{slot.spec.install}`.")
            start = time.perf_counter()
            paths = {p: (self.models_dir / p).resolve()
                     for p in slot.spec.files + slot.spec.folder_files}
            try:
                engine = slot.spec.factory(paths, self.settings)
            except Exception as exc:  # a loader failure must not kill the worker
                slot.error = f"load failed: {type(exc).__name__}"
                log.exception("model %s failed to load", name)
                raise ModelUnavailable(
                    f"Model '{name}' failed to load. Reinstall it with `{slot.spec.install}`."
                ) from None
            slot.load_ms = (time.perf_counter() - start) * 1000.0
            slot.loads += 1
            slot.error = None
            slot.engine = engine
            log.info("model %s loaded in %.0f ms", name, slot.load_ms)
            return engine

    def status(self, name: str) -> dict:
        """Public description of one model: metadata plus ``status`` = ``loaded`` |
        ``available`` | ``files missing``, and ``load_ms`` once loaded."""
        slot = self._slots[name]
        spec = slot.spec
        if slot.engine is not None:
            state = "loaded"
        else:
            state = "files missing" if self._problems(spec, verify=False) else "available"
        files = [{"path": p, "size": self.manifest[p].size, "sha256": self.manifest[p].sha256}
                 for p in spec.files if p in self.manifest]
        return {
            "name": spec.name, "task": spec.task, "summary": spec.summary,
            "labels": list(spec.labels), "input_size": spec.input_size,
            "licence": spec.licence, "source": spec.source, "memory_mb": spec.memory_mb,
            "accuracy": spec.accuracy, "files": files, "status": state,
            "load_ms": None if slot.load_ms is None else round(slot.load_ms, 1),
            "install": spec.install,
        }

    def preload(self, names: str) -> None:
        """Load models named in a comma list (or ``all``); failures are logged, not raised."""
        wanted = self.names() if names.strip() == "all" else [
            n.strip() for n in names.split(",") if n.strip()]
        for name in wanted:
            if name not in self._slots:
                log.warning("PRISM_PRELOAD names unknown model %r", name)
                continue
            try:
                self.get(name)
            except ModelUnavailable as exc:
                log.warning("preload of %s failed: %s", name, exc.detail)
