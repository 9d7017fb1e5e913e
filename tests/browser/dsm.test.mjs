// SISP and the Distributed Session Manager in a real browser:
// headless Chromium from Debian, driven by playwright-core, against a real
// cluster started on ephemeral ports. ~timeout is 15 minutes and time_scale
// 1, so only the DSM's termination can explain a session ending in 2 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { artifacts, launchBrowser, startCluster, within } from './harness.mjs';

let cluster;
let url;
let browser;

const itsadm = (command) => cluster.itsadm(command);
const sessionsOf = (user) => itsadm('sm04').filter((row) => row.user === user).length;
const locksOf = (user) => itsadm('sm12').filter((row) => row.user === user).length;

before(async () => {
  cluster = await startCluster(['--time-scale', '1']);
  url = cluster.url;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

// Opens the portal with `launch`, logs `user` on in the IFrame and waits
// until the DSM registered the session.
async function openPortal(page, launch, user, expected = 1) {
  await page.goto(`${url}/portal/?launch=${encodeURIComponent(launch)}`);
  await logOnInFrame(page, user);
  await page.waitForFunction((n) => window.DSM && window.DSM.sessions.size === n, expected);
}

async function logOnInFrame(page, user) {
  const frame = page.frameLocator('#content');
  await frame.locator('input[name="~login"]').fill(user);
  await frame.locator('input[name="~password"]').fill('welcome');
  await frame.getByRole('button', { name: 'Log On' }).click();
  await frame.locator('#its-title').waitFor();
}

async function lockPersonnelNumber(page, pernr) {
  const frame = page.frameLocator('#content');
  await frame.locator('#RP50G-PERNR').fill(pernr);
  await frame.getByRole('button', { name: 'Change Addresses' }).click();
  await frame.locator('#its-title', { hasText: 'Change Addresses' }).waitFor();
}

test('closing the tab ends the session and its lock within 2 s', async () => {
  const page = await browser.newPage();
  await openPortal(page, '/scripts/wgate/ess/!', 'DEMO');
  await lockPersonnelNumber(page, '4711');
  assert.equal(sessionsOf('DEMO'), 1);
  assert.equal(locksOf('DEMO'), 1);
  await page.screenshot({ path: path.join(artifacts, 'portal-pa30-locked.png'), fullPage: true });
  await page.locator('#dsm-monitor').screenshot({ path: path.join(artifacts, 'dsm-monitor.png') });
  const monitor = await page.locator('#dsm-sessions').innerText();
  assert.match(monitor, /IT[12]-A:/);
  await page.close({ runBeforeUnload: true });
  const ms = await within(2000, 'SM04 and SM12 cleared after closing the tab',
    () => sessionsOf('DEMO') === 0 && locksOf('DEMO') === 0);
  console.log(`# session and lock gone ${ms} ms after the tab closed`);
});

test('navigating away ends the session', async () => {
  const page = await browser.newPage();
  await openPortal(page, '/scripts/wgate/ess/!', 'DEMO2');
  await lockPersonnelNumber(page, '4712');
  await page.goto('about:blank');
  await within(2000, 'session ended after navigating away',
    () => sessionsOf('DEMO2') === 0 && locksOf('DEMO2') === 0);
  await page.close();
});

test('reload ends the registered session', async () => {
  const page = await browser.newPage();
  await openPortal(page, '/scripts/wgate/webgui/!?~transaction=FB03', 'LOAD00001');
  assert.equal(sessionsOf('LOAD00001'), 1);
  await page.reload();
  await within(2000, 'session ended after reload', () => sessionsOf('LOAD00001') === 0);
  await page.close();
});

test('portal Log Off sends LOGOFF for every session', async () => {
  const page = await browser.newPage();
  await openPortal(page, '/scripts/wgate/ess/!', 'LOAD00002');
  await lockPersonnelNumber(page, '4713');
  await page.locator('#dsm-logoff').click();
  await within(2000, 'logged off', () => sessionsOf('LOAD00002') === 0 && locksOf('LOAD00002') === 0);
  assert.equal(await page.evaluate(() => window.DSM.sessions.size), 0);
  await page.screenshot({ path: path.join(artifacts, 'portal-logged-off.png') });
  await page.close({ runBeforeUnload: true });
});

test('two IFrame sessions are both registered and both ended', async () => {
  const page = await browser.newPage();
  await openPortal(page, '/scripts/wgate/ess/!', 'LOAD00003');
  await lockPersonnelNumber(page, '4714');
  // Navigate the IFrame to another service: a second session registers.
  const frame = page.frame({ name: 'content' });
  await frame.goto(`${url}/scripts/wgate/webgui/!?~transaction=FB03&sapwp_active=1`);
  await logOnInFrame(page, 'LOAD00003');
  await page.waitForFunction(() => window.DSM.sessions.size === 2);
  assert.equal(sessionsOf('LOAD00003'), 2);
  await page.locator('#dsm-monitor').screenshot({ path: path.join(artifacts, 'dsm-two-sessions.png') });
  await page.close({ runBeforeUnload: true });
  await within(2000, 'both sessions ended', () => sessionsOf('LOAD00003') === 0 && locksOf('LOAD00003') === 0);
});

test('logging off inside the IFrame reports SRV_CLOSE to the DSM', async () => {
  const page = await browser.newPage();
  await openPortal(page, '/scripts/wgate/webgui/!?~transaction=FB03', 'LOAD00004');
  const frame = page.frameLocator('#content');
  await frame.getByRole('button', { name: 'Log Off' }).click();
  await page.waitForFunction(() => window.DSM.sessions.size === 0);
  assert.equal(sessionsOf('LOAD00004'), 0);
  const log = await page.locator('#dsm-log').innerText();
  assert.match(log, /SRV_CLOSE/);
  await page.close({ runBeforeUnload: true });
});

test('a foreign launch URL is refused', async () => {
  const page = await browser.newPage();
  const r = await page.goto(`${url}/portal/?launch=${encodeURIComponent('https://example.org/')}`);
  assert.equal(r.status(), 400);
  assert.equal(await page.locator('iframe').count(), 0);
  await page.close();
  const m = await (await fetch(`${url}/metrics`)).text();
  assert.match(m, /its_portal_refused_total [1-9]/);
});
