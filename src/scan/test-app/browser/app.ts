// The scanner's test app: an ordinary account page that wires up real vendor SDKs from npm the way
// product teams do, so the scanner is tested against what those SDKs really send. Each SDK talks
// to its vendor's usual host; the test maps those hosts to local sinks.
import { datadogRum } from "@datadog/browser-rum";
import { AnalyticsBrowser } from "@segment/analytics-next";
import * as Sentry from "@sentry/browser";
import mixpanel from "mixpanel-browser";
import posthog from "posthog-js";

type Me = { user_id: string; email: string; name: string; org_id: string };

const me = JSON.parse(document.getElementById("me")?.textContent ?? "{}") as Me;

const text = (value: string) => new TextEncoder().encode(value);
const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

// Mixpanel, straight to its API host.
mixpanel.init("mp-direct-token", { api_host: "https://api-js.mixpanel.com", persistence: "localStorage" });
mixpanel.identify(me.user_id);
mixpanel.people.set({ $email: me.email, $name: me.name });
mixpanel.track("Account viewed", { org_id: me.org_id, email: me.email });

// A second Mixpanel project behind a first-party proxy (the app's own /mp path).
const proxied = mixpanel.init(
  "mp-proxied-token",
  { api_host: `${location.origin}/mp`, persistence: "localStorage" },
  "proxied",
);
proxied.identify(me.user_id);
proxied.track("Account viewed", { email: me.email });

posthog.init("phc_scanner_test", {
  api_host: "https://us.i.posthog.com",
  autocapture: false,
  disable_session_recording: true,
  persistence: "localStorage",
});
posthog.identify(me.user_id, { email: me.email, name: me.name });
posthog.capture("account viewed");

AnalyticsBrowser.load({ writeKey: "seg-scanner-test" })
  .then(([analytics]) => analytics.identify(me.user_id, { email: me.email, name: me.name }))
  .catch(() => undefined);

datadogRum.init({
  applicationId: "00000000-0000-4000-8000-000000000001",
  clientToken: "pub00000000000000000000000000000001",
  site: "datadoghq.com",
  service: "scanner-test-app",
  sessionSampleRate: 100,
  trackUserInteractions: false,
});
datadogRum.setUser({ id: me.user_id, name: me.name, email: me.email });
datadogRum.addAction("account viewed");

Sentry.init({
  dsn: "https://0a1b2c3d4e5f@o4504.ingest.us.sentry.io/4505",
  defaultIntegrations: false,
  tracesSampleRate: 0,
});
Sentry.setUser({ id: me.user_id, email: me.email });
Sentry.captureMessage("account viewed");

// A pixel in the style of ad platforms' "advanced matching": the SHA-256 of the normalised email.
void crypto.subtle.digest("SHA-256", text(me.email.trim().toLowerCase())).then((digest) => {
  new Image().src = `https://www.facebook.com/tr/?id=1234567890&ev=PageView&ud[em]=${hex(digest)}&noscript=1`;
});

// A beacon whose body is gzip from CompressionStream, as size-conscious SDKs send.
void (async () => {
  const body = JSON.stringify({
    api_key: "amp-scanner-test",
    events: [{ event_type: "account viewed", user_id: me.user_id, user_properties: { email: me.email } }],
  });
  const gzip = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
  const bytes = await new Response(gzip).arrayBuffer();
  navigator.sendBeacon("https://api2.amplitude.com/2/httpapi", new Blob([bytes], { type: "text/plain" }));
})();

// The app's own API: first-party, never a finding.
void fetch(`/api/preferences?email=${encodeURIComponent(me.email)}`, { credentials: "same-origin" });
