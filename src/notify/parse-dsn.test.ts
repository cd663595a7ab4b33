import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../lib/errors.ts";
import { parseDsn } from "./parse-dsn.ts";

// Fixtures are written with LF for readability and sent with CRLF, as they arrive over SMTP.
const crlf = (text: string) => text.replace(/\r?\n/g, "\r\n");

const postfixHardBounce = crlf(`Return-Path: <>
Received: by mx1.example.org (Postfix)
	id 4Vb9pQ1xYz; Tue,  4 Jun 2024 10:15:03 +0000 (UTC)
Date: Tue,  4 Jun 2024 10:15:03 +0000 (UTC)
From: MAILER-DAEMON@mx1.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces+c1.42@notify.example.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4Vb9pQ1xYz.1717496103/mx1.example.org"
Content-Transfer-Encoding: 8bit
Message-Id: <20240604101503.4Vb9pQ1xYz@mx1.example.org>

This is a MIME-encapsulated message.

--4Vb9pQ1xYz.1717496103/mx1.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<bob@example.org>: host mail.example.org[203.0.113.9] said: 550 5.1.1
    <bob@example.org>: Recipient address rejected: User unknown (in reply to
    RCPT TO command)

--4Vb9pQ1xYz.1717496103/mx1.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.example.org
X-Postfix-Queue-ID: 4Vb9pQ1xYz
X-Postfix-Sender: rfc822; bounces+c1.42@notify.example.com
Arrival-Date: Tue,  4 Jun 2024 10:15:01 +0000 (UTC)

Final-Recipient: rfc822; Bob@Example.org
Original-Recipient: rfc822;bob@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown

--4Vb9pQ1xYz.1717496103/mx1.example.org
Content-Description: Undelivered Message
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

Received: from notify.example.com (notify.example.com [198.51.100.7])
	by mx1.example.org (Postfix) with ESMTPS id 4Vb9pQ1xYz
	for <bob@example.org>; Tue,  4 Jun 2024 10:15:01 +0000 (UTC)
From: Example Co Security <security@notify.example.com>
To: bob@example.org
Subject: Important: notice of a data security incident
Date: Tue, 04 Jun 2024 10:15:00 +0000
Message-ID: <c1.42.ab12@notify.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Dear Bob,

We are writing to tell you about an incident.
Message-ID: <not-this-one@example.com>

--4Vb9pQ1xYz.1717496103/mx1.example.org--
`);

const delayedDsn = crlf(`From: Mail Delivery Subsystem <mailer-daemon@relay.example.net>
To: bounces@notify.example.com
Subject: Delivery Status Notification (Delay)
Date: Wed, 05 Jun 2024 08:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status"; boundary="dsn-delay-77"

--dsn-delay-77
Content-Type: text/plain; charset=us-ascii

Delivery to the following recipient has been delayed:

     carol@slow.example

--dsn-delay-77
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
Arrival-Date: Wed, 05 Jun 2024 04:00:00 +0000

Final-Recipient: RFC822; carol@slow.example
ACTION: Delayed
status: 4.4.1 (connection timed out)
Remote-MTA: dns; mx.slow.example
diagnostic-code: smtp; 421 4.4.1 Connection timed out
Last-Attempt-Date: Wed, 05 Jun 2024 08:00:00 +0000
Will-Retry-Until: Fri, 07 Jun 2024 04:00:00 +0000

--dsn-delay-77
Content-Type: text/rfc822-headers

From: Example Co Security <security@notify.example.com>
To: carol@slow.example
Subject: Important: notice of a data security incident
Message-Id:
 <c1.43.cd34@notify.example.com>
Date: Wed, 05 Jun 2024 04:00:00 +0000

--dsn-delay-77--
`);

const twoRecipientDsn = crlf(`From: postmaster@mx.example.com
To: bounces@notify.example.com
Subject: Delivery Status Notification
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b2r"

--b2r
Content-Type: text/plain

Some recipients could not be reached.

--b2r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; dave@example.com
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

Final-Recipient: rfc822; erin@example.com
Action: delivered
Status: 2.0.0

--b2r
Content-Type: message/rfc822

From: security@notify.example.com
To: dave@example.com, erin@example.com
Message-ID: <c1.44.ef56@notify.example.com>
Subject: notice

Body.

--b2r--
`);

const foldedDiagnosticDsn = crlf(`From: mailer-daemon@googlemail.com
To: bounces@notify.example.com
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="gfold"; report-type=delivery-status

--gfold
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; notify.example.com

Final-Recipient: rfc822; frank@gmail.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does
 not exist. Please try double-checking the recipient's email
	address for typos or unnecessary spaces.
Last-Attempt-Date: Thu, 06 Jun 2024 09:00:00 -0700

--gfold
Content-Type: text/rfc822-headers

From: security@notify.example.com
To: frank@gmail.example
Subject: notice

--gfold--
`);

// Deliberately left with bare LF line endings.
const lfOnlyDsn = `From: MAILER-DAEMON@lf.example.net
To: bounces@notify.example.com
Subject: Returned mail
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="lfb"

--lfb
Content-Type: message/delivery-status

Reporting-MTA: dns; lf.example.net

Original-Recipient: rfc822; <Gina@LF.example.net>
Action: failed
Status: 5.7.1
Diagnostic-Code: X-Postfix; 554 5.7.1 message rejected; policy

--lfb
Content-Type: message/rfc822

Message-ID: <c1.45.aa77@notify.example.com>
From: security@notify.example.com

Hi.

--lfb--
`;

