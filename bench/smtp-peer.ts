import { startSmtpPeer } from "../src/notify/test-smtp-peer.ts";

/**
 * The benchmark's receiving side, in its own process so its work does not count against the sender:
 * a real SMTP server on loopback that accepts everything, keeps no message, and reports counts.
 * Prints `port N` once listening and `received N` on SIGTERM.
 */
let received = 0;
const peer = await startSmtpPeer({
  keepRaw: false,
  onMessage: () => {
    received++;
    // the benchmark keeps no message; dropping the list keeps the peer's memory flat too
    peer?.received.splice(0);
  },
});
process.stdout.write(`port ${peer.port}\n`);
process.on("SIGTERM", () => {
  process.stdout.write(`received ${received}\n`);
  peer.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
