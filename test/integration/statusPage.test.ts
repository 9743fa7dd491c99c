// The status page in a real headless browser (Debian's chromium driven by playwright-core): after
// some traffic, the figures it shows match /metrics; a screenshot is kept in test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO_ROOT, startWorker } from '../helpers/worker.js';

const CHROMIUM = '/usr/bin/chromium';

test('the status page shows what /metrics counts', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run the README test command (bash scripts/test.sh), which installs it`);
  const w = await startWorker({ conf: { 'strata.worker.status.sample.interval': '300ms' } });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    for (let i = 0; i < 20; i++) await fetch(`${w.s3Url}/data/page-${i}`, { method: 'PUT', body: 'x'.repeat(1000 * (i + 1)) });
    for (let i = 0; i < 20; i++) await (await fetch(`${w.s3Url}/data/page-${i}`)).arrayBuffer();
    await fetch(`${w.s3Url}/data/not-there`);
    await fetch(`${w.s3Url}/no-such-bucket/`);
    await new Promise((r) => setTimeout(r, 1500)); // a few samples for the charts

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${w.adminUrl}/`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 15_000 });

    const metrics = await (await fetch(`${w.adminUrl}/metrics`)).text();
    let total = 0;
    for (const line of metrics.split('\n')) if (line.startsWith('strata_s3_requests_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    const shown = Number((await page.textContent('#total-requests'))!.replace(/,/g, ''));
    assert.equal(shown, total, 'total requests on the page = the sum of strata_s3_requests_total');
    assert.equal(await page.textContent('#total-errors'), '2 / 0');
    assert.match((await page.textContent('#mounts'))!, /\/data/);
    assert.match((await page.textContent('#ring'))!, /this worker/);
    assert.match((await page.textContent('#errors'))!, /NoSuchKey/);
    assert.match((await page.textContent('#errors'))!, /NoSuchBucket/);
    assert.ok((await page.locator('#chart-requests polyline').count()) >= 1, 'the throughput chart is drawn');

    const dir = join(REPO_ROOT, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'status-page.png'), fullPage: true });
    assert.ok(existsSync(join(dir, 'status-page.png')));
  } finally {
    await browser.close();
    await w.stop();
  }
});