const eximBounce = crlf(`Return-path: <>
From: Mail Delivery System <Mailer-Daemon@exim.example.net>
To: bounces@notify.example.com
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1sEx1m-0001aB-2C@exim.example.net>
X-Failed-Recipients: Hank@exim.example.net,
 <ivy@exim.example.net>
Auto-Submitted: auto-replied
Date: Fri, 07 Jun 2024 12:00:00 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  hank@exim.example.net
    mailbox is full: retry timeout exceeded
  ivy@exim.example.net
    Unrouteable address

------ This is a copy of the message, including all the headers. ------

Message-ID: <c1.46.bb88@notify.example.com>
From: security@notify.example.com
Subject: notice
`);

const plainMessage = crlf(`From: Alice <alice@example.com>
To: security@notify.example.com
Subject: Re: notice of a data security incident
In-Reply-To: <c1.42.ab12@notify.example.com>
References: <c1.42.ab12@notify.example.com>
Message-ID: <reply.1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Action: failed
Status: 5.1.1

Thanks for letting me know.
`);

describe("parseDsn", () => {
  it("parses a Postfix hard bounce with a message/rfc822 part", async () => {
    const dsn = await parseDsn(postfixHardBounce);
    assert.deepEqual(dsn, {
      originalMessageId: "<c1.42.ab12@notify.example.com>",
      recipients: [
        {
          email: "bob@example.org",
          action: "failed",
          status: "5.1.1",
          diagnostic: "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown",
          hard: true,
        },
      ],
    });
  });

  it("accepts a Buffer as well as a string", async () => {
    const dsn = await parseDsn(Buffer.from(postfixHardBounce, "utf8"));
    assert.equal(dsn.originalMessageId, "<c1.42.ab12@notify.example.com>");
    assert.equal(dsn.recipients.length, 1);
    assert.equal(dsn.recipients[0]?.email, "bob@example.org");
  });

  it("parses a delayed DSN with a text/rfc822-headers part and case-insensitive field names", async () => {
    const dsn = await parseDsn(delayedDsn);
    assert.deepEqual(dsn, {
      originalMessageId: "<c1.43.cd34@notify.example.com>",
      recipients: [
        {
          email: "carol@slow.example",
          action: "delayed",
          status: "4.4.1",
          diagnostic: "421 4.4.1 Connection timed out",
          hard: false,
        },
      ],
    });
  });

  it("returns every per-recipient group", async () => {
    const dsn = await parseDsn(twoRecipientDsn);
    assert.deepEqual(dsn, {
      originalMessageId: "<c1.44.ef56@notify.example.com>",
      recipients: [
        {
          email: "dave@example.com",
          action: "failed",
          status: "5.2.2",
          diagnostic: "552 5.2.2 Mailbox full",
          hard: true,
        },
        { email: "erin@example.com", action: "delivered", status: "2.0.0", diagnostic: null, hard: false },
      ],
    });
  });

  it("unfolds a folded Diagnostic-Code and returns null when the headers part has no Message-ID", async () => {
    const dsn = await parseDsn(foldedDiagnosticDsn);
    assert.deepEqual(dsn, {
      originalMessageId: null,
      recipients: [
        {
          email: "frank@gmail.example",
          action: "failed",
          status: "5.1.1",
          diagnostic:
            "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
          hard: true,
        },
      ],
    });
  });

  it("parses a DSN with LF-only line endings, falling back to Original-Recipient", async () => {
    assert.ok(!lfOnlyDsn.includes("\r"));
    const dsn = await parseDsn(lfOnlyDsn);
    assert.deepEqual(dsn, {
      originalMessageId: "<c1.45.aa77@notify.example.com>",
      recipients: [
        {
          email: "gina@lf.example.net",
          action: "failed",
          status: "5.7.1",
          diagnostic: "554 5.7.1 message rejected; policy",
          hard: true,
        },
      ],
    });
  });

  it("strips control characters and caps the diagnostic at 500 characters", async () => {
    const long = "x".repeat(600);
    const raw = twoRecipientDsn.replace("Mailbox full", `Mailbox\u0007 full ${long}`);
    const dsn = await parseDsn(raw);
    const diagnostic = dsn.recipients[0]?.diagnostic ?? "";
    assert.equal(diagnostic.length, 500);
    assert.ok(diagnostic.startsWith("552 5.2.2 Mailbox full xxx"));
    assert.ok(!diagnostic.includes("\u0007"));
  });

  it("treats X-Failed-Recipients of an old-style bounce as hard failures without status", async () => {
    const dsn = await parseDsn(eximBounce);
    assert.deepEqual(dsn, {
      // The copy of the original sits in the text body, not in a MIME part, so it is not trusted.
      originalMessageId: null,
      recipients: [
        { email: "hank@exim.example.net", action: "failed", status: null, diagnostic: null, hard: true },
        { email: "ivy@exim.example.net", action: "failed", status: null, diagnostic: null, hard: true },
      ],
    });
  });

  it("rejects a message that is not a delivery status notification", async () => {
    await assert.rejects(parseDsn(plainMessage), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "BAD_INPUT");
      assert.equal(error.message, "not a delivery status notification (no message/delivery-status part)");
      return true;
    });
  });
});
