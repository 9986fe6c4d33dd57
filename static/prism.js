// Prism's single page: one tab per endpoint, uploads or URLs, results drawn over the image.
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6"];
// Each tab's form is generated from GET /capabilities (the jobs' options dataclasses: name,
// type, default, bounds, choices, help), so the page holds no default or bound of its own.
let tab = "ocr", file = null, models = {}, jobModels = {}, jobOptions = {};
// This deployment's request limits (GET /capabilities) and the chosen PDF's page count.
let limits = null, pageCount = null, routes = {}, takesPdfs = {};
// The shown result's pages: [{page, dpi, width, height, boxes, items}]; pageAt indexes it.
let pages = [], pageAt = 0, previews = {}, controller = null;

function selectTab(name) {
  tab = name;
  document.querySelectorAll("#tabs button").forEach((b) =>
    b.setAttribute("aria-selected", String(b.dataset.tab === name)));
  document.querySelectorAll("fieldset.opts").forEach((f) =>
    f.classList.toggle("active", f.dataset.for === name));
  const unavailable = availability(name);
  $("run").disabled = Boolean(unavailable);
  $("model").textContent = unavailable || "";
  clearResult();
  showHint();
}

function availability(name) {
  const m = (jobModels[name] || []).map((n) => models[n]).find((x) => x && x.status === "files missing");
  if (m) return `Unavailable: ${m.name} is not installed (${m.install}).`;
  return "";
}

// Options the page sets itself: the reply's form (it asks for JSON and offers the other
// forms as downloads) and JSON extras it does not show.
const PAGE_SET = new Set(["mode", "format", "crops", "embeddings", "mask"]);
const LABELS = { lang: "Language", model: "Recogniser", min_score: "Min score", pages: "PDF pages",
  dpi: "PDF dpi", objects: "Objects", return_white_bg: "white background", crop: "crop to objects",
  max_side: "Max side (px)", refine: "whole-stamp boxes", verify_text: "text check",
  document_check: "documents only", orient: "turn pages upright",
  threshold: "Match threshold", prompt: "Prompt", max_new_tokens: "Max tokens" };
const PLACEHOLDERS = { pages: "all, or 1-3,5", objects: "dog, person" };

function element(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => { if (v !== undefined && v !== null) el[k] = v; });
  el.append(...children);
  return el;
}

// One option of /capabilities as a labelled control: a checkbox (bool), one checkbox per
// choice (a list of names with choices), a select (choices), or a number or text input.
function control(o) {
  const text = LABELS[o.name] || o.name.replace(/_/g, " ");
  if (o.type === "bool") {
    const box = element("input", { type: "checkbox", name: o.name, checked: Boolean(o.default) });
    box.defaultChecked = Boolean(o.default);
    return element("label", { title: o.help }, box, ` ${text}`);
  }
  if (o.type === "names" && o.choices) {
    return element("span", { className: "names", title: o.help }, ...o.choices.map((c) => {
      const box = element("input", { type: "checkbox", name: o.name, value: c, checked: o.default.includes(c) });
      box.dataset.names = "true";
      return element("label", {}, box, ` ${c}`);
    }));
  }
  let input;
  if (o.choices) {
    input = element("select", { name: o.name }, ...o.choices.map((c) => element("option", { value: c }, c)));
    input.value = String(o.default);
  } else {
    const number = o.type === "int" || o.type === "float";
    const value = o.default === null || o.default === undefined ? ""
      : Array.isArray(o.default) ? o.default.join(", ") : String(o.default);
    input = element("input", { name: o.name, type: number ? "number" : "text", value,
      placeholder: o.name === "dpi" && limits ? String(limits.default_dpi) : PLACEHOLDERS[o.name] });
    if (number) {
      if (o.minimum !== undefined) input.min = o.minimum;
      if (o.maximum !== undefined) input.max = o.maximum;
      input.step = o.type === "int" ? "1" : "0.05";
    }
    // required options are not marked `required`: the browser would refuse to submit any
    // tab while another tab's field is empty; the service answers 400 with the reason
  }
  return element("label", { title: o.help }, `${text} `, input);
}

