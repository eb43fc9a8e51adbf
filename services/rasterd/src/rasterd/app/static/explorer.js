// Glyphgrid explorer: plain ES module over the rasterd JSON and image routes (no build step).
// URLs are relative so the page also works behind a proxy under a sub-path.

const $ = (id) => document.getElementById(id);
const state = { cursor: null, query: null, selected: null, fonts: new Map() };

async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.detail || response.statusText), { status: response.status, code: body.code });
  return body;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function fontName(hash) {
  const font = state.fonts.get(hash);
  return font ? `${font.family_name || "?"} ${font.style || ""}`.trim() : hash.slice(0, 12);
}

function thumb(glyph, onClick) {
  const image = element("img", { className: "raster", src: `v1/glyphs/${glyph.glyph_id}/raster.png`, alt: glyph.label, loading: "lazy" });
  const node = element("div", { className: "thumb", title: `${glyph.label} · ${fontName(glyph.font_hash)} · #${glyph.glyph_id}`, dataset: { glyphId: glyph.glyph_id } },
    image, element("span", {}, glyph.label), element("span", { className: "muted" }, `#${glyph.glyph_id}`));
  node.addEventListener("click", () => onClick(glyph.glyph_id));
  return node;
}

async function loadHealth() {
  const badge = $("health");
  try {
    const response = await fetch("healthz");
    const health = await response.json();
    badge.textContent = `${health.status} · store ${health.rasters_store.status} · centroids ${health.centroids.status}` +
      ` · bundle ${health.bundle ? health.bundle.status : "?"}`;
    badge.className = `badge ${health.status}`;
  } catch (error) {
    badge.textContent = "service unreachable";
    badge.className = "badge unavailable";
  }
}

async function loadFilters() {
  const [labels, fonts] = await Promise.all([getJson("v1/labels"), getJson("v1/fonts")]);
  $("label-list").replaceChildren(...labels.labels.map((l) => element("option", { value: l.label }, `${l.glyphs} glyphs`)));
  for (const font of fonts.fonts) {
    state.fonts.set(font.font_hash, font);
    const text = `${font.family_name || font.font_hash.slice(0, 12)} ${font.style || ""} (${font.split || "no split"}, ${font.glyphs})`;
    $("font").append(element("option", { value: font.font_hash }, text));
  }
}

function currentQuery() {
  const params = new URLSearchParams();
  for (const [key, id] of [["label", "label"], ["font", "font"], ["char_class", "char-class"], ["split", "split"]]) {
    const value = $(id).value.trim();
    if (value) params.set(key, value);
  }
  params.set("limit", "60");
  return params;
}

async function search(more = false) {
  if (!more) {
    state.query = currentQuery();
    state.cursor = null;
    $("results").replaceChildren();
  }
  const params = new URLSearchParams(state.query);
  if (state.cursor) params.set("cursor", state.cursor);
  try {
    const page = await getJson(`v1/glyphs?${params}`);
    $("results").append(...page.items.map((g) => thumb(g, showGlyph)));
    $("result-count").textContent = `${page.total} glyphs match`;
    state.cursor = page.next_cursor;
    $("more").hidden = !page.next_cursor;
  } catch (error) {
    $("result-count").textContent = error.message;
  }
}

function fillMetadata(meta) {
  const rows = [
    ["glyph id", meta.glyph_id], ["label", meta.label], ["class index", meta.class_index ?? "not in the build"],
    ["char class", meta.char_class], ["joining group", meta.joining_group], ["twins", meta.alt_labels.join(", ") || "none"],
    ["font", `${meta.family_name || ""} ${meta.style || ""}`.trim()], ["font hash", meta.font_hash.slice(0, 16) + "…"],
    ["split", meta.split ?? "none"], ["design group", meta.design_group ?? "none"], ["diacritic", meta.is_diacritic],
    ["bbox (font units)", meta.original_bbox.map((v) => Math.round(v)).join(", ")], ["scale factor", meta.scale_factor.toFixed(5)],
    ["major dim ratio", meta.major_dim_ratio.toFixed(4)], ["target dim", meta.target_dim], ["source", meta.source],
  ];
  $("metadata").replaceChildren(...rows.map(([k, v]) => element("tr", {}, element("td", {}, k), element("td", {}, String(v ?? "")))));
}

async function fillGrid(glyphId) {
  const overlay = $("grid-overlay");
  overlay.replaceChildren();
  $("grid-message").textContent = "";
  try {
    const grid = await getJson(`v1/glyphs/${glyphId}/grid.json`);
    overlay.style.gridTemplateColumns = `repeat(${grid.grid_side}, 1fr)`;
    overlay.style.gridTemplateRows = `repeat(${grid.grid_side}, 1fr)`;
    overlay.append(...grid.ids.flat().map((id) => element("div", { className: "cell", dataset: { id } }, id ? String(id) : "")));
    $("grid-message").textContent = `${grid.ids.flat().filter((id) => id).length} non-empty cells; centroids ${grid.centroid_hash.slice(0, 12)}`;
  } catch (error) {
    $("grid-message").textContent = error.message;
  }
}

