// The eoproc server's map page: a raster of the served folders as tiles
// (Leaflet, no WebGL), an AOI drawn by clicking, its geodesic area and
// zonal statistics from the server; with a server started with --jobs, a
// processing (detect) over the AOI: its estimate, progress and footprints. A token, when the server asks for one,
// is given in the page's address as #token=...
"use strict";
(function () {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const $ = (id) => document.getElementById(id);
  const state = { map: null, layer: null, tilejson: null, aoi: null, area: null,
                  stats: null, tilesLoaded: 0, errors: [], processing: null,
                  footprints: null, footprintCount: null, cost: null };
  window.eoMap = state;

  function status(msg) { $("status").textContent = msg || ""; }

  async function api(path, body) {
    const headers = {};
    if (token) headers["Authorization"] = "Bearer " + token;
    const init = { headers };
    if (body !== undefined) {
      init.method = "POST";
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    const data = await r.json();
    if (!r.ok) throw new Error(data.detail + " [" + data.id + "]");
    return data;
  }

  function query() {
    const q = new URLSearchParams();
    q.set("url", $("file").value);
    for (const b of $("bidx").value.split(",").map((s) => s.trim()).filter(Boolean))
      q.append("bidx", b);
    if ($("rescale").value.trim()) q.set("rescale", $("rescale").value.trim());
    if ($("expression").value.trim()) q.set("expression", $("expression").value.trim());
    if (token) q.set("access_token", token);
    return q;
  }

  async function show() {
    status("");
    let tj;
    try {
      tj = await api("/cog/tilejson.json?" + query().toString());
    } catch (e) { status(e.message); return; }
    state.tilejson = tj;
    if (state.layer) state.map.removeLayer(state.layer);
    const b = tj.bounds;
    const bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
    // A raster whose edge lies on a tile boundary would, after the round
    // trip through degrees, also get the tile beyond it asked for (a 404
    // from the server, as from TiTiler): the layer's bounds are 1e-9 degree
    // (0.1 mm) inside the raster's.
    const e = 1e-9;
    const inner = L.latLngBounds([b[1] + e, b[0] + e], [b[3] - e, b[2] - e]);
    state.tilesLoaded = 0;
    // Move to the raster first: Leaflet walks every native tile of the view
    // (bounds only filter them), so a layer added to a world view with a
    // native zoom of 18 loops over billions of tiles and the page freezes.
    // For the same reason the layer is hidden below minzoom - 2 (16 native
    // tiles per displayed one at most).
    state.map.fitBounds(bounds, { maxZoom: tj.maxzoom, animate: false });  // never upsampled
    state.layer = L.tileLayer(tj.tiles[0], {
      bounds: inner, minZoom: Math.max(0, tj.minzoom - 2), maxZoom: 22,
      minNativeZoom: tj.minzoom, maxNativeZoom: tj.maxzoom, attribution: "eoproc",
    });
    state.layer.on("load", () => { state.tilesLoaded += 1; });
    state.layer.on("tileerror", (e) => { state.errors.push("tile " + e.tile.src); });
    state.layer.addTo(state.map);
  }

  // -- AOI drawing: click to add vertices, Finish closes the polygon
  let drawing = false, vertices = [], line = null, poly = null;
  function startDraw() {
    clearAoi();
    drawing = true;
    $("finish").disabled = false;
    state.map.getContainer().style.cursor = "crosshair";
  }
  function onClick(e) {
    if (!drawing) return;
    vertices.push(e.latlng);
    if (line) state.map.removeLayer(line);
    line = L.polyline(vertices, { color: "#ff0", weight: 2 }).addTo(state.map);
  }
  async function finish() {
    if (vertices.length < 3) { status("an AOI needs at least 3 points"); return; }
    drawing = false;
    $("finish").disabled = true;
    $("clear").disabled = false;
    state.map.getContainer().style.cursor = "";
    if (line) { state.map.removeLayer(line); line = null; }
    await setAoi(vertices);
  }
  function viewAoi() {
    clearAoi();
    const b = state.map.getBounds();
    vertices = [b.getSouthWest(), b.getSouthEast(), b.getNorthEast(), b.getNorthWest()];
    $("clear").disabled = false;
    return setAoi(vertices);
  }
  async function setAoi(pts) {
    poly = L.polygon(pts, { color: "#ff0", weight: 2, fillOpacity: 0.1 }).addTo(state.map);
    const ring = pts.map((p) => [p.lng, p.lat]);
    ring.push(ring[0]);
    state.aoi = { type: "Polygon", coordinates: [ring] };
    $("detect").disabled = false;
    try {
      state.area = await api("/ops/aoi_area", { aoi: state.aoi });
      let text = "Area: " + state.area.area_km2.toFixed(3) + " km²";
      const q = query();
      q.delete("rescale");
      state.stats = await api("/cog/statistics?" + q.toString(), state.aoi);
      for (const [band, s] of Object.entries(state.stats.properties.statistics))
        text += "\n" + band + ": mean " + (s.mean === null ? "-" : s.mean.toFixed(2)) +
                " (" + s.count + " px)";
      $("aoi-info").textContent = text;
    } catch (e) { status(e.message); }
    if (state.jobs) {
      try {
        const c = await api("/processing/cost", procBody());
        state.cost = c;
        const size = c.tiles != null ? c.tiles + " tiles" : c.pixels + " pixels";
        $("proc-info").textContent = "Estimate: " + size + ", " + c.partitions +
          " partitions, cost " + c.cost;
      } catch (e) {
        state.cost = { error: e.message };
        $("proc-info").textContent = e.message;
      }
    }
  }

  // -- processings: detect over the AOI, progress, then the footprints
  function procBody() {
    return { name: "map page", source: $("file").value, geometry: state.aoi };
  }
  async function detect() {
    if (!state.aoi) return;
    $("detect").disabled = true;
    if (state.footprints) state.map.removeLayer(state.footprints);
    state.footprints = null;
    state.footprintCount = null;
    try {
      let p = await api("/processings", procBody());
      state.processing = p;
      while (!["OK", "FAILED", "CANCELLED"].includes(p.status)) {
        $("proc-info").textContent = p.status + " " + p.percentCompleted + "%";
        await new Promise((r) => setTimeout(r, 300));
        p = await api("/processings/" + p.id);
        state.processing = p;
      }
      if (p.status !== "OK") {
        const m = p.messages.map((x) => x.message + " [" + x.code + "]").join("\n");
        $("proc-info").textContent = p.status + (m ? "\n" + m : "");
        return;
      }
      const fc = await api("/processings/" + p.id + "/result");
      state.footprints = L.geoJSON(fc, { pane: "footprints",
        style: { color: "#f0f", weight: 1, fillOpacity: 0.3 } }).addTo(state.map);
      // what the map drew: one path per feature in the footprints' pane
      state.footprintCount = document.querySelectorAll(
        ".leaflet-footprints-pane path").length;
      $("proc-info").textContent = "OK: " + fc.features.length + " footprints" +
        p.messages.map((x) => "\n" + x.message).join("");
    } catch (e) {
      $("proc-info").textContent = e.message;
    } finally { $("detect").disabled = false; }
  }
  function clearAoi() {
    vertices = [];
    for (const l of [line, poly]) if (l) state.map.removeLayer(l);
    line = poly = null;
    state.aoi = state.area = state.stats = state.cost = null;
    $("aoi-info").textContent = "";
    $("clear").disabled = true;
    $("detect").disabled = true;
  }

  async function init() {
    // minZoom given: else Leaflet takes the raster layer's as the map's
    state.map = L.map("map", { doubleClickZoom: false, minZoom: 0, maxZoom: 22 })
      .setView([0, 0], 2);
    state.map.on("click", onClick);
    $("show").onclick = show;
    $("draw").onclick = startDraw;
    $("finish").onclick = finish;
    $("clear").onclick = clearAoi;
    $("view-aoi").onclick = viewAoi;
    $("detect").onclick = detect;
    state.map.createPane("footprints");
    try {  // a server started with --jobs has processings
      state.jobs = (await api("/healthz")).processings === true;
      $("proc").hidden = !state.jobs;
    } catch (e) { state.jobs = false; }
    try {
      const files = (await api("/files")).files;
      for (const f of files) {
        const o = document.createElement("option");
        o.value = o.textContent = f;
        $("file").appendChild(o);
      }
      const p = new URLSearchParams(location.search);
      if (p.get("url")) $("file").value = p.get("url");
      for (const k of ["bidx", "rescale", "expression"]) if (p.get(k)) $(k).value = p.get(k);
      if (files.length) await show();
      else status("no rasters in the served folders");
    } catch (e) { status(e.message); }
    state.ready = true;
  }
  init();
})();
