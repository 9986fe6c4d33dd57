"""The job contract (api.jobs): each job's options declared once and equal in the OpenAPI
spec, the CLI and GET /capabilities; option parsing; a new job shows up in the CLI and the job
list by registering it."""

from __future__ import annotations

import dataclasses
import math

import pytest
import yaml

from api import cli
from api.errors import BadRequest
from api.jobs import JOBS, Job, defaults, parse_options, register
from api.jobs.base import option, unregister
from api.settings import REPO_ROOT, Settings

SPEC = yaml.safe_load((REPO_ROOT / "openapi.yaml").read_text())
NAMES = ["ocr", "extract", "cut", "stamps", "stamps-embed", "stamps-compare", "generate-text"]


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        node = SPEC
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _body_schemas(route: str) -> dict[str, dict]:
    content = SPEC["paths"][route]["post"]["requestBody"]["content"]
    return {kind: _resolve(c["schema"]) for kind, c in content.items()}


def test_every_job_is_registered_once_under_one_name():
    assert list(JOBS) == NAMES
    for job in JOBS.values():
        post = SPEC["paths"][job.route]["post"]
        assert post["operationId"].startswith("api.handlers.")
    with pytest.raises(ValueError, match="already registered"):
        register(JOBS["ocr"])


@pytest.mark.parametrize("name", NAMES)
def test_spec_options_equal_the_jobs_options(name):
    """Every option of the job is in both request schemas with the same default, bounds and
    choices, and the schemas hold no option the job lacks."""
    job = JOBS[name]
    fields = {f.name: f for f in dataclasses.fields(job.options)}
    inputs = {f"{part}{suffix}" for part in ("image",) + job.inputs[1:]
              for suffix in ("_url", "_base64")} | set(job.inputs)
    for kind, schema in _body_schemas(job.route).items():
        props = {k: _resolve(v) for k, v in schema["properties"].items() if k not in inputs}
        assert set(props) == set(fields), (kind, set(props) ^ set(fields))
        for key, f in fields.items():
            prop, meta = props[key], f.metadata
            expected = list(f.default) if isinstance(f.default, tuple) else f.default
            if meta["kind"] == "names":
                if prop.get("type") == "array":
                    assert prop["items"].get("enum", None) == (
                        list(meta["choices"]) if meta["choices"] else None), (kind, key)
                continue
            assert prop.get("default") == expected, (kind, key)
            assert prop.get("minimum") == meta["minimum"], (kind, key)
            assert prop.get("maximum") == meta["maximum"], (kind, key)
            assert prop.get("enum") == (list(meta["choices"]) if meta["choices"] else None)
            if meta["max_length"] is not None:
                assert prop.get("maxLength") == meta["max_length"], (kind, key)
        assert set(schema.get("required", [])) - inputs <= set(job.required)


@pytest.mark.parametrize("name", NAMES)
def test_cli_flags_come_from_the_options(name):
    job = JOBS[name]
    argv = [name, "x.png"] + [a for part in job.inputs[1:] for a in (f"--{part}", "r.png")]
    argv += [a for r in job.required for a in (f"--{r.replace('_', '-')}", "dog")]
    parsed = parse_options(job.options, vars(cli.parser().parse_args(argv)))
    expected = {**defaults(job.options), **{r: ("dog",) for r in job.required}}
    assert dataclasses.asdict(parsed) == expected
    if "min_score" in expected:
        args = cli.parser().parse_args(argv + ["--min-score", "0.71"])
        assert parse_options(job.options, vars(args)).min_score == 0.71


def test_one_default_per_option_matches_the_pipelines():
    from api.engines import stampdet
    from api.pipelines import cut, generate_text, ocr

    assert defaults(JOBS["cut"].options)["min_score"] == cut.MIN_SCORE == 0.25
    assert defaults(JOBS["ocr"].options)["min_score"] == ocr.MIN_SCORE
    assert defaults(JOBS["stamps"].options)["min_score"] == stampdet.MIN_SCORE
    assert defaults(JOBS["generate-text"].options)["prompt"] == generate_text.DEFAULT_PROMPT
    import inspect

    assert inspect.signature(cut.CutPipeline.__call__).parameters["min_score"].default == 0.25


