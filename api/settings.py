"""Typed service settings read from ``PRISM_*`` environment variables.

Every setting has a documented default so the service starts with no configuration at all
(``make run``). ``python -m api.settings`` prints the table that docs/configuration.md carries.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _setting(default, doc: str):
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    """Service configuration. Each field ``x`` is read from env var ``PRISM_X``.

    Units are in the field names (``_bytes``, ``_s`` seconds, ``_mp`` megapixels).
    Raises ``ValueError`` from :meth:`from_env` when a variable cannot be parsed.
    """

    host: str = _setting("127.0.0.1", "Address the service listens on.")
    port: int = _setting(8000, "HTTP port of the service.")
    front: str = _setting(
        "nginx", "What answers clients on PRISM_HOST:PRISM_PORT: 'nginx' (Nginx in front of "
                 "uWSGI's unix socket: holds slow clients and buffers bodies without tying up "
                 "a worker, answers malformed requests 400) or 'uwsgi' (uWSGI's HTTP socket "
                 "itself; two clients sending a byte a second took both workers).")
    processes: int = _setting(2, "uWSGI worker processes (each loads its own models).")
    threads: int = _setting(
        1, "Threads per worker. Keep 1: uWSGI 2.0.31 fires harakiri on healthy threaded "
           "workers (measured: a 4 s request killed with harakiri = 3000 s).")
    socket: str = _setting(
        "", "Also serve the uwsgi protocol (for Nginx) on this unix socket path (mode 0660) or "
            "on HOST:PORT over TCP (compose: Nginx in front of several API replicas; bind it "
            "only on a private network, the uwsgi protocol has no authentication).")
    socket_owner: str = _setting(
        "root:www-data", "Owner of PRISM_SOCKET (the container uses prism:www-data).")
    models_dir: str = _setting(str(REPO_ROOT / "models"), "Folder of fetched model files.")
    model_mirror: str = _setting(
        str(REPO_ROOT.parent / "shared" / "models"),
        "Local mirror folder the install step copies non-registry model files from.",
    )
    preload: str = _setting("", "Comma-separated model names (or 'all') loaded at worker start.")
    ort_threads: int = _setting(
        0, "ONNX Runtime / torch intra-op threads per process; 0 = cores // processes."
    )
    matte_size: int = _setting(
        384, "Largest ISNet matte side (multiple of 64); each crop is matted at its own size up "
             "to this (384: mask IoU 0.99 against 512 in 55 % of the time, scripts/eval_cut.py).")
    max_mattes: int = _setting(
        10, "ISNet calls per /cut request at most; objects past it share one whole-image "
            "matte (the response says capped).")
    max_new_tokens: int = _setting(128, "Cap on /generate-text max_new_tokens.")
    kosmos_variant: str = _setting(
        "int8", "Kosmos-2 CPU variant: fp32, bf16 or int8 (int8: 73 vs 323 ms per token, "
                "2.2 vs 6.5 GB; bf16: 207 ms, 3.3 GB; bench/bench_kosmos.py).")
    max_upload_bytes: int = _setting(25 * 1024 * 1024, "Largest accepted request body.")
    max_image_mp: float = _setting(50.0, "Largest decoded image, in megapixels (bomb guard).")
    min_image_side: int = _setting(
        8, "Smallest image or rendered page side in pixels; thinner inputs get 422 (a 2 × "
           "16,000 px strip is no page, and its text line would be 384,000 px long).")
    max_json_depth: int = _setting(
        16, "Deepest array/object nesting accepted in a JSON request body (400 beyond).")
    max_pdf_pages: int = _setting(20, "Most pages processed from one PDF.")
    max_request_pages: int = _setting(
        40, "Most pages (images and PDF pages, all files together) one request may hold.")
    max_request_mp: float = _setting(
        250.0, "Most decoded megapixels one request may hold, all pages together (3 bytes a "
               "pixel: 250 MP is 750 MB); checked from headers and page sizes before decoding.")
    default_dpi: int = _setting(200, "PDF render resolution when the request names none.")
    max_dpi: int = _setting(400, "Highest PDF render resolution a request may ask for.")
    allow_urls: bool = _setting(True, "Accept `image_url` inputs at all.")
    allow_private_urls: bool = _setting(
        False, "Let `image_url` reach loopback/private addresses (tests only)."
    )
    url_connect_timeout_s: float = _setting(5.0, "Connect timeout for `image_url` fetches.")
    url_read_timeout_s: float = _setting(10.0, "Read timeout (and total budget) for `image_url`.")
    url_max_redirects: int = _setting(3, "Redirects followed for `image_url`, each re-checked.")
    request_timeout_s: float = _setting(
        60.0, "Soft per-request deadline; past it the request gets 504 problem+json."
    )
    harakiri_s: int = _setting(
        70, "uWSGI hard kill of a worker stuck in one request (native code that never reaches "
            "a deadline check, e.g. MuPDF on nested Form XObjects); at least "
            "request_timeout_s + 10.")
    max_requests: int = _setting(
        10000, "uWSGI recycles a worker after this many requests (worker i: + i × 10 %, so "
               "workers never restart together); a backstop, RSS is flat (uwsgi.ini).")
    reload_on_rss_mb: int = _setting(
        12288, "uWSGI recycles a worker whose RSS passes this after a request (0 = off); above "
        "the largest legitimate worker (all models, Kosmos-2 fp32: about 8 GB) so only runaway "
        "growth triggers it.")
    worker_max_rss_mb: int = _setting(
        14336, "uWSGI's master kills a worker whose RSS passes this even mid-request "
               "(evil-reload-on-rss; 0 = off): the cap on a runaway native decoder. Above "
               "PRISM_RELOAD_ON_RSS_MB, which recycles between requests.")
    malloc_trim: bool = _setting(
        True, "Worker memory upkeep (glibc): fixed 16 MiB mmap and 64 MiB trim thresholds "
              "from the start and malloc_trim after a request once RSS has grown "
              "PRISM_TRIM_SLACK_MB past its last trim, so RSS stays flat (bench/load.md).")
    trim_slack_mb: int = _setting(
        64, "How far (MiB) a worker may grow past its RSS after the last malloc_trim before "
             "it trims again; freed heap it keeps meanwhile is reused without page faults "
             "(0 = trim after every request).")
    huge_pages: bool = _setting(
        True, "Start uWSGI with glibc's `glibc.malloc.hugetlb=1` tunable, so large buffers "
              "(a decoded page) are mapped in 2 MB transparent huge pages where the kernel "
              "allows it: about 7 times fewer page faults, 10 ms less per A4 /stamps request.")
    redis_url: str = _setting(
        "", "Redis for async jobs (POST /jobs), e.g. redis://host:6379/0; empty = a private "
            "redis-server on a unix socket under PRISM_VAR_DIR, started with the service.")
    var_dir: str = _setting(str(REPO_ROOT / "var"),
                            "Runtime state of the embedded Redis (socket, AOF, dump).")
    job_workers: int = _setting(
        1, "RQ workers the service starts beside uWSGI (0: none; run `python -m api worker` "
           "on other machines instead).")
    max_job_pages: int = _setting(500, "Most PDF pages one async job may process.")
    job_chunk_pages: int = _setting(
        8, "Pages per chunk: an async job on a longer PDF runs as chunks of this many pages "
           "on any free worker, and its result is assembled in page order.")
    job_timeout_s: int = _setting(3600, "Longest an async job (each chunk) may run.")
    job_result_ttl_s: int = _setting(
        86400, "How long a finished job's status and result are kept (then 404).")
    max_queued_jobs: int = _setting(
        1000, "Most async jobs queued or running at once; past it POST /jobs answers 429.")
    job_retries: int = _setting(2, "Retries of a chunk that failed or whose worker died.")
    job_heartbeat_s: int = _setting(
        10, "Worker heartbeat while it runs a chunk; a chunk whose worker is silent for twice "
            "this is retried elsewhere.")
    job_wait_max_s: float = _setting(60.0, "Longest GET /jobs/{id}?wait=N long-poll.")
    api_keys: str = _setting(
        "", "Comma-separated keys; when set, X-API-Key must carry one (probes, page, docs open).")
    cors_origins: str = _setting("", "Comma-separated origins allowed by CORS; empty = CORS off.")
    log_level: str = _setting("INFO", "Python log level.")

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        """Build settings from ``PRISM_*`` variables in ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            raw = env.get("PRISM_" + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.type, raw, f.name)
        return cls(**values)

    @property
    def max_pixels(self) -> int:
        """Largest decoded image in pixels."""
        return int(self.max_image_mp * 1_000_000)

    @property
    def intra_op_threads(self) -> int:
        """Inference threads per process so that processes × threads ≤ cores."""
        if self.ort_threads > 0:
            return self.ort_threads
        return max(1, (os.cpu_count() or 1) // max(1, self.processes))


def _parse(type_name, raw: str, name: str):
    type_name = getattr(type_name, "__name__", type_name)
    try:
        if type_name == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        return raw
    except ValueError:
        raise ValueError(f"PRISM_{name.upper()}={raw!r} is not a valid {type_name}") from None


def settings_table() -> str:
    """The Markdown table of every setting, its default and meaning (docs/configuration.md)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in dataclasses.fields(Settings):
        default = f.default
        if f.name in ("models_dir", "model_mirror", "var_dir"):
            default = {"models_dir": "models/", "model_mirror": "../shared/models",
                       "var_dir": "var/"}[f.name]
        rows.append(f"| `PRISM_{f.name.upper()}` | `{default}` | {f.metadata['doc']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
