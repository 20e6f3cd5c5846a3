// map_page.mjs URL OUT_DIR - load the eoproc server's map page in Debian's
// headless Chromium, wait for the raster's tiles, draw an AOI by clicking,
// and write OUT_DIR/map.png (the map's screenshot) and OUT_DIR/result.json:
// console errors, the tile responses (status + bytes), the tiles on screen
// with their rectangles, the AOI drawn and what the page showed for it.
import fs from "node:fs";
import path from "node:path";
import { loadMap, openPage } from "./page_common.mjs";

const [url, outDir] = process.argv.slice(2);
if (!url || !outDir) {
  console.error("usage: node map_page.mjs URL OUT_DIR");
  process.exit(2);
}
const result = { tiles: [] };
const { browser, page } = await openPage(result);
try {
  page.on("response", async (r) => {
    if (!r.url().includes("/cog/tiles/")) return;
    try {
      const body = await r.body();
      result.tiles.push({ url: r.url(), status: r.status(), b64: body.toString("base64") });
    } catch (e) {
      result.tiles.push({ url: r.url(), status: r.status(), error: String(e) });
    }
  });
  await loadMap(page, url);
  // the tiles on screen: their address and where they are drawn
  result.onScreen = await page.evaluate(() => {
    const m = document.getElementById("map").getBoundingClientRect();
    return { map: [m.left, m.top, m.width, m.height],
             zoom: window.eoMap.map.getZoom(),
             tiles: [...document.querySelectorAll("#map img.leaflet-tile-loaded")].map((t) => {
               const r = t.getBoundingClientRect();
               return { src: t.src, rect: [r.left, r.top, r.width, r.height] };
             }) };
  });
  await page.screenshot({ path: path.join(outDir, "map.png") });
  // draw an AOI: four clicks around the map's centre, then Finish
  const [mx, my, mw, mh] = result.onScreen.map;
  const cx = mx + mw / 2, cy = my + mh / 2;
  await page.click("#draw");
  for (const [dx, dy] of [[-80, -60], [90, -50], [70, 80], [-60, 70]])
    await page.mouse.click(cx + dx, cy + dy);
  await page.click("#finish");
  await page.waitForFunction(() => window.eoMap.stats !== null ||
                             document.getElementById("status").textContent, null,
                             { timeout: 30000 });
  result.aoi = await page.evaluate(() => ({ aoi: window.eoMap.aoi, area: window.eoMap.area,
    stats: window.eoMap.stats, text: document.getElementById("aoi-info").textContent,
    status: document.getElementById("status").textContent }));
  await page.screenshot({ path: path.join(outDir, "map_aoi.png") });
} finally {
  await browser.close();
}
fs.writeFileSync(path.join(outDir, "result.json"), JSON.stringify(result));
