// Request tracing in a real browser (docs/architecture.md §7.1): log on,
// follow the content page's footer link to the request's trace, and see the
// five steps of a new session drawn as an SVG sequence diagram, with the
// process the Mapping Manager chose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { artifacts, launchBrowser, startCluster } from './harness.mjs';

let cluster;
let browser;

before(async () => {
  cluster = await startCluster();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

test('a new session\'s trace page shows five steps with the chosen process', async () => {
  const page = await browser.newPage();
  // The logon page, then the first screen of FB03: a new session.
  await page.goto(`${cluster.url}/scripts/wgate/webgui/!?~transaction=FB03`);
  await page.locator('input[name="~login"]').fill('DEMO');
  await page.locator('input[name="~password"]').fill('welcome');
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.locator('input[name="~password"]').press('Enter'),
  ]);
  assert.equal(answer.status(), 200);
  assert.equal(answer.headers()['x-its-steps'], '1,2,3,4,5');
  const trace = answer.headers()['x-its-trace'];
  assert.match(trace, /^[0-9a-f]{32}$/);
  const [instance, processNo, pid] = answer.headers()['x-its-agate'].split('/');
  await page.locator('#its-title').waitFor();

  // The footer names the trace; following it opens the diagram.
  const link = page.locator('footer a#its-trace');
  assert.equal(await link.getAttribute('href'), `/trace/${trace}`);
  await link.click();
  await page.locator('svg#its-trace-diagram').waitFor();
  assert.equal(new URL(page.url()).pathname, `/trace/${trace}`);
  assert.equal(await page.locator('#its-trace-steps').textContent(), '1,2,3,4,5');

  // One numbered arrow per step, 1 to 5, in order.
  const steps = await page.locator('svg#its-trace-diagram g.step[data-step]:not([data-step="0"])')
    .evaluateAll((gs) => gs.map((g) => Number(g.dataset.step)));
  assert.deepEqual(steps, [1, 2, 3, 4, 5]);
  const label = async (step) =>
    page.locator(`svg#its-trace-diagram g.step[data-step="${step}"] text`).textContent();
  // Step 3: the Mapping Manager's choice, the process that answered.
  assert.match(await label(3), new RegExp(`^3 process ${processNo} \\(pid ${pid}\\): highest PID`));
  // Step 4: that process's lifeline, and the session ID it issued.
  const lanes = await page.locator('svg#its-trace-diagram g.lifeline text').allTextContents();
  assert.ok(lanes.includes(`agate ${instance}/${processNo} (pid ${pid})`), lanes.join(' | '));
  assert.ok(lanes.includes(`Mapping Manager ${instance}`), lanes.join(' | '));
  assert.match(await label(4), new RegExp(`^4 session context created, session ID issued: ${instance}-A:`));
  assert.match(await label(5), /^5 R\/3 logon of DEMO in client 100/);
  assert.equal(await page.locator('#its-trace-missing').count(), 0);
  await page.screenshot({ path: path.join(artifacts, 'trace.png'), fullPage: true });
});
