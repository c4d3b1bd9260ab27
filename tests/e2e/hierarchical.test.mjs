// The hierarchical probabilistic U-Net in the page, on both backends: chosen from the menu
// (downloaded on demand), it samples a real LIDC teaching case, shows one row of masks per
// latent scale instead of the latent map, and says plainly that fine-tuning needs the other
// model. Switching back brings the latent map back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startStaticServer,
  launchBrowser,
  openApp,
  waitForBackend,
  waitForModel,
  waitForAnalysis,
  useModel,
  openDemo,
  foreignRequests,
  screenshot,
} from "./harness.mjs";

let server;
before(async () => {
  server = await startStaticServer();
});
after(async () => {
  await server?.close();
});

for (const { name, webgpu, query } of [
  { name: "cpu", webgpu: false, query: "" },
  { name: "webgpu", webgpu: true, query: "?backend=webgpu" },
]) {
  test(`the hierarchical model samples a LIDC case and shows its scales (${name})`, async () => {
    const browser = await launchBrowser({ webgpu });
    // The server serves both runs: count only this run's requests for the weights.
    const firstHit = server.hits.length;
    const weightsFetched = () => server.hits.slice(firstHit).includes("/public/model/hpunet-lidc.bpk");
    try {
      const { page, requests, consoleErrors } = await openApp(browser, `${server.url}/${query}`);
      assert.equal((await waitForBackend(page)).backend, name);
      await waitForModel(page);
      // The background prefetch (other models, then the teaching cases) leaves this one out.
      await page.waitForSelector('#demo-picker[data-all-cached="true"]', { timeout: 120_000 });
      assert.ok(!weightsFetched(), "not fetched before it is chosen");
      await useModel(page, "lidc-hierarchical");
      assert.ok(weightsFetched(), "its weights are fetched when it is chosen");

      // A LIDC case needs no switch: the hierarchical model was trained on the same data.
      await openDemo(page, "lidc-0450");
      const shown = await waitForAnalysis(page);
      assert.equal(await page.getAttribute("#model-choice", "data-model"), "lidc-hierarchical");
      assert.equal(shown.latentCells, 0, "no latent map: this model has no single latent");
      assert.ok(shown.samples === 16 && shown.tiles === 16, JSON.stringify(shown));
      // All four readers drew this nodule: most samples must find it.
      assert.ok(shown.empty <= shown.samples / 2, `the nodule is found: ${JSON.stringify(shown)}`);
      // Four latent scales (1², 2², 4², 8² at 64²), six masks each; something varies.
      assert.deepEqual(shown.scaleRows.map((row) => row.masks), [6, 6, 6, 6], JSON.stringify(shown));
      assert.ok(shown.scaleRows.some((row) => row.distinct > 1), JSON.stringify(shown.scaleRows));
      assert.ok(Number(await page.getAttribute("#timings", "data-sample-ms")) > 0);
      // The encode workers run only the probabilistic U-Net: this one stays on the page.
      assert.equal(await page.getAttribute("#timings", "data-elsewhere"), "false");
      assert.ok(await page.isDisabled('button[data-download="latents"]'), "no latent vector to save");

      // A one-scale sample becomes the mask on the slice.
      const tile = page.locator('#scale-rows .scale-row[data-scale="0"] .latent-cell >> nth=1');
      await tile.click();
      assert.match((await tile.getAttribute("class")) ?? "", /selected/);
      await screenshot(page, `hierarchical-${name}`);

      // Resampling redraws the samples and the rows from the new seed.
      const drawn = () =>
        page.evaluate(() =>
          [...document.querySelectorAll("#gallery .sample-tile canvas, #scale-rows canvas")]
            .map((c) => c.toDataURL())
            .join(),
        );
      const before = await drawn();
      await page.click("#resample");
      await page.waitForFunction(
        (before) =>
          [...document.querySelectorAll("#gallery .sample-tile canvas, #scale-rows canvas")]
            .map((c) => c.toDataURL())
            .join() !== before,
        before,
        { timeout: 120_000, polling: 250 },
      );
      assert.equal((await waitForAnalysis(page)).scaleRows.length, 4);
      assert.notEqual(await drawn(), before);

      // Fine-tuning runs on the probabilistic U-Net only, and says so.
      await page.click("#tuning-start");
      const stopped = await page.waitForSelector("#tuning-stopped", { timeout: 30_000 });
      assert.match(await stopped.textContent(), /probabilistic U-Net/);

      // Back to the probabilistic U-Net: its latent map returns, the rows go.
      await useModel(page, "lidc");
      const back = await waitForAnalysis(page);
      assert.equal(back.latentCells, 49);
      assert.deepEqual(back.scaleRows, []);

      assert.deepEqual(consoleErrors, []);
      assert.deepEqual(foreignRequests(requests, server.url), []);
    } finally {
      await browser.close();
    }
  });
}
