import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { requestJson, reviewJson } from "./test-fixtures.ts";
import { verifyWebhook, WebhookVerificationError, type WebhookVerificationErrorCode } from "./webhooks.ts";

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const other = `whsec_${randomBytes(32).toString("base64")}`;
const NOW = Date.parse("2026-03-01T12:00:00Z");
const now = () => NOW;

const decided = {
  type: "request.decided",
  timestamp: "2026-03-01T11:59:59.123Z",
  data: requestJson({
    status: "approved",
    response: {
      approved: true,
      option: null,
      answer: null,
      comment: "ok",
      modified_args: null,
      reviews: [reviewJson()],
      decided_at: "2026-03-01T11:59:59.123Z",
    },
  }),
};

/** Signs like a Standard Webhooks sender, with the independent reference implementation. */
function signed(body: string, key = secret, at = new Date(NOW), id = "msg_42_0123456789abcdef") {
  const signature = new Webhook(key).sign(id, at, body);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
  };
}

async function rejection(promise: Promise<unknown>): Promise<WebhookVerificationErrorCode> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  throw new Error("expected the webhook to be rejected");
}

describe("verifyWebhook", () => {
  it("accepts what the standardwebhooks package signs and returns the typed event", async () => {
    const body = JSON.stringify(decided);
    const event = await verifyWebhook(signed(body), body, secret, { now });
    expect(event.id).toBe("msg_42_0123456789abcdef");
    expect(event.type).toBe("request.decided");
    expect(event.timestamp).toEqual(new Date("2026-03-01T11:59:59.123Z"));
    if (event.type !== "request.decided") throw new Error("narrowing");
    expect(event.data.status).toBe("approved");
    expect(event.data.response?.decided_at).toBeInstanceOf(Date);
    expect(event.data.created_at).toBeInstanceOf(Date);
  });

  it("takes Headers, plain objects in any case, and bytes", async () => {
    const body = JSON.stringify(decided);
    const h = signed(body);
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    await expect(verifyWebhook(new Headers(h), body, secret, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook(upper, new TextEncoder().encode(body), secret, { now })).resolves.toBeTruthy();
    const buffer = new TextEncoder().encode(body).buffer as ArrayBuffer;
    await expect(verifyWebhook(h, buffer, secret, { now })).resolves.toBeTruthy();
  });

  it("rejects a tampered body", async () => {
    const body = JSON.stringify(decided);
    const tampered = body.replace('"approved"', '"rejected"');
    expect(await rejection(verifyWebhook(signed(body), tampered, secret, { now }))).toBe("invalid_signature");
    expect(await rejection(verifyWebhook(signed(body), `${body} `, secret, { now }))).toBe(
      "invalid_signature",
    );
  });

  it("rejects a wrong secret, and a signature moved to another message id or timestamp", async () => {
    const body = JSON.stringify(decided);
    expect(await rejection(verifyWebhook(signed(body), body, other, { now }))).toBe("invalid_signature");
    const moved = { ...signed(body), "webhook-id": "msg_43_0123456789abcdef" };
    expect(await rejection(verifyWebhook(moved, body, secret, { now }))).toBe("invalid_signature");
    const later = { ...signed(body), "webhook-timestamp": String(Math.floor(NOW / 1000) + 1) };
    expect(await rejection(verifyWebhook(later, body, secret, { now }))).toBe("invalid_signature");
  });

  it("rejects stale and future timestamps outside the tolerance", async () => {
    const body = JSON.stringify(decided);
    const old = signed(body, secret, new Date(NOW - 301_000));
    expect(await rejection(verifyWebhook(old, body, secret, { now }))).toBe("timestamp_too_old");
    const future = signed(body, secret, new Date(NOW + 301_000));
    expect(await rejection(verifyWebhook(future, body, secret, { now }))).toBe("timestamp_too_new");
    // Within the default five minutes, and with a wider tolerance when asked.
    await expect(
      verifyWebhook(signed(body, secret, new Date(NOW - 299_000)), body, secret, { now }),
    ).resolves.toBeTruthy();
    await expect(verifyWebhook(old, body, secret, { now, toleranceSeconds: 600 })).resolves.toBeTruthy();
  });

  it("refuses missing headers and malformed timestamps or secrets", async () => {
    const body = JSON.stringify(decided);
    const h = signed(body);
    const { "webhook-signature": _dropped, ...noSignature } = h;
    expect(await rejection(verifyWebhook(noSignature, body, secret, { now }))).toBe("missing_headers");
    const badTs = { ...h, "webhook-timestamp": "yesterday" };
    expect(await rejection(verifyWebhook(badTs, body, secret, { now }))).toBe("invalid_timestamp");
    expect(await rejection(verifyWebhook(h, body, "whsec_not base64!", { now }))).toBe("invalid_secret");
    expect(await rejection(verifyWebhook(h, body, [], { now }))).toBe("invalid_secret");
  });

  it("accepts any of several signatures and secrets (rotation)", async () => {
    const body = JSON.stringify(decided);
    const a = signed(body, secret);
    const b = signed(body, other);
    const both = { ...a, "webhook-signature": `${b["webhook-signature"]} ${a["webhook-signature"]}` };
    await expect(verifyWebhook(both, body, secret, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook(a, body, [other, secret], { now })).resolves.toBeTruthy();
  });

  it("verifies v1a Ed25519 signatures with a whpk_ public key", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const raw = Buffer.from(String(publicKey.export({ format: "jwk" }).x), "base64url");
    const whpk = `whpk_${raw.toString("base64")}`;
    const body = JSON.stringify(decided);
    const id = "msg_7_aaaaaaaaaaaaaaaa";
    const ts = String(Math.floor(NOW / 1000));
    const sig = sign(null, Buffer.from(`${id}.${ts}.${body}`), privateKey).toString("base64");
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": ts,
      "webhook-signature": `v1,bm90LWl0 v1a,${sig}`,
    };
    await expect(verifyWebhook(headers, body, whpk, { now })).resolves.toMatchObject({
      type: "request.decided",
    });
    expect(await rejection(verifyWebhook(headers, body.replace("ok", "no"), whpk, { now }))).toBe(
      "invalid_signature",
    );
    // A v1a signature does not satisfy an HMAC secret, nor a v1 signature a public key.
    expect(await rejection(verifyWebhook(headers, body, secret, { now }))).toBe("invalid_signature");
    const hmacOnly = signed(body);
    expect(await rejection(verifyWebhook(hmacOnly, body, whpk, { now }))).toBe("invalid_signature");
  });

  it("refuses a correctly signed body that is not a Countersign event", async () => {
    for (const body of ["not json", JSON.stringify({ type: "request.decided", timestamp: "x", data: {} })]) {
      expect(await rejection(verifyWebhook(signed(body), body, secret, { now }))).toBe("invalid_payload");
    }
    const unknown = JSON.stringify({ type: "something.else", timestamp: decided.timestamp, data: {} });
    expect(await rejection(verifyWebhook(signed(unknown), unknown, secret, { now }))).toBe("invalid_payload");
  });

  it("returns the other event types typed", async () => {
    const body = JSON.stringify({
      type: "delivery.dead_lettered",
      timestamp: decided.timestamp,
      data: { id: "dlv_1", message_id: "msg_1_x", subject_id: "req_1", attempts: [], status: "dead" },
    });
    const event = await verifyWebhook(signed(body), body, secret, { now });
    if (event.type !== "delivery.dead_lettered") throw new Error("narrowing");
    expect(event.data.message_id).toBe("msg_1_x");
  });
});