async function showGlyph(glyphId) {
  state.selected = glyphId;
  history.replaceState(null, "", `#glyph=${glyphId}`);
  document.querySelectorAll(".thumb.selected").forEach((n) => n.classList.remove("selected"));
  document.querySelectorAll(`.thumb[data-glyph-id="${glyphId}"]`).forEach((n) => n.classList.add("selected"));
  try {
    const meta = await getJson(`v1/glyphs/${glyphId}`);
    $("glyph-hint").hidden = true;
    $("glyph-view").hidden = false;
    $("glyph-image").className = "raster";
    $("glyph-image").src = `v1/glyphs/${glyphId}/raster.png`;
    $("glyph-title").textContent = `${meta.label} — ${fontName(meta.font_hash)}`;
    $("downloads").replaceChildren(...["raster.png", "raster.npy", "raster.json", "grid.png", "grid.npy", "grid.json"].flatMap((name, i) =>
      [i ? " · " : "", element("a", { href: `v1/glyphs/${glyphId}/${name}` }, name)]));
    fillMetadata(meta);
    await Promise.all([fillGrid(glyphId), showNeighbours(meta), fillPrediction(glyphId), showSimilar(glyphId)]);
  } catch (error) {
    $("glyph-hint").hidden = false;
    $("glyph-hint").textContent = error.message;
  }
}

// -- recognition (the served model bundle) -----------------------------------------------------

function scoreTable(table, top, accepted = null) {
  table.replaceChildren(...top.map((s) => {
    const right = accepted !== null && accepted.has(s.label);
    const bar = element("span", { className: "bar" });
    bar.style.width = `${Math.max(1, Math.round(120 * s.probability))}px`;
    return element("tr", { className: right ? "right" : "" },
      element("td", {}, s.label, s.twin_of_top ? element("span", { className: "twin" }, " twin") : ""),
      element("td", {}, bar), element("td", {}, `${(100 * s.probability).toFixed(1)}%`));
  }));
}

function paintImportance(overlay, importance) {
  const side = importance.length;
  const peak = Math.max(1e-6, ...importance.flat().map((v) => Math.max(0, v)));
  overlay.style.gridTemplateColumns = `repeat(${side}, 1fr)`;
  overlay.style.gridTemplateRows = `repeat(${side}, 1fr)`;
  overlay.replaceChildren(...importance.flat().map((v) => {
    const cell = element("div", { className: "weight", dataset: { weight: v.toFixed(4) } });
    cell.style.background = `rgba(220, 20, 20, ${(0.75 * Math.max(0, v) / peak).toFixed(3)})`;
    return cell;
  }));
}

async function fillPrediction(glyphId) {
  const message = $("prediction-message");
  $("prediction-top").replaceChildren();
  $("importance-overlay").replaceChildren();
  try {
    const p = await getJson(`v1/glyphs/${glyphId}/prediction?explain=true&top_k=5`);
    scoreTable($("prediction-top"), p.top, new Set([p.label, ...p.alt_labels]));
    message.textContent = `${p.right ? "right" : "wrong"}${p.right && !p.right_strict ? " (a twin)" : ""} · ${p.bundle}`;
    paintImportance($("importance-overlay"), p.importance);
  } catch (error) {
    message.textContent = error.message;
  }
}

async function showSimilar(glyphId) {
  $("similar").replaceChildren();
  $("similar-message").textContent = "";
  try {
    const answer = await getJson(`v1/glyphs/${glyphId}/similar?k=12`);
    $("similar").append(...answer.items.map((g) => {
      const node = thumb(g, showGlyph);
      node.title += ` · similarity ${g.similarity.toFixed(3)}`;
      if (g.same_label === false) node.classList.add("wrong");
      return node;
    }));
    const same = answer.items.filter((g) => g.same_label).length;
    const order = answer.label_weight ? `cosine + ${answer.label_weight} x the label's probability` : "cosine";
    $("similar-message").textContent = `${same} of ${answer.items.length} with the same label or a twin (ranked by ${order})`;
  } catch (error) {
    $("similar-message").textContent = error.message;
  }
}

async function loadReview() {
  const sort = $("review-sort").value;
  try {
    const page = await getJson(`v1/review?sort=${sort}&limit=40`);
    $("review-summary").textContent = `${page.total} glyphs in this queue`;
    $("review").replaceChildren(...page.items.map((item) => {
      const node = thumb(item, showGlyph);
      node.querySelector("span").textContent = `${item.label} → ${item.predicted}`;
      node.title += ` · predicted ${item.predicted} (${(100 * item.probability).toFixed(1)}%)`;
      return node;
    }));
  } catch (error) {
    $("review-summary").textContent = error.message;
    $("review").replaceChildren();
  }
}