// A job's form: its options in its tab (stamps-compare adds the ones Stamps lacks, marked
// compare-only); the tab's page-side inputs stay after them.
function applyJob(job) {
  jobModels[job.name] = job.models; routes[job.name] = job.route; takesPdfs[job.name] = job.takes_pdf;
  jobOptions[job.name] = new Set(job.options.map((o) => o.name));
  const compare = job.name === "stamps-compare";
  const fs = document.querySelector(`fieldset[data-for="${tabOf(job.name)}"]`);
  if (!fs || (job.name !== tabOf(job.name) && !compare)) return;
  const shown = job.options.filter((o) => !PAGE_SET.has(o.name)
    && !(compare && fs.querySelector(`[name="${o.name}"]`)));
  const controls = shown.map((o) => {
    const c = control(o);
    if (compare) c.dataset.only = "compare";
    return c;
  });
  const extras = fs.querySelector("label:has(#reference)");
  controls.forEach((c) => (compare || !extras ? fs.append(c) : fs.insertBefore(c, extras)));
}

async function loadModels() {
  try {
    const [jobs, list] = await Promise.all([fetch("/capabilities"), fetch("/models")]);
    const caps = await jobs.json();
    limits = caps.limits || null;
    caps.jobs.forEach(applyJob);
    (await list.json()).models.forEach((m) => { models[m.name] = m; });
  } catch (e) { /* the page still works; status is shown when known */ }
  document.querySelectorAll("#tabs button").forEach((b) => {
    const reason = Boolean(availability(b.dataset.tab));
    b.classList.toggle("unavailable", Boolean(reason));
    if (reason) b.title = "unavailable";
  });
  selectTab(tab);
}

function clearResult() {
  $("result").hidden = true; $("error").hidden = true;
  ["text", "caption", "items", "heat"].forEach((id) => { $(id).innerHTML = ""; });
  $("overlay").innerHTML = ""; $("boxes").innerHTML = ""; $("timings").textContent = "";
  ["download", "download-json", "download-text", "copy-text", "download-annotated",
    "download-zip", "pager", "before"].forEach((id) => { $(id).hidden = true; });
  $("stage").classList.remove("checker");
  pages = []; pageAt = 0;
}

function setFile(f) {
  file = f; pageCount = null;
  $("chosen").textContent = f ? `${f.name} (${Math.round(f.size / 1024)} kB)` : "";
  $("clear").hidden = !f;
  if (f) $("url").value = "";  // a file and a URL are never sent together
  if (!f) $("file").value = "";
  showThumb(f && !isPdf() ? URL.createObjectURL(f) : "");
  showHint();
  if (f && isPdf() && !tooLarge()) countPages(f);
}

// A small preview of the chosen file: the image itself, a PDF's first page from the service.
function showThumb(src) {
  if ($("thumb").src.startsWith("blob:")) URL.revokeObjectURL($("thumb").src);
  if (src) $("thumb").src = src; else $("thumb").removeAttribute("src");
  $("thumb").hidden = !src;
}

// The page count of a chosen PDF, from the service (POST /preview's X-Page-Count).
async function countPages(f) {
  const body = new FormData();
  body.append("file", f); body.append("max_side", "160");
  try {
    const r = await fetch("/preview", { method: "POST", body });
    if (file !== f) return;
    if (!r.ok) { const d = await r.json(); showError(`${d.title || r.status}: ${d.detail || ""}`); return; }
    pageCount = Number(r.headers.get("X-Page-Count")) || null;
    showThumb(URL.createObjectURL(await r.blob()));
    if (pageCount) $("chosen").textContent = `${f.name} (${Math.round(f.size / 1024)} kB, ${pageCount} page${pageCount > 1 ? "s" : ""})`;
    showHint();
  } catch (e) { /* the job itself reports what is wrong */ }
}

function tooLarge() { return Boolean(file && limits && file.size > limits.max_upload_bytes); }

// The job the current tab runs: its name in /capabilities and POST /jobs.
function jobName() { return endpoint().replace("/", "-"); }
function tabOf(job) { return job.startsWith("stamps") ? "stamps" : job; }