@pytest.mark.parametrize("values, message", [
    ({"min_score": 1.5}, "must be in"),
    ({"min_score": "high"}, "must be of type"),
    ({"min_score": math.nan}, "finite"),
    ({"lang": "fr"}, "unknown"),
])
def test_bad_options_are_400(values, message):
    with pytest.raises(BadRequest, match=message):
        parse_options(JOBS["ocr"].options, values)


def test_names_options_accept_lists_and_comma_strings():
    opts = JOBS["extract"].options
    assert parse_options(opts, {"classes": "table, figure,table"}).classes == ("table", "figure")
    assert parse_options(opts, {"classes": ["equation"]}).classes == ("equation",)
    assert parse_options(opts, {}).classes == ("figure", "table", "equation")
    with pytest.raises(BadRequest, match="unknown"):
        parse_options(opts, {"classes": "chart"})
    with pytest.raises(BadRequest):
        parse_options(opts, {"classes": " , "})


def test_a_registered_job_appears_in_the_cli_and_the_job_list(client):
    @dataclasses.dataclass(frozen=True)
    class EchoOptions:
        times: int = option(2, minimum=1, maximum=5, help="how often")

    @dataclasses.dataclass
    class Echo:
        shape: tuple

        def as_dict(self):
            return {"shape": list(self.shape)}

        def files(self, stem):
            return []

    job = register(Job(name="echo", route="/echo", summary="echo the image size",
                       options=EchoOptions, models=(),
                       run=lambda docs, o, ctx: Echo(docs[0].pages[0].image.shape)))
    try:
        args = cli.parser().parse_args(["echo", "a.png", "--times", "3"])
        assert parse_options(job.options, vars(args)).times == 3
        listed = {j["name"]: j for j in client.get("/capabilities").json()["jobs"]}
        assert listed["echo"]["options"] == [{"name": "times", "type": "int", "default": 2,
                                              "required": False, "minimum": 1, "maximum": 5,
                                              "help": "how often"}]
    finally:
        unregister("echo")
    assert "echo" not in {j["name"] for j in client.get("/capabilities").json()["jobs"]}


def test_the_benchmark_has_a_request_for_every_single_input_job():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_common", REPO_ROOT / "bench/common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    assert set(common.SAMPLES) == {n for n, j in JOBS.items() if len(j.inputs) == 1}
    assert [route for route, _, _ in common.ENDPOINTS] == [
        JOBS[n].route for n in NAMES if n in common.SAMPLES]


def test_job_list_endpoint_describes_every_job(client):
    jobs = client.get("/capabilities").json()["jobs"]
    assert [j["name"] for j in jobs] == NAMES
    stamps = next(j for j in jobs if j["name"] == "stamps")
    assert stamps["takes_pdf"] and "stamp-det" in stamps["models"]
    assert {o["name"]: o["default"] for o in stamps["options"]}["refine"] is True
    compare = next(j for j in jobs if j["name"] == "stamps-compare")
    assert compare["inputs"] == ["file", "reference"]


def test_capabilities_give_this_deployments_request_limits(make_client):
    """The page plans a request by these (a PDF past the page limit, a file past the upload
    limit): they are the running settings, not the defaults."""
    limits = make_client(max_pdf_pages=7, max_upload_bytes=12345).get(
        "/capabilities").json()["limits"]
    assert limits["max_pdf_pages"] == 7 and limits["max_upload_bytes"] == 12345
    assert limits["default_dpi"] == Settings.from_env({}).default_dpi
    assert set(limits) == {"max_upload_bytes", "max_pdf_pages", "max_job_pages",
                           "job_chunk_pages", "default_dpi", "max_dpi", "request_timeout_s"}


