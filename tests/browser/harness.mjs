// What every browser test needs: a real cluster on ephemeral ports (the
// built binaries), itsadm against it, and headless Chromium from Debian.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = process.env.ITS_SOURCE_DIR ?? path.resolve(here, '../..');
export const bin = process.env.ITS_BIN_DIR ?? path.join(root, 'build/bin');
export const artifacts = path.join(here, 'artifacts');
const chromiumPath = process.env.ITS_CHROMIUM ?? '/usr/bin/chromium';

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Starts itscluster with deploy/config on ephemeral ports; resolves to
// { url, runDir, itsadm(command), stop() } once it says "ready".
export async function startCluster(extraArgs = []) {
  mkdirSync(artifacts, { recursive: true });
  const runDir = mkdtempSync(path.join(tmpdir(), 'its-browser-'));
  const cluster = spawn(
    path.join(bin, 'itscluster'),
    ['--config', path.join(root, 'deploy/config'), '--run-dir', runDir, '--ephemeral-ports',
      ...extraArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('cluster not ready in 30 s')), 30000);
    cluster.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^ready (\S+)/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    cluster.on('exit', (code) => reject(new Error(`itscluster exited with ${code}`)));
  });
  return {
    url,
    runDir,
    itsadm(command) {
      const r = spawnSync(path.join(bin, 'itsadm'), ['--config', runDir, command, '--json'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `itsadm ${command}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    async stop() {
      if (cluster.exitCode === null) {
        cluster.kill('SIGTERM');
        await new Promise((r) => cluster.once('exit', r));
      }
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Waits up to `ms` for `pred()`; returns how long it took, or throws.
export async function within(ms, what, pred) {
  const start = Date.now();
  while (Date.now() - start <= ms) {
    if (pred()) return Date.now() - start;
    await sleep(50);
  }
  assert.fail(`${what} not within ${ms} ms`);
}