function drawClassified(rows, importance) {
  const canvas = $("classify-canvas");
  const context = canvas.getContext("2d");
  const scale = canvas.width / rows.length;
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#1d2330";
  rows.forEach((row, y) => [...row].forEach((bit, x) => { if (bit === "1") context.fillRect(x * scale, y * scale, scale, scale); }));
  if (importance) {
    const cell = canvas.width / importance.length;
    const peak = Math.max(1e-6, ...importance.flat().map((v) => Math.max(0, v)));
    importance.forEach((line, y) => line.forEach((v, x) => {
      context.fillStyle = `rgba(220, 20, 20, ${(0.6 * Math.max(0, v) / peak).toFixed(3)})`;
      context.fillRect(x * cell, y * cell, cell, cell);
    }));
  }
  canvas.hidden = false;
}

async function postJson(url, body) {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw Object.assign(new Error(answer.detail || response.statusText), { status: response.status, code: answer.code });
  return answer;
}

async function classifyOutline() {
  const message = $("classify-message");
  message.textContent = "…";
  try {
    const contours = JSON.parse($("contours-input").value);
    const font = { ascent: Number($("ascent-input").value), descent: Number($("descent-input").value) };
    const [answer, raster] = await Promise.all([
      postJson("v1/classify", { contours, font, top_k: 5, explain: true }), postJson("v1/rasterize", { contours, font }),
    ]);
    const result = answer.results[0];
    scoreTable($("classify-top"), result.top);
    drawClassified(raster.raster.rows, result.importance);
    message.textContent = `${answer.bundle}: ${result.top[0].label}` + (result.twins.length ? ` (twins: ${result.twins.join(", ")})` : "");
  } catch (error) {
    message.textContent = error instanceof SyntaxError ? `contours: not JSON (${error.message})` : error.message;
  }
}

async function classifyStored() {
  const message = $("classify-message");
  const glyphId = Number($("classify-glyph-id").value);
  message.textContent = "…";
  try {
    const [p, raster] = await Promise.all([getJson(`v1/glyphs/${glyphId}/prediction?explain=true`), getJson(`v1/glyphs/${glyphId}/raster.json`)]);
    scoreTable($("classify-top"), p.top, new Set([p.label, ...p.alt_labels]));
    drawClassified(raster.rows, p.importance);
    message.textContent = `#${glyphId} ${p.label}: ${p.right ? "right" : "wrong"} · ${p.bundle}`;
  } catch (error) {
    message.textContent = error.message;
  }
}

async function showNeighbours(meta) {
  const params = new URLSearchParams({ font: meta.font_hash, limit: "40" });
  if (meta.char_class) params.set("char_class", meta.char_class);
  const page = await getJson(`v1/glyphs?${params}`);
  $("neighbours").replaceChildren(...page.items.filter((g) => g.glyph_id !== meta.glyph_id).map((g) => thumb(g, showGlyph)));
}

async function loadPrimitives() {
  try {
    const catalog = await getJson("v1/primitives");
    const { columns, tile_px: tile, cell_px: cell } = catalog.sprite;
    const counted = catalog.primitives[0].frequency !== null;
    const order = catalog.primitives.slice(1).sort((a, b) => (b.frequency ?? 0) - (a.frequency ?? 0) || a.id - b.id);
    $("primitive-summary").textContent = `${catalog.count - 1} prototypes of ${catalog.cell_size}×${catalog.cell_size} cells` +
      (counted ? ", by frequency in the grids store" : " (no grids store: frequencies unknown)");
    $("primitives").replaceChildren(...order.map((p) => {
      const tileNode = element("div", { className: "tile" });
      tileNode.style.backgroundImage = "url(v1/primitives.png)";
      tileNode.style.backgroundPosition = `-${(p.id % columns) * tile}px -${Math.floor(p.id / columns) * tile}px`;
      tileNode.style.width = tileNode.style.height = `${cell}px`;
      const share = p.share === null ? "" : ` · ${(100 * p.share).toFixed(2)}%`;
      return element("div", { className: "primitive", title: `primitive ${p.id}: ${p.frequency ?? "?"} cells${share}` },
        tileNode, element("div", {}, `#${p.id}`), element("div", { className: "muted" }, counted ? String(p.frequency) : ""));
    }));
  } catch (error) {
    $("primitives-message").textContent = error.message;
  }
}

$("search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
$("more").addEventListener("click", () => search(true));
$("show-grid").addEventListener("change", (event) => $("grid-overlay").classList.toggle("hidden", !event.target.checked));
$("show-importance").addEventListener("change", (event) => $("importance-overlay").classList.toggle("hidden", !event.target.checked));
$("review-sort").addEventListener("change", loadReview);
$("classify-form").addEventListener("submit", (event) => { event.preventDefault(); classifyOutline(); });
$("classify-glyph").addEventListener("click", classifyStored);

await Promise.all([loadHealth(), loadFilters().catch((error) => { $("result-count").textContent = error.message; })]);
const linked = /glyph=(\d+)/.exec(location.hash);
if (linked) showGlyph(Number(linked[1]));
loadPrimitives();
loadReview();
