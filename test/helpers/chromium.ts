import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's package (.ci/run installs it); CHROMIUM_PATH points elsewhere on a developer's machine. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** In CI a missing Chromium is a failure, never a skip. */
export const IN_CI = Boolean(process.env.CI);
/** Every browser step's deadline: a launch is ~0.3 s, a page's step a few ms. */
export const STEP_MS = 20_000;

/** Whether a suite that needs Chromium skips here; says so loudly when it does. */
export function skipWithoutChromium(what: string): boolean {
  if (HAS_CHROMIUM || IN_CI) return false;
  console.warn(`\n*** SKIPPED: ${what}: no ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n`);
  return true;
}

/** Headless Chromium, without the sandbox, which needs user namespaces a root CI run does not give it. */
export async function launchChromium(): Promise<Browser> {
  if (!HAS_CHROMIUM) throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium package`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: STEP_MS });
}
