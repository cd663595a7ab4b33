import type { ScanSteps } from "../run-scan.ts";

/** Signs in as the seeded person and opens the pages that load the SDKs (what a `--steps` module does). */
const steps: ScanSteps = async ({ page, seed }) => {
  await page.getByLabel("Email").fill(seed.email ?? "");
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/account");
  await page.getByRole("link", { name: "Settings" }).click();
  await page.waitForURL("**/settings");
};

export default steps;
