import { Worker } from "node:worker_threads";
import { AppError } from "../lib/errors.ts";
import { createMessageRenderer, type MessageJob, type MessageSetup } from "./render-message.ts";
import type { RenderResponse } from "./render-worker.ts";

export type RenderPool = {
  /** the messages of `jobs`, in the same order; a message that could not be built is an Error */
  render(jobs: MessageJob[]): Promise<(Buffer | Error)[]>;
  close(): Promise<void>;
};

/**
 * Renders on `threads` worker threads, each batch to the thread with the least outstanding work;
 * with 0 threads it renders on the calling thread (previews, exports, tests).
 */
export function createRenderPool(setup: MessageSetup, threads: number): RenderPool {
  if (threads <= 0) {
    const render = createMessageRenderer(setup);
    return {
      async render(jobs) {
        const out: (Buffer | Error)[] = [];
        for (const job of jobs) out.push(await render(job).catch((e: unknown) => toError(e)));
        return out;
      },
      async close() {},
    };
  }
  type Pending = { resolve: (r: RenderResponse) => void; reject: (e: Error) => void };
  type Slot = { worker: Worker; outstanding: number; pending: Map<number, Pending> };
  let nextId = 0;
  let failure: Error | null = null;
  const slots: Slot[] = [];
  for (let i = 0; i < threads; i++) {
    const slot: Slot = {
      worker: new Worker(new URL("./render-worker.ts", import.meta.url), { workerData: setup }),
      outstanding: 0,
      pending: new Map(),
    };
    slot.worker.on("message", (response: RenderResponse) => {
      const p = slot.pending.get(response.id);
      slot.pending.delete(response.id);
      p?.resolve(response);
    });
    const fail = (error: Error) => {
      failure ??= new AppError("WORK_FAILED", `a message renderer stopped: ${error.message}`);
      for (const p of slot.pending.values()) p.reject(failure);
      slot.pending.clear();
    };
    slot.worker.on("error", fail);
    slot.worker.on("exit", (code) => {
      if (slot.pending.size) fail(new Error(`thread exited with code ${code}`));
    });
    slots.push(slot);
  }
  return {
    async render(jobs) {
      if (failure) throw failure;
      const slot = slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
      const id = nextId++;
      slot.outstanding += jobs.length;
      try {
        const response = await new Promise<RenderResponse>((resolve, reject) => {
          slot.pending.set(id, { resolve, reject });
          slot.worker.postMessage({ id, jobs });
        });
        const byOrdinal = new Map(response.items.map((item) => [item.ordinal, item]));
        return jobs.map((job) => {
          const item = byOrdinal.get(job.ordinal);
          if (item?.raw) return Buffer.from(item.raw.buffer, item.raw.byteOffset, item.raw.byteLength);
          return new Error(item?.error ?? "not rendered");
        });
      } finally {
        slot.outstanding -= jobs.length;
      }
    },
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
