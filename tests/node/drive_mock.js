// Drives the reference mock with the official twilio-node client (issue 16).
// Usage: node drive_mock.js <phase> with a JSON config on stdin:
//   {"base": "http://127.0.0.1:PORT", "accountSid", "authToken", "apiKeySid", "apiKeySecret", "service"}
// Prints one JSON document: every call made and what it returned, for the Python test to compare.
// Only the scheme and host of each request change (a RequestClient subclass), as Twilio's
// helper libraries document for custom HTTP clients.
"use strict";
const twilio = require("twilio");

class RedirectingClient extends twilio.RequestClient {
  constructor(base, opts) {
    super(opts);
    this.base = base;
    this.sent = [];
  }
  request(opts) {
    const target = new URL(opts.uri);
    opts.uri = this.base + target.pathname + target.search;
    this.sent.push(`${opts.method.toUpperCase()} ${target.pathname}`);
    return super.request(opts);
  }
}

function plain(instance) {
  // the instance's documented fields, without the client's internals
  const out = {};
  for (const [key, value] of Object.entries(instance)) {
    if (!key.startsWith("_")) out[key] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

async function crud(cfg) {
  const http = new RedirectingClient(cfg.base, {});
  const client = twilio(cfg.accountSid, cfg.authToken, { httpClient: http });
  const out = { calls: [] };
  const log = (name, value) => { out.calls.push(name); out[name] = value; return value; };

  const account = client.conversations.v1.configuration.webhooks();
  log("account_initial", plain(await account.fetch()));
  log("account_written", { method: "GET", filters: ["onMessageAdded", "onUserAdded"],
    preWebhookUrl: "https://example.com/pre", postWebhookUrl: "https://example.com/post", target: "flex" });
  log("account_updated", plain(await account.update(out.account_written)));
  log("account_fetched", plain(await account.fetch()));

  const service = client.conversations.v1.services(cfg.service).configuration.webhooks();
  log("service_initial", plain(await service.fetch()));
  log("service_written", { method: "POST", filters: ["onParticipantAdded"], postWebhookUrl: "https://example.com/svc" });
  log("service_updated", plain(await service.update(out.service_written)));
  log("service_fetched", plain(await service.fetch()));

  const channel = client.chat.v2.services(cfg.service).channels("node-room");
  const written = {
    webhook: { type: "webhook", "configuration.url": "https://example.com/hook", "configuration.method": "GET",
               "configuration.filters": ["onMessageSent"], "configuration.retryCount": 2 },
    studio: { type: "studio", "configuration.flowSid": "FW" + "f".repeat(32) },
    trigger: { type: "trigger", "configuration.url": "https://example.com/t", "configuration.triggers": ["help", "urgent"] },
  };
  log("channel_written", written);
  const created = {};
  for (const kind of Object.keys(written)) created[kind] = plain(await channel.webhooks.create(written[kind]));
  log("channel_created", created);
  const fetched = {};
  for (const kind of Object.keys(written)) fetched[kind] = plain(await channel.webhooks(created[kind].sid).fetch());
  log("channel_fetched", fetched);
  log("channel_listed", (await channel.webhooks.list({ limit: 20 })).map(plain));
  log("channel_page_size_20", (await channel.webhooks.page({ pageSize: 20 })).instances.map(plain));
  log("channel_update_written", { "configuration.url": "https://example.com/changed", "configuration.retryCount": 3 });
  log("channel_updated", plain(await channel.webhooks(created.webhook.sid).update(out.channel_update_written)));
  log("channel_refetched", plain(await channel.webhooks(created.webhook.sid).fetch()));
  log("channel_removed", await channel.webhooks(created.studio.sid).remove());
  try {
    await channel.webhooks(created.studio.sid).fetch();
    log("channel_gone", null);
  } catch (error) {
    log("channel_gone", { status: error.status, code: error.code });
  }
  log("channel_listed_after", (await channel.webhooks.list({ limit: 20 })).map((w) => w.sid));

  const keyed = twilio(cfg.apiKeySid, cfg.apiKeySecret, { accountSid: cfg.accountSid,
    httpClient: new RedirectingClient(cfg.base, {}) });
  log("api_key_fetch", plain(await keyed.conversations.v1.configuration.webhooks().fetch()));
  out.sent = http.sent;
  return out;
}

async function retry(cfg) {
  // the mock answers every 3rd request 429 with Retry-After: 1 (rate_limit_every=3)
  const out = { calls: [] };
  const patient = twilio(cfg.accountSid, cfg.authToken,
    { httpClient: new RedirectingClient(cfg.base, { autoRetry: true, maxRetries: 3, maxRetryDelay: 500 }) });
  const account = patient.conversations.v1.configuration.webhooks();
  out.retried = [];
  for (let i = 0; i < 5; i++) out.retried.push((await account.update({ target: i % 2 ? "flex" : "webhook" })).target);
  out.final = (await account.fetch()).target;
  const impatient = twilio(cfg.accountSid, cfg.authToken, { httpClient: new RedirectingClient(cfg.base, {}) });
  out.without_retry = [];
  for (let i = 0; i < 3; i++) {
    try {
      await impatient.conversations.v1.configuration.webhooks().fetch();
      out.without_retry.push(200);
    } catch (error) {
      out.without_retry.push({ status: error.status, code: error.code });
    }
  }
  return out;
}

async function main() {
  const cfg = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const phase = process.argv[2];
  const result = phase === "retry" ? await retry(cfg) : await crud(cfg);
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  process.stderr.write(`twilio-node: ${error.status || ""} ${error.code || ""} ${error.stack || error}\n`);
  process.exit(1);
});