// What will go wrong before it is sent: a file past the upload limit, a PDF with more pages
// than one job of this tab takes (OCR and Extract split a PDF into chunks, the rest do not).
function planProblem() {
  if (!limits || !file) return "";
  const mb = (n) => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 2 : 0)} MB`;
  if (tooLarge()) return `${file.name} is ${mb(file.size)}; this service takes files up to ${mb(limits.max_upload_bytes)} (PRISM_MAX_UPLOAD_BYTES).`;
  const fs = document.querySelector(`fieldset[data-for="${tab}"]`);
  const chosen = fs && fs.querySelector('input[name="pages"]');
  if (!isPdf() || !pageCount || (chosen && chosen.value.trim())) return "";
  const max = ["ocr", "extract"].includes(tab) ? limits.max_job_pages : limits.max_pdf_pages;
  if (pageCount <= max) return "";
  return `This PDF has ${pageCount} pages; ${tab} reads at most ${max} in one job. Choose some with "PDF pages", e.g. 1-${max}.`;
}

function showHint() {
  const problem = planProblem();
  const background = !problem && file && isPdf() && takesPdf()
    ? "PDFs run as a background job with page progress; you may leave and come back." : "";
  $("hint").textContent = problem || background;
  $("hint").hidden = !(problem || background);
  $("hint").classList.toggle("warn", Boolean(problem));
}

// Whether the job the tab runs now takes PDFs (GET /capabilities' takes_pdf).
function takesPdf() { return Boolean(takesPdfs[jobName()]); }

function stem() {
  const name = file ? file.name : ($("url").value.trim().split("/").pop() || "image");
  return name.replace(/\.[^.]*$/, "") || "image";
}

// The result as downloads: the JSON itself, and the text of OCR results.
function offerDownloads(data) {
  const url = (blob) => URL.createObjectURL(blob);
  $("download-json").href = url(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }));
  $("download-json").download = `${stem()}_${tab}.json`; $("download-json").hidden = false;
  if (data.timings_ms) {
    $("timings").textContent = Object.entries(data.timings_ms)
      .map(([k, v]) => `${k} ${v < 10 ? v.toFixed(1) : Math.round(v)} ms`).join(" · ");
  }
}

// The endpoint of the current tab: Stamps with a reference stamp compares (/stamps/compare).
function comparing() { return tab === "stamps" && Boolean($("reference").files[0]) && !embedding(); }
function embedding() { return tab === "stamps" && $("embed-only").checked; }
function endpoint() { return embedding() ? "stamps/embed" : comparing() ? "stamps/compare" : tab; }

// The form's values for the job the tab runs now: only that job's options (compare has no
// refine, Stamps no threshold), empty fields left to the service's defaults.
function options() {
  const fs = document.querySelector(`fieldset[data-for="${tab}"]`);
  const out = {}, allowed = jobOptions[jobName()] || new Set();
  fs.querySelectorAll("input, select").forEach((el) => {
    if (!el.name || !allowed.has(el.name)) return;
    if (el.dataset.names) {  // one checkbox per choice: the checked ones, comma-separated
      out[el.name] = [...fs.querySelectorAll(`input[name="${el.name}"]:checked`)].map((c) => c.value).join(",");
      return;
    }
    if (el.type === "checkbox") {  // options that default to on are sent when turned off
      if (el.checked) out[el.name] = "true"; else if (el.defaultChecked) out[el.name] = "false";
      return;
    }
    if (el.value !== "") out[el.name] = el.value;
  });
  return out;
}

async function run(ev) {
  ev.preventDefault();
  clearResult();
  const url = $("url").value.trim();
  if (!file && !url) { showError("Choose a file or enter an image URL."); return; }
  const opts = options();
  let body, headers = {};
  if (file) {
    body = new FormData();
    body.append("file", file);
    if (comparing()) body.append("reference", $("reference").files[0]);
    Object.entries(opts).forEach(([k, v]) => body.append(k, v));
  } else {
    const json = { image_url: url };
    Object.entries(opts).forEach(([k, v]) => {
      if (v === "true" || v === "false") json[k] = v === "true";
      else if (k === "objects") json[k] = v.split(",").map((s) => s.trim()).filter(Boolean);
      else if (k === "classes") json[k] = v.split(",").filter(Boolean);
      else if (["min_score", "max_new_tokens"].includes(k)) json[k] = Number(v);
      else json[k] = v;
    });
    body = JSON.stringify(json); headers["Content-Type"] = "application/json";
  }
  if (comparing() && !file) { showError("Compare needs the document as a file."); return; }
  const problem = planProblem();
  if (problem) { showError(problem); return; }
  if (isPdf() && takesPdf()) {
    body.append("job", jobName());  // PDFs run as background jobs: page progress, no deadline
    await runJob(body);
    return;
  }
  $("busy").hidden = false; $("run").disabled = true;
  controller = new AbortController();
  const started = performance.now();
  const tick = setInterval(() => {
    $("elapsed").textContent = `${((performance.now() - started) / 1000).toFixed(0)} s`;
  }, 500);
  $("elapsed").textContent = "0 s";
  try {
    const r = await fetch(`/${endpoint()}`, { method: "POST", body, headers, signal: controller.signal });
    const data = await r.json();
    if (!r.ok) { showError(`${data.title || r.status}: ${data.detail || ""}`); return; }
    await show(data);
  } catch (e) {
    showError(e.name === "AbortError" ? "Canceled." : `The request failed: ${e.message}`);
  } finally {
    clearInterval(tick); controller = null;
    $("busy").hidden = true; $("run").disabled = Boolean(availability(tab));
  }
}

// --- background jobs (POST /jobs), remembered in localStorage -------------------------------
const JOBS_KEY = "prism.jobs";
let currentJob = null;

function rememberedJobs() {
  try { return JSON.parse(localStorage.getItem(JOBS_KEY)) || []; } catch (e) { return []; }
}

function remember(entry) {
  const jobs = rememberedJobs().filter((j) => j.id !== entry.id);
  jobs.unshift(entry);
  localStorage.setItem(JOBS_KEY, JSON.stringify(jobs.slice(0, 20)));
  listJobs();
}

function listJobs() {
  const jobs = rememberedJobs();
  $("jobs").hidden = jobs.length === 0;
  $("joblist").innerHTML = "";
  jobs.forEach((j) => {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#"; link.textContent = `${j.job}: ${j.name}`;
    link.addEventListener("click", (ev) => { ev.preventDefault(); followJob(j.id, j.job); });
    li.append(link, ` ${j.status || ""} · ${new Date(j.created).toLocaleString()}`);
    $("joblist").append(li);
  });
}

async function runJob(body) {
  $("run").disabled = true;
  try {
    const r = await fetch("/jobs", { method: "POST", body });
    const data = await r.json();
    if (r.status !== 202) { showError(`${data.title || r.status}: ${data.detail || ""}`); return; }
    remember({ id: data.id, job: data.job, name: file.name, created: Date.now(), status: data.status });
    await followJob(data.id, data.job);
  } catch (e) {
    showError(`The request failed: ${e.message}`);
  } finally {
    $("run").disabled = Boolean(availability(tab));
  }
}

async function followJob(id, job) {
  clearResult();
  currentJob = id;
  $("jobprogress").hidden = false;
  try {
    for (;;) {
      const s = await jobStatus(id);
      if (s.problem) { showError(s.problem); forget(id); return; }
      const { pages_done: done, pages_total: total } = s.progress;
      $("progress").max = Math.max(1, total); $("progress").value = done;
      $("progresstext").textContent = s.status === "queued"
        ? `queued (${s.position ?? 0} ahead)` : `${s.status}: page ${done} of ${total}`;
      if (ENDED.includes(s.status)) {
        remember({ ...(rememberedJobs().find((j) => j.id === id) || { id, job, name: id,
          created: Date.now() }), status: s.status });
        if (s.status === "failed") showError(`${s.error.title}: ${s.error.detail}`);
        if (s.status === "finished") {
          const res = await fetch(`/jobs/${id}/result`);
          if (res.ok && currentJob === id) {
            if (tab !== tabOf(job)) selectTab(tabOf(job));
            await show(await res.json());
          }
        }
        return;
      }
      if (currentJob !== id) return;
    }
  } finally {
    if (currentJob === id) { $("jobprogress").hidden = true; currentJob = null; }
  }
}

const ENDED = ["finished", "failed", "canceled"];

// One long-poll of a job's status; ``problem`` set when the service answered an error.
async function jobStatus(id) {
  const r = await fetch(`/jobs/${id}?wait=2`);
  const s = await r.json();
  return r.ok ? s : { problem: `${s.title || r.status}: ${s.detail || ""}` };
}

// The reply of job ``name`` on ``body`` as a Response: a PDF through POST /jobs (no request
// deadline, whatever its length), anything else from the job's own endpoint.
async function reply(name, body) {
  if (!isPdf()) return fetch(routes[name] || `/${name}`, { method: "POST", body });
  body.append("job", name);
  const made = await fetch("/jobs", { method: "POST", body });
  if (made.status !== 202) return made;
  const { id } = await made.json();
  for (;;) {
    const s = await jobStatus(id);
    if (s.problem) throw new Error(s.problem);
    if (s.status === "finished") return fetch(`/jobs/${id}/result`);
    if (ENDED.includes(s.status)) throw new Error(s.error ? `${s.error.title}: ${s.error.detail}` : s.status);
  }
}

function forget(id) {
  localStorage.setItem(JOBS_KEY, JSON.stringify(rememberedJobs().filter((j) => j.id !== id)));
  listJobs();
}

function showError(msg) { $("error").textContent = msg; $("error").hidden = false; }

function imageSource() {
  return file && !isPdf() ? URL.createObjectURL(file) : $("url").value.trim();
}

function loadImage(src) {
  return new Promise((resolve) => { $("view").onload = resolve; $("view").onerror = resolve; $("view").src = src; });
}

// Labels (class names, Kosmos-2 phrases) are model output: set as text, never as markup.
function svgElement(name, attrs) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", name);
  Object.entries(attrs).forEach(([k, v]) => el.setAttribute(k, String(v)));
  return el;
}

function drawBoxes(width, height, boxes, svgId = "overlay", stageId = "stage") {
  const svg = $(svgId);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  // labels ~14 px on screen whatever the image's size (the viewBox is in image pixels)
  const shown = $(stageId).clientWidth || width, scale = Math.max(1, width / shown);
  svg.style.setProperty("--label", `${14 * scale}px`);
  svg.replaceChildren(...boxes.flatMap((b, i) => {
    const [x1, y1, x2, y2] = b.box.map(Number), c = COLORS[i % COLORS.length];
    const rect = svgElement("rect", { class: "box", x: x1, y: y1, width: x2 - x1, height: y2 - y1, stroke: c });
    const text = svgElement("text", { x: x1 + 4 * scale, y: Math.max(14 * scale, y1 - 4 * scale), fill: c });
    text.textContent = b.label;
    return [rect, text];
  }));
}

// A list of plain-text items (nothing in them is parsed as HTML).
function listItems(texts) {
  $("items").replaceChildren(...texts.map((t) => {
    const li = document.createElement("li");
    li.textContent = t;
    return li;
  }));
}

async function show(data) {
  $("result").hidden = false;
  offerDownloads(data);
  if (tab === "cut") {
    const src = `data:image/png;base64,${data.image_base64}`;
    $("stage").classList.add("checker");
    await loadImage(src);
    $("download").href = src; $("download").hidden = false;
    $("download").download = `${stem()}_cut.png`;
    listItems(data.objects.map((o) => `${o.class} ${o.score.toFixed(2)}`));
    const original = imageSource();  // before: the photo with the detected boxes
    if (original) {
      await new Promise((resolve) => { $("original").onload = resolve; $("original").onerror = resolve; $("original").src = original; });
      $("before").hidden = false;
      drawBoxes(data.width, data.height, data.objects.map((o) => ({ box: o.box, label: o.class })), "boxes", "before");
    }
    if (data.capped) $("caption").textContent = "More objects than the matte limit: the smallest share one coarser whole-image matte.";
    return;
  }
  if (tab === "ocr") {
    const texts = data.pages.map((p) => (data.pages.length > 1 ? `— page ${p.page} —\n` : "") + p.text);
    const found = data.pages.some((p) => p.lines.length);
    $("text").textContent = found ? texts.join("\n\n") : "No text found.";
    if (found) {
      const blob = new Blob([texts.join("\n\n") + "\n"], { type: "text/plain;charset=utf-8" });
      $("download-text").href = URL.createObjectURL(blob);
      $("download-text").download = `${stem()}.txt`;
      $("download-text").hidden = false; $("copy-text").hidden = false;
    }
    await showPages(data.pages.map((p) => ({ page: p.page, dpi: p.dpi, width: p.width, height: p.height,
      boxes: p.lines.map((l) => ({ box: l.box, label: "" })), items: [] })));
    return;
  }
  if (tab === "extract") {
    offerRerun("download-annotated", { mode: "annotated" }, "annotated");
    offerRerun("download-zip", { mode: "zip", crops: "true" }, "crops");
    await showPages(data.files[0].pages.map((p) => ({ page: p.page, dpi: p.dpi, width: p.width,
      height: p.height, boxes: p.items.map((it) => ({ box: it.box, label: it.class })),
      items: p.items.map((it) => `${it.class} ${it.score.toFixed(2)} [${it.box.map(Math.round).join(", ")}]`) })));
    if (!data.files[0].pages.some((p) => p.items.length)) listItems(["Nothing found."]);
    return;
  }
  if (tab === "stamps" && data.embedding) {  // /stamps/embed: one crop's vector
    await loadImage(imageSource());
    const norm = Math.sqrt(data.embedding.reduce((a, v) => a + v * v, 0));
    $("caption").textContent = `Embedding: ${data.dim} numbers from ${data.model}, length ${norm.toFixed(3)} ` +
      "(cosine similarity = dot product; Download JSON for the vector).";
    return;
  }
  if (tab === "stamps") {
    const compared = data.match !== undefined;  // /stamps/compare: each stamp's similarity
    if (!compared) {
      offerRerun("download-annotated", { mode: "annotated" }, "annotated");
      if (data.stamps.length) offerRerun("download-zip", { mode: "zip" }, "stamps");
    }
    const label = (s, i) => compared ? `${i + 1} · ${s.similarity.toFixed(2)}${i === data.best && data.match ? " ✓" : ""}` : String(i + 1);
    const line = (s, i) => `${i + 1}. page ${s.page}, score ${s.score.toFixed(2)}` +
      (compared ? `, similarity ${s.similarity.toFixed(2)}` : "") + ` [${s.box.map(Math.round).join(", ")}]`;
    await showPages(data.pages.map((p) => {
      const mine = data.stamps.map((s, i) => [s, i]).filter(([s]) => s.page === p.page);
      return { page: p.page, dpi: p.dpi, width: p.width, height: p.height,
        boxes: mine.map(([s, i]) => ({ box: s.box, label: label(s, i) })),
        items: mine.map(([s, i]) => line(s, i)) };
    }));
    if (!data.stamps.length) listItems(["No stamps found."]);
    if (compared) {
      $("caption").textContent = data.match
        ? `Match: stamp ${data.best + 1} (similarity ${data.best_similarity.toFixed(2)} ≥ ${data.threshold})`
        : data.best === null ? "No match: the document has no stamp."
          : `No match: the closest stamp is ${data.best + 1} (similarity ${data.best_similarity.toFixed(2)} < ${data.threshold}).`;
    } else drawHeat(data.similarity);
    return;
  }
  if (tab === "generate-text") {
    await loadImage(imageSource());
    const img = $("view");
    const boxes = data.entities.flatMap((e) => e.boxes.map((b) => ({ box: b.box, label: e.phrase })));
    drawBoxes(img.naturalWidth, img.naturalHeight, boxes);
    let html = "", at = 0;
    const text = data.text;
    data.entities.forEach((e, i) => {
      html += escapeHtml(text.slice(at, e.span[0])) +
        `<mark style="background:${COLORS[i % COLORS.length]}33">${escapeHtml(text.slice(e.span[0], e.span[1]))}</mark>`;
      at = e.span[1];
    });
    $("caption").innerHTML = html + escapeHtml(text.slice(at));
  }
}

// A result's pages, one at a time: the page image (the file itself for an image; for a PDF
// the service renders the page, POST /preview, so the boxes of that page line up on it).
async function showPages(list) {
  pages = list; pageAt = 0; previews = {};
  $("pager").hidden = pages.length < 2;
  await showPage(0);
}

function isPdf() {
  return Boolean(file) && (file.type === "application/pdf" || /\.pdf$/i.test(file.name));
}

// The boxes are drawn in the page's own pixels over whatever size the image is shown at,
// so the preview need not be rendered at the job's dpi to line up.
async function pageImage(p) {
  if (!isPdf()) return file || !$("url").value.trim().toLowerCase().endsWith(".pdf") ? imageSource() : "";
  const key = String(p.page);
  if (!previews[key]) {
    const body = new FormData();
    body.append("file", file); body.append("page", String(p.page));
    const r = await fetch("/preview", { method: "POST", body });
    previews[key] = r.ok ? URL.createObjectURL(await r.blob()) : "";
  }
  return previews[key];
}

async function showPage(i) {
  if (!pages.length) return;
  const at = Math.max(0, Math.min(pages.length - 1, i));
  pageAt = at;
  const p = pages[at];
  $("prev").disabled = at === 0; $("next").disabled = at === pages.length - 1;
  const src = await pageImage(p);
  if (pageAt !== at) return;  // another page was asked for meanwhile
  if (src) await loadImage(src); else $("view").removeAttribute("src");
  drawBoxes(p.width, p.height, p.boxes);
  if (p.items.length || pages.length > 1) listItems(p.items.length ? p.items : [`Nothing on page ${p.page}.`]);
  $("pageinfo").textContent = `page ${p.page} (${at + 1} of ${pages.length})`;  // last: all shown
}

// A download the same request gives in another form (Extract's zip or annotated page,
// Stamps' annotated page and crops): the request is sent again with those options when
// clicked, a PDF as a background job.
function offerRerun(id, extra, suffix) {
  if (!file) return;
  const sent = file, name = tab, opts = { ...options(), ...extra };
  $(id).hidden = false;
  $(id).onclick = async () => {
    const body = new FormData();
    body.append("file", sent);
    Object.entries(opts).forEach(([k, v]) => body.append(k, v));
    $(id).disabled = true;
    try {
      const r = await reply(name, body);
      if (!r.ok) { const d = await r.json(); showError(`${d.title || r.status}: ${d.detail || ""}`); return; }
      const blob = await r.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `${stem()}_${suffix}.${blob.type.includes("zip") ? "zip" : "png"}`;
      document.body.append(a); a.click(); a.remove();
    } catch (e) {
      showError(`The download failed: ${e.message}`);
    } finally { $(id).disabled = false; }
  };
}

// Cosine similarity matrix as a heat map: white 0 → deep blue 1.
function drawHeat(sim) {
  if (sim.length < 2) return;
  const cell = (v) => `<td style="background:rgba(67,99,216,${Math.max(0, v).toFixed(2)})" title="${v.toFixed(3)}">${v.toFixed(2)}</td>`;
  $("heat").innerHTML = `<tr><th></th>${sim.map((_, i) => `<th>${i + 1}</th>`).join("")}</tr>` +
    sim.map((row, i) => `<tr><th>${i + 1}</th>${row.map(cell).join("")}</tr>`).join("");
}

function escapeHtml(s) { return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }

document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => selectTab(b.dataset.tab)));
$("file").addEventListener("change", (e) => setFile(e.target.files[0] || null));
const drop = $("drop");  // a file dropped anywhere on the page is the input
["dragenter", "dragover"].forEach((t) => document.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
document.addEventListener("drop", (e) => {
  e.preventDefault(); drop.classList.remove("over");
  if (e.dataTransfer && e.dataTransfer.files.length) setFile(e.dataTransfer.files[0]);
});
$("form").addEventListener("submit", run);
$("clear").addEventListener("click", () => { setFile(null); clearResult(); });
$("url").addEventListener("input", () => { if ($("url").value.trim() && file) setFile(null); });
$("form").addEventListener("input", (e) => {  // the generated PDF pages field, embed mode
  if (e.target.name === "pages" || e.target.id === "embed-only") showHint();
});
drop.addEventListener("keydown", (e) => {  // the drop zone opens the file chooser from the keyboard
  if ((e.key === "Enter" || e.key === " ") && e.target === drop) { e.preventDefault(); $("file").click(); }
});
document.addEventListener("paste", (e) => {  // an image or PDF pasted anywhere on the page
  const f = [...(e.clipboardData?.files || [])][0];
  if (f) { e.preventDefault(); setFile(f); }
});
$("copy-text").addEventListener("click", async () => {
  try { await navigator.clipboard.writeText($("text").textContent); $("copy-text").textContent = "Copied"; }
  catch (err) { showError(`Copy failed: ${err.message}`); }
  setTimeout(() => { $("copy-text").textContent = "Copy text"; }, 1500);
});
$("prev").addEventListener("click", () => showPage(pageAt - 1));
$("next").addEventListener("click", () => showPage(pageAt + 1));
$("abort").addEventListener("click", () => { if (controller) controller.abort(); });
$("cancel").addEventListener("click", () => {
  if (currentJob) fetch(`/jobs/${currentJob}`, { method: "DELETE" });
});
loadModels();
listJobs();
