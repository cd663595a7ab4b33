import path from "node:path";
import type { Context } from "../app/context.ts";
import type { Actor } from "../auth/roles.ts";
import { AppError } from "../lib/errors.ts";
import {
  approveCampaign,
  type Campaign,
  type CampaignSettings,
  createCampaign,
  findCampaign,
} from "./campaigns.ts";
import { type AudienceFilter, readAnalysisAudience } from "./load-audience.ts";
import type { Audience } from "./notice-types.ts";

/**
 * The scripted path: a campaign over an `analyze --out` folder, made and approved by the operator on
 * first run, and simply found again on every later run (which is how a stopped campaign resumes).
 * A later run that names another folder, audience or sender is refused rather than mixed in.
 */
export async function openAnalysisCampaign(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  input: { id: string; dir: string; audience: Audience; filter: AudienceFilter; settings: CampaignSettings },
): Promise<{ campaign: Campaign; created: boolean }> {
  const source = path.resolve(input.dir);
  let campaign = await findCampaign(ctx.db, input.id);
  let created = false;
  if (campaign) {
    const differs = (what: string, was: string, now: string) =>
      new AppError(
        "USAGE",
        `campaign ${input.id} was made with ${what} ${was}, not ${now}: resume it with the same ${what}, or choose another --campaign`,
      );
    if (campaign.source !== source) throw differs("--analysis", campaign.source, source);
    if (campaign.audience !== input.audience) throw differs("--audience", campaign.audience, input.audience);
    if (campaign.settings.from !== input.settings.from)
      throw differs("--from", campaign.settings.from, input.settings.from);
    if (JSON.stringify(campaign.filters) !== JSON.stringify(input.filter)) {
      throw differs("filters", JSON.stringify(campaign.filters), JSON.stringify(input.filter));
    }
  } else {
    campaign = await createCampaign(ctx, actor, {
      id: input.id,
      source,
      audience: input.audience,
      filters: input.filter,
      settings: input.settings,
      recipients: readAnalysisAudience(source, input.audience, input.filter),
    });
    created = true;
  }
  if (campaign.status === "draft") campaign = await approveCampaign(ctx, actor, input.id, { scripted: true });
  return { campaign, created };
}
