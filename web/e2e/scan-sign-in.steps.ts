import { totpCode } from "../../src/auth/totp.ts";
import type { ScanSteps } from "../../src/scan/run-scan.ts";

/**
 * `blastradius scan --steps` for the project's own web UI: signs in with the seeded email, the
 * password in SCAN_PASSWORD and a code from the second-factor secret in SCAN_TOTP_SECRET.
 */
const signIn: ScanSteps = async ({ page, seed }) => {
  await page.getByRole("heading", { name: "Sign in to blastradius" }).waitFor();
  await page.getByLabel("Email").fill(seed.email ?? "");
  await page.getByLabel("Password").fill(process.env.SCAN_PASSWORD ?? "");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Authenticator code").fill(totpCode(process.env.SCAN_TOTP_SECRET ?? ""));
  await page.getByRole("button", { name: "Verify and sign in" }).click();
  await page.getByRole("heading", { name: "Incidents" }).waitFor();
};

export default signIn;
