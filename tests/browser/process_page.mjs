// process_page.mjs URL OUT_DIR AOI.geojson - on the eoproc server's map page
// (a server started with --jobs) in Debian's headless Chromium: draw the AOI
// by clicking its vertices on the map, submit a processing with the page's
// "Detect buildings" button, wait for it to end, and write
// OUT_DIR/process.png and OUT_DIR/result.json: console errors, the AOI the
// page drew, the processing as the page last read it, the footprints drawn
// on the map (paths in the footprints pane) and the page's text; then zoom
// the map out to the world and record how many raster tiles it draws.
import fs from "node:fs";
import path from "node:path";
import { loadMap, openPage } from "./page_common.mjs";

const [url, outDir, aoiFile] = process.argv.slice(2);
if (!url || !outDir || !aoiFile) {
  console.error("usage: node process_page.mjs URL OUT_DIR AOI.geojson");
  process.exit(2);
}
const aoi = JSON.parse(fs.readFileSync(aoiFile, "utf8"));
const result = {};
const { browser, page } = await openPage(result);
try {
  await loadMap(page, url);
  result.procVisible = await page.isVisible("#detect");
  // the AOI's vertices where the map shows them (the ring's last repeats its first)
  const ring = aoi.coordinates[0].slice(0, -1);
  const pts = await page.evaluate((r) => {
    const m = document.getElementById("map").getBoundingClientRect();
    return r.map(([lon, lat]) => {
      const p = window.eoMap.map.latLngToContainerPoint([lat, lon]);
      return [m.left + p.x, m.top + p.y];
    });
  }, ring);
  await page.click("#draw");
  for (const [x, y] of pts) await page.mouse.click(x, y);
  await page.click("#finish");
  await page.waitForFunction(() => window.eoMap.cost !== null,
                             null, { timeout: 60000 });
  await page.click("#detect");
  await page.waitForFunction(() => window.eoMap.footprintCount !== null ||
    (window.eoMap.processing && ["FAILED", "CANCELLED"].includes(window.eoMap.processing.status)),
    null, { timeout: 240000, polling: 200 });
  result.page = await page.evaluate(() => ({
    aoi: window.eoMap.aoi, cost: window.eoMap.cost, processing: window.eoMap.processing,
    footprintCount: window.eoMap.footprintCount,
    procInfo: document.getElementById("proc-info").textContent,
    status: document.getElementById("status").textContent }));
  await page.screenshot({ path: path.join(outDir, "process.png") });
  // out to the whole world: the raster's layer hides itself instead of
  // walking millions of native tiles (the page stays responsive)
  await page.evaluate(() => window.eoMap.map.setZoom(2, { animate: false }));
  result.zoomedOut = await page.evaluate(() => ({
    zoom: window.eoMap.map.getZoom(),
    tiles: document.querySelectorAll("#map img.leaflet-tile").length }));
} finally {
  await browser.close();
}
fs.writeFileSync(path.join(outDir, "result.json"), JSON.stringify(result));
