// page_common.mjs - what the browser tests of the server's map page share:
// Debian's headless Chromium through playwright-core, a page that records
// its console errors, page errors and failed requests, and the wait for
// the raster's tiles to be drawn.
import { chromium } from "playwright-core";

export async function openPage(result) {
  result.console = [];
  result.pageErrors = [];
  result.failed = [];
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 },
                                       deviceScaleFactor: 1 });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      result.console.push(m.type() + ": " + m.text());
  });
  page.on("pageerror", (e) => result.pageErrors.push(String(e)));
  page.on("requestfailed", (r) => result.failed.push(r.url() + " " + r.failure()?.errorText));
  page.on("response", (r) => {
    if (r.status() >= 400) result.failed.push(r.url() + " " + r.status());
  });
  return { browser, page };
}

// Load url and wait until the raster's tiles are loaded and fully faded in.
export async function loadMap(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.eoMap && window.eoMap.ready &&
                             window.eoMap.tilesLoaded > 0, null, { timeout: 30000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#map .leaflet-tile")].every(
    (t) => getComputedStyle(t).opacity === "1" &&
           getComputedStyle(t.parentElement).opacity === "1"), null, { timeout: 10000 });
}
