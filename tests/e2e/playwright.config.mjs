// @playwright/test's settings for the browser tests (run.sh). The tests
// start Debian's chromium themselves (playwright-core), so no browser is
// downloaded; one worker, in file order, as the machine has two cores and
// each test runs a server beside its browser.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.mjs",
  timeout: 6 * 60 * 1000,
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  outputDir: "out/test-results",
});