def test_jobs_pipelines_and_inputs_need_no_web_framework():
    """Model code, inputs, the registry, the jobs, the async-job queue and worker and the CLI
    import neither Flask, Connexion nor Starlette: Prism's errors are its own
    (api.problems), mapped at the web edge."""
    import subprocess
    import sys

    code = ("import sys, api.jobs, api.cli, api.inputs, api.registry, api.pipelines.ocr, "
            "api.pipelines.extract, api.pipelines.cut, api.pipelines.stamps, "
            "api.pipelines.generate_text, api.queue.client, api.queue.tasks, "
            "api.queue.worker; print(sorted({m.split('.')[0] for m in sys.modules} "
            "& {'flask', 'connexion', 'starlette'}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"


def test_registry_refuses_duplicate_names_and_looks_up_by_spec(registry, settings):
    from api.engines import ALL_SPECS, korec
    from api.registry import Registry

    with pytest.raises(ValueError, match="two models are named 'ocr-ko-rec'"):
        Registry(ALL_SPECS + (korec.SPEC,), settings)
    engine = registry.get(korec.SPEC)
    assert isinstance(engine, korec.KoreanRecognizer) and engine is registry.get("ocr-ko-rec")


def test_async_jobs_split_long_pdfs_into_page_chunks_and_merge_them_in_order(settings):
    """A 19-page PDF for ``ocr`` runs as chunks of PRISM_JOB_CHUNK_PAGES pages (the
    selection kept), whose replies merge back in page order; a job without ``merge`` or a
    PNG mode runs whole, under the synchronous page limit; past PRISM_MAX_JOB_PAGES is 413."""
    import pymupdf

    from api.problems import PayloadTooLarge
    from api.queue.client import plan_chunks

    doc = pymupdf.open()
    for _ in range(19):
        doc.new_page(width=200, height=200)
    pdf = [[("a.pdf", doc.tobytes())]]
    s = dataclasses.replace(settings, job_chunk_pages=8, max_job_pages=30, max_pdf_pages=20)
    ocr = JOBS["ocr"]
    chunks, total = plan_chunks(ocr, parse_options(ocr.options, {}), pdf, s)
    assert total == 19 and len(chunks) == 3 and chunks[0] == "1,2,3,4,5,6,7,8"
    assert chunks[2] == "17,18,19"
    chunks, total = plan_chunks(ocr, parse_options(ocr.options, {"pages": "2-4,9"}), pdf, s)
    assert (chunks, total) == (["2-4,9"], 4)
    extract = JOBS["extract"]
    png_mode = parse_options(extract.options, {"mode": "annotated"})
    assert plan_chunks(extract, png_mode, pdf, s) == ([None], 19)
    with pytest.raises(PayloadTooLarge):
        plan_chunks(extract, png_mode, pdf, dataclasses.replace(s, max_pdf_pages=10))
    with pytest.raises(PayloadTooLarge):
        plan_chunks(ocr, parse_options(ocr.options, {}), pdf,
                    dataclasses.replace(s, max_job_pages=10))
    assert plan_chunks(ocr, parse_options(ocr.options, {}), [[("a.png", b"\x89PNG")]], s) \
        == ([None], 1)
    bodies = [{"filename": "a.pdf", "pages": [{"page": p} for p in ps],
               "timings_ms": {"detect": 1.5}} for ps in ([1, 2], [3], [4, 5])]
    merged = ocr.merge(parse_options(ocr.options, {}), bodies)
    assert [p["page"] for p in merged["pages"]] == [1, 2, 3, 4, 5]
    assert merged["timings_ms"] == {"detect": 4.5}
    files = [{"files": [{"filename": "a.pdf", "pages": [{"page": p}]}], "timings_ms": {}}
             for p in (1, 2)]
    assert extract.merge(None, files)["files"][0]["pages"] == [{"page": 1}, {"page": 2}]
