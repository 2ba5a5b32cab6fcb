/**
 * Real Chromium for the console's end-to-end tests: Debian's `chromium` package, driven by
 * playwright-core (which never downloads a browser). Without the browser the tests fail in CI
 * (CI=true) and are skipped with a loud note elsewhere, so a laptop without Chromium can still run
 * `npm test`. Screenshots go to test-artifacts/console/ (git-ignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(__dirname, '../../../test-artifacts/console');

export const browserAvailable = fs.existsSync(CHROMIUM);
const inCi = !!process.env.CI && process.env.CI !== 'false';

/** `describe`, or `describe.skip` with a note when Chromium is missing outside CI. */
export function describeInBrowser(name: string, fn: () => void): void {
  if (!browserAvailable && !inCi) {
    console.warn(`SKIPPED ${name}: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}

export async function launch(): Promise<Browser> {
  if (!browserAvailable) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: the console tests need it (apt-get install -y chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export async function signIn(page: Page, api: string, key: string): Promise<void> {
  await page.goto(`${api}/console`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}
