// The offline cache holds one build: a second deploy at the same origin replaces the first
// build's wasm and JS in the service worker's cache instead of adding ~18 MB beside them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { distDir, startStaticServer, launchBrowser, openApp, waitForBackend, waitForModel } from "./harness.mjs";

const HASHED = /^probseg-web-([0-9a-f]+)(_bg\.wasm|\.js)$/;
let secondBuild;
let current = distDir;
let server;

/** A copy of dist/ as the next deploy would look: the same files under another content hash. */
async function nextDeploy() {
  const dir = await mkdtemp(join(tmpdir(), "probseg-deploy-"));
  await cp(distDir, dir, { recursive: true });
  const hashed = (await readdir(dir)).filter((name) => HASHED.test(name));
  assert.equal(hashed.length, 2, `expected one hashed wasm and one JS in dist/, got ${hashed}`);
  const oldHash = hashed[0].match(HASHED)[1];
  // Trunk's hashes are 64-bit hex without leading zeros (this build's may have 15 digits);
  // sw.js takes 12–16 digits as a hash.
  assert.ok(oldHash.length >= 12 && oldHash.length <= 16, `a content hash, got ${oldHash}`);
  const newHash = [...oldHash].reverse().join("");
  for (const name of hashed) await rename(join(dir, name), join(dir, name.replace(oldHash, newHash)));
  for (const name of await readdir(dir)) {
    if (!/\.(html|js)$/.test(name)) continue;
    const text = await readFile(join(dir, name), "utf8");
    if (text.includes(oldHash)) await writeFile(join(dir, name), text.replaceAll(oldHash, newHash));
  }
  return { dir, oldHash, newHash };
}

before(async () => {
  secondBuild = await nextDeploy();
  server = await startStaticServer(() => current);
});
after(async () => {
  await server?.close();
  if (secondBuild) await rm(secondBuild.dir, { recursive: true, force: true });
});

test("a second deploy replaces the first build in the offline cache", async () => {
  const browser = await launchBrowser({ webgpu: false });
  try {
    const { page, consoleErrors } = await openApp(browser, `${server.url}/`);
    await waitForBackend(page);
    await waitForModel(page);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await page.waitForSelector('#demo-picker[data-all-cached="true"]', { timeout: 60_000 });
    const cachedBuilds = () =>
      page.evaluate(async () => {
        const names = [];
        for (const key of await caches.keys()) {
          const cache = await caches.open(key);
          for (const request of await cache.keys()) names.push(new URL(request.url).pathname);
        }
        return names.filter((path) => /probseg-web-[0-9a-f]+(_bg\.wasm|\.js)$/.test(path)).sort();
      });
    const first = await cachedBuilds();
    assert.ok(first.some((path) => path.includes(secondBuild.oldHash)), JSON.stringify(first));

    current = secondBuild.dir;
    await page.reload();
    await waitForBackend(page);
    await waitForModel(page);
    // The new build's files arrive through the worker; wait until both are kept.
    await page.waitForFunction(
      async (hash) => {
        const cache = await caches.open("probseg-v2");
        const kept = (await cache.keys()).map((request) => request.url);
        return kept.filter((url) => url.includes(hash)).length === 2;
      },
      secondBuild.newHash,
      { timeout: 60_000, polling: 500 },
    );
    const second = await cachedBuilds();
    assert.equal(second.length, 2, `one build's wasm and JS, got ${JSON.stringify(second)}`);
    assert.ok(second.every((path) => path.includes(secondBuild.newHash)), JSON.stringify(second));
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
  }
});
