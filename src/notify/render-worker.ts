import { parentPort, workerData } from "node:worker_threads";
import { createMessageRenderer, type MessageJob, type MessageSetup } from "./render-message.ts";

/**
 * Composing MIME and signing it cost more than sending it, so they run on worker threads while the
 * main thread keeps the SMTP connections and the ledger busy.
 */

export type RenderRequest = { id: number; jobs: MessageJob[] };
export type RenderedItem = { ordinal: number; raw?: Uint8Array; error?: string };
export type RenderResponse = { id: number; items: RenderedItem[] };

const render = createMessageRenderer(workerData as MessageSetup);
const port = parentPort;
if (!port) throw new Error("render-worker.ts runs only as a worker thread");

port.on("message", async (request: RenderRequest) => {
  const items: RenderedItem[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const job of request.jobs) {
    try {
      const raw = await render(job);
      const copy = new Uint8Array(raw);
      items.push({ ordinal: job.ordinal, raw: copy });
      transfer.push(copy.buffer);
    } catch (error) {
      items.push({ ordinal: job.ordinal, error: error instanceof Error ? error.message : String(error) });
    }
  }
  port.postMessage({ id: request.id, items } satisfies RenderResponse, transfer);
});
