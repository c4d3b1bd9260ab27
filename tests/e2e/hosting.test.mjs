// `make dist` output works wherever it is hosted: here under /probseg/, as a GitHub Pages
// project site serves it, with nothing at the server's root. Every file the page, its loader,
// its service worker and its example fetch must resolve under that path.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startStaticServer,
  launchBrowser,
  openApp,
  waitForBackend,
  waitForModel,
  waitForAnalysis,
  foreignRequests,
} from "./harness.mjs";

let server;
before(async () => {
  server = await startStaticServer(undefined, { prefix: "/probseg" });
});
after(async () => {
  await server?.close();
});

test("the built site runs from a sub-path", async () => {
  const browser = await launchBrowser({ webgpu: false });
  try {
    const { page, requests, consoleErrors } = await openApp(browser, `${server.url}/probseg/`);
    await waitForBackend(page);
    await waitForModel(page);
    await page.click("#open-example");
    const analysis = await waitForAnalysis(page);
    assert.ok(analysis.samples > 0 && analysis.imageWidth === 128, JSON.stringify(analysis));
    const outside = server.hits.filter((url) => !url.startsWith("/probseg/"));
    assert.deepEqual(outside, [], "every request stays under the site's path");
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(foreignRequests(requests, server.url), []);
  } finally {
    await browser.close();
  }
});
