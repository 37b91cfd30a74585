import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../../server/src/dashboard/testing.ts";
import { call } from "../../../server/src/testing/http-client.ts";
import { launchBrowser, newContext, signIn } from "./browser.ts";
import { type DashboardServer, startDashboardServer } from "./setup.ts";

describe("the dashboard live, and safe", () => {
  let s: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    [s, browser] = await Promise.all([startDashboardServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it("shows a request created through the API in an open inbox without a reload, and counts it in the tab title", async () => {
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.admin.email, s.admin.password);
    await page.getByText(/Nothing waits for you/).waitFor();
    expect(await page.title()).toBe("Countersign");
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    const request = await s.create({
      title: "Rotate the production API key",
      priority: "high",
      ttl_seconds: 300,
    });
    await page.locator(`[data-request-id="${request.id}"]`).waitFor();
    await expect.poll(() => page.title()).toBe("(1) Countersign");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );

    // Decided by someone else: it leaves the inbox, and the count follows.
    const other = await s.server.createKey("reviewer");
    await call(s.url, "POST", `/v1/requests/${request.id}/respond`, { key: other, body: { approved: true } });
    await page.locator(`[data-request-id="${request.id}"]`).waitFor({ state: "detached" });
    await expect.poll(() => page.title()).toBe("Countersign");
    expect(watch.external).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("shows a decision made elsewhere at once and disables the buttons", async () => {
    const request = await s.create({
      question: "Publish the release notes?",
      tool: { name: "cms.publish", args: { page: "release-notes" } },
    });
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    await page.goto(`${s.url}/requests/${request.id}`);
    const approve = page.getByRole("button", { name: "Approve…" });
    await approve.waitFor();
    expect(await approve.isEnabled()).toBe(true);
    await approve.click();
    const dialog = page.getByRole("dialog", { name: "Approve this request?" });
    await dialog.waitFor();

    const other = await s.server.createKey("reviewer", "Olga from another tab");
    await call(s.url, "POST", `/v1/requests/${request.id}/respond`, {
      key: other,
      body: { approved: false, comment: "not before Monday" },
    });
    // The open dialog says so and will not send anything.
    await dialog.getByText(/Rejected by Olga from another tab/).waitFor();
    expect(await dialog.getByRole("button", { name: "Approve", exact: true }).isDisabled()).toBe(true);
    await page.keyboard.press("Escape");
    await page
      .getByRole("alert")
      .filter({ hasText: "Rejected by Olga from another tab while you were looking" })
      .waitFor();
    for (const name of ["Approve…", "Edit arguments…", "Reject…"]) {
      expect(await page.getByRole("button", { name }).isDisabled()).toBe(true);
    }
    await page.getByText("not before Monday").waitFor();
    expect((await s.get(request.id)).status).toBe("rejected");
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("renders a context with <script> and <img onerror> as inert text", async () => {
    const attack = `<script>window.__pwned = "script"</script><img src=x onerror="window.__pwned = 'img'">`;
    const request = await s.create({
      title: `Invoice <b>bold</b> <img src=x onerror="window.__pwned = 'title'">`,
      question: "Pay this invoice?",
      context: attack,
      tool: { name: "payments.pay", args: { memo: attack, amount: 10 } },
      retrieved_context: { html: attack },
      actor: { agent_name: `<img src=x onerror="window.__pwned = 'actor'">` },
    });
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    await page.goto(`${s.url}/requests/${request.id}`);
    await page.getByRole("heading", { level: 1 }).filter({ hasText: "Invoice <b>bold</b>" }).waitFor();
    // The exact text is on the page, as text.
    await page.locator("pre", { hasText: attack }).first().waitFor();
    await page.getByText("Retrieved context").click();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(await page.locator("#root img, #root script, #root b").count()).toBe(0);
    // Give a would-be image error handler time to run, then check again.
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(watch.external).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("refuses a state-changing call from the signed-in page without the CSRF token", async () => {
    const request = await s.create({ question: "Open the firewall port 22?" });
    const { context, page } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    const attempt = (withToken: boolean) =>
      page.evaluate(
        async ({ id, withToken }) => {
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (withToken) {
            const me = await (await fetch("/v1/session")).json();
            headers["x-csrf-token"] = me.csrf_token;
          }
          const res = await fetch(`/v1/requests/${id}/respond`, {
            method: "POST",
            headers,
            body: JSON.stringify({ approved: false, comment: "forged" }),
          });
          return { status: res.status, body: await res.json() };
        },
        { id: request.id, withToken },
      );
    const refused = await attempt(false);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("csrf_token_invalid");
    expect((await s.get(request.id)).status).toBe("pending");
    // The same call with the session's token goes through: only the token was missing.
    expect((await attempt(true)).status).toBe(200);
    await context.close();
  });

  it("keeps a reviewer away from requests outside their roles", async (ctx) => {
    // Depends on reviewer routing (`/v1/reviewers`): without it every reviewer may see every request.
    const routing = await call(s.url, "GET", "/v1/reviewers", { key: s.server.adminKey });
    if (routing.status === 404) ctx.skip();
    const finance = await createAccount(
      s.server,
      "fiona.finance@example.com",
      "reviewer",
      "fiona's long passphrase",
    );
    const linked = await call(s.url, "POST", "/v1/reviewers", {
      key: s.server.adminKey,
      body: {
        name: "Fiona",
        roles: ["finance"],
        timezone: "UTC",
        shifts: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "24:00" }],
        key_id: finance.account.key_id,
      },
    });
    expect(linked.status).toBe(201);
    const mine = await s.create({ title: "Pay supplier invoice 881", required_role: "finance" });
    const notMine = await s.create({ title: "Restart the database cluster", required_role: "sre" });

    const { context, page } = await newContext(browser, s.url);
    await signIn(page, s.url, finance.email, finance.password);
    await page.locator(`[data-request-id="${mine.id}"]`).waitFor();
    await page.getByLabel("Show").selectOption("all");
    expect(await page.locator(`[data-request-id="${notMine.id}"]`).count()).toBe(0);
    await page.goto(`${s.url}/requests/${notMine.id}`);
    await page
      .getByRole("alert")
      .filter({ hasText: `no request ${notMine.id}` })
      .waitFor();
    const acted = await page.evaluate(async (id) => {
      const me = await (await fetch("/v1/session")).json();
      const res = await fetch(`/v1/requests/${id}/respond`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": me.csrf_token },
        body: JSON.stringify({ approved: true }),
      });
      return res.status;
    }, notMine.id);
    expect(acted).toBe(404);
    expect((await s.get(notMine.id)).status).toBe("pending");
    await context.close();
  });
});
