// The topology page at / in a real browser: both instances with their
// processes, where the next new session would go and why, and the page
// following the cluster live (polling /topology.json) when a session starts.
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

test('the topology page shows both instances and follows a new session', async () => {
  const page = await browser.newPage();
  await page.goto(`${cluster.url}/`);
  for (const name of ['IT1', 'IT2']) {
    await page.locator(`[data-instance="${name}"] tr[data-process]`).first().waitFor();
  }
  const settings = await page.locator('#settings').textContent();
  assert.match(settings, /time scale \S+× .*routing sticky/);
  assert.match(settings, /^.*\b0 sessions\b/);
  // Each instance says where its next session goes: the highest PID, marked.
  for (const name of ['IT1', 'IT2']) {
    const inst = page.locator(`[data-instance="${name}"]`);
    assert.match(await inst.locator('div.next').textContent(), /highest PID \d+/);
    assert.equal(await inst.locator('tr.next').count(), 1);
  }
  // A new session, from outside the page: the page shows it within seconds.
  const r = await fetch(`${cluster.url}/scripts/wgate/webgui/!`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: '~login=LOAD00042&~password=welcome&~transaction=FB03',
    redirect: 'manual',
  });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /id="its-title">Display Document/);
  const owner = r.headers.get('x-its-agate'); // instance/process/pid
  assert.ok(owner, 'X-ITS-AGate names the owner');
  const [instance, processNo] = owner.split('/');
  await page.waitForFunction(() => /\b1 session\b/.test(document.querySelector('#settings').textContent));
  const row = page.locator(`[data-instance="${instance}"] tr[data-process="${processNo}"]`);
  assert.match(await row.locator('td').nth(5).textContent(), /^1\//);
  await page.screenshot({ path: path.join(artifacts, 'topology.png'), fullPage: true });
  // The page's links lead somewhere.
  for (const href of ['/scripts/wgate/admin/!', '/metrics', '/topology.json']) {
    const res = await fetch(`${cluster.url}${href}`);
    assert.equal(res.status, 200, href);
  }
});
