import { SMTPServer, type SMTPServerSession } from "smtp-server";

/**
 * A real SMTP server on loopback for tests and benchmarks (the `smtp-server` package), with a rule that
 * decides per message whether to accept it, answer 4xx or 5xx after the data, or drop the connection
 * once the data has arrived (the case where the sender cannot know the message was delivered).
 */

export type PeerAction = "accept" | "4xx" | "5xx" | "drop-after-data";

export type PeerRule = (m: { rcpt: string[]; messageId: string | null; attempt: number }) => PeerAction;

export type ReceivedMessage = {
  messageId: string | null;
  from: string | null;
  rcpt: string[];
  raw: Buffer;
  /** what the peer did with it */
  action: PeerAction;
};

export type SmtpPeer = {
  port: number;
  url: string;
  /** every message whose data arrived, in order (including ones answered 4xx/5xx or dropped) */
  received: ReceivedMessage[];
  /** messages the sender could count as delivered: accepted, or dropped after the data */
  delivered(): ReceivedMessage[];
  close(): Promise<void>;
};

export function messageIdOf(raw: Buffer): string | null {
  const end = raw.indexOf("\r\n\r\n");
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString("latin1");
  const m = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(head);
  return m?.[1] ?? null;
}

export async function startSmtpPeer(
  options: {
    rule?: PeerRule;
    port?: number;
    keepRaw?: boolean;
    onMessage?: (m: ReceivedMessage) => void;
  } = {},
): Promise<SmtpPeer> {
  const rule = options.rule ?? (() => "accept");
  const attempts = new Map<string, number>();
  const received: ReceivedMessage[] = [];
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    size: 0,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const messageId = messageIdOf(raw);
        const rcpt = session.envelope.rcptTo.map((a) => a.address);
        const key = messageId ?? rcpt.join(",");
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        const action = rule({ rcpt, messageId, attempt });
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
        const message: ReceivedMessage = {
          messageId,
          from,
          rcpt,
          raw: options.keepRaw === false ? Buffer.alloc(0) : raw,
          action,
        };
        received.push(message);
        options.onMessage?.(message);
        if (action === "drop-after-data") {
          for (const c of (
            server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }
          ).connections) {
            if (c.session === session) c._socket.destroy();
          }
          return;
        }
        if (action === "accept") return callback(null, `Ok: queued as ${attempt}`);
        const error = Object.assign(
          new Error(action === "4xx" ? "4.3.0 Try again later" : "5.1.1 Mailbox unavailable"),
          { responseCode: action === "4xx" ? 451 : 550 },
        );
        callback(error);
      });
    },
  });
  // a sender killed mid-conversation resets its connections: expected here, not a failure
  server.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "ECONNRESET" && error.code !== "EPIPE") throw error;
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    port: address.port,
    url: `smtp://127.0.0.1:${address.port}`,
    received,
    delivered: () => received.filter((m) => m.action === "accept" || m.action === "drop-after-data"),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
