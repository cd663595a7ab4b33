import cliProgress from "cli-progress";
import type { Progress } from "../impact/analyze-incident.ts";

/** A progress bar on stderr when it is a terminal; silent otherwise, so pipes and logs stay clean. */
export function terminalProgress(enabled: boolean): { progress: Progress; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { progress: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: "{bar} {value}/{total} {stage}  {duration_formatted}",
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    progress: (stage, done, total) => {
      if (!started) {
        bar.start(total, done, { stage });
        started = true;
      } else bar.update(done, { stage });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
