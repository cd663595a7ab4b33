import type DKIM from "nodemailer/lib/dkim";
import { composeMessage, createSigner, type DkimOptions } from "./compose-message.ts";
import type { Audience, NoticeSettings, Recipient } from "./notice-types.ts";
import { renderNotice } from "./render-notice.ts";

/** What every message of a campaign shares; plain data, so it can cross into a worker thread. */
export type MessageSetup = {
  audience: Audience;
  settings: NoticeSettings;
  from: string;
  replyTo: string | null;
  dkim: DkimOptions | null;
};

export type MessageJob = { ordinal: number; messageId: string; recipient: Recipient };

export type MessageRenderer = (job: MessageJob) => Promise<Buffer>;

export function createMessageRenderer(setup: MessageSetup): MessageRenderer {
  const signer: DKIM | null = createSigner(setup.dkim);
  return async (job) =>
    composeMessage(
      renderNotice(setup.audience, job.recipient, setup.settings),
      { from: setup.from, replyTo: setup.replyTo, to: job.recipient, messageId: job.messageId },
      signer,
    );
}
