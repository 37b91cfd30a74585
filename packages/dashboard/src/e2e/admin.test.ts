import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../server/src/testing/http-client.ts";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn } from "./browser.ts";
import { type DashboardServer, startDashboardServer } from "./setup.ts";

describe("governance, cases, audit and people in the browser", () => {
  let s: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    [s, browser] = await Promise.all([startDashboardServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it("an admin invites someone; the link lets them set a password and land signed in", async () => {
    const admin = await newContext(browser, s.url);
    await signIn(admin.page, s.url, s.admin.email, s.admin.password);
    await admin.page.getByRole("link", { name: "People" }).click();
    await admin.page.getByRole("heading", { level: 1, name: "People" }).waitFor();
    await admin.page.getByLabel("Email").fill("nina.new@example.com");
    await admin.page.getByRole("button", { name: "Create invite link" }).click();
    const link = await admin.page.getByLabel("Invite link").inputValue();
    expect(link).toMatch(new RegExp(`^${s.url}/invite#[A-Za-z0-9_-]{43}$`));
    await screenshot(admin.page, "people");
    expect(await accessibilityProblems(admin.page)).toEqual([]);

    const invitee = await newContext(browser, s.url);
    await invitee.page.goto(link);
    await invitee.page.getByRole("heading", { name: "Welcome to Countersign" }).waitFor();
    await invitee.page.getByText("nina.new@example.com").waitFor();
    // The token leaves the address bar as soon as it has been read.
    expect(new URL(invitee.page.url()).hash).toBe("");
    expect(await accessibilityProblems(invitee.page)).toEqual([]);
    await invitee.page.getByLabel(/^Password/).fill("nina's long passphrase");
    await invitee.page.getByLabel("Repeat the password").fill("nina's long passphrase");
    await invitee.page.getByRole("button", { name: "Set password and sign in" }).click();
    await invitee.page.getByRole("heading", { level: 1, name: /Inbox/ }).waitFor();

    const accounts = await call<{ data: Array<{ email: string; role: string }> }>(
      s.url,
      "GET",
      "/v1/accounts",
      {
        key: s.server.adminKey,
      },
    );
    expect(accounts.body.data).toContainEqual(
      expect.objectContaining({ email: "nina.new@example.com", role: "reviewer" }),
    );
    // The link worked once.
    const again = await newContext(browser, s.url);
    await again.page.goto(link);
    await again.page.getByRole("alert").filter({ hasText: "already been used" }).waitFor();

    // The admin promotes Nina, disables her account and enables it again, all from the People page.
    await admin.page.reload();
    await admin.page.getByRole("heading", { level: 1, name: "People" }).waitFor();
    await admin.page.getByLabel("Role of nina.new@example.com").selectOption("admin");
    await admin.page.getByText("nina.new@example.com is now an admin").waitFor();
    const row = admin.page.getByRole("row").filter({ hasText: "nina.new@example.com" });
    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByRole("button", { name: "Enable" }).click();
    await row.getByRole("button", { name: "Disable" }).waitFor();
    expect(await accessibilityProblems(admin.page)).toEqual([]);
    const after = await call<{ data: Array<{ email: string; role: string; disabled_at: string | null }> }>(
      s.url,
      "GET",
      "/v1/accounts",
      { key: s.server.adminKey },
    );
    expect(after.body.data).toContainEqual(
      expect.objectContaining({ email: "nina.new@example.com", role: "admin", disabled_at: null }),
    );
    expect([...admin.watch.problems, ...invitee.watch.problems]).toEqual([]);
    await Promise.all([admin.context.close(), invitee.context.close(), again.context.close()]);
  });

  it("shows why a governed call needs approval, and the case's timeline with links between its parts", async () => {
    const governed = await call<{ decision: string; request_id: string }>(s.url, "POST", "/v1/govern", {
      key: s.agent,
      body: {
        run_id: "run-42",
        call_id: "call-1",
        tool: "payments.refund",
        args: { order_id: "9001", amount: 35 },
        question: "Refund order 9001?",
      },
    });
    expect(governed.body.decision).toBe("approval_required");
    const id = governed.body.request_id;

    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    await page.goto(`${s.url}/requests/${id}`);
    const why = page.getByRole("region", { name: "Why it needs approval" });
    await why.waitFor();
    await why.getByText("no policy is configured").waitFor();
    expect(await why.textContent()).toContain("Policy version");
    await page.getByRole("button", { name: "Approve…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Approve", exact: true }).click();
    await expect.poll(async () => (await s.get(id)).status).toBe("approved");
    expect((await s.get(id)).governance?.policy_version).toMatch(/^sha256:/);

    const logged = await call(s.url, "POST", "/v1/actions", {
      key: s.agent,
      body: {
        action: "payments.refunded",
        summary: "refunded $35 on order 9001",
        in_reply_to: { type: "request", id },
      },
    });
    expect(logged.status).toBe(201);

    await page.getByRole("link", { name: "run-42" }).first().click();
    await page.getByRole("heading", { level: 1, name: /Case run-42/ }).waitFor();
    const timeline = page.getByRole("list").filter({ has: page.locator(".tl") });
    await timeline.getByText("Action payments.refunded").waitFor();
    const titles = await timeline.locator(".tl strong").allTextContents();
    // In chain order: govern creates the request, then records its own decision, in one transaction.
    expect(titles).toEqual([
      "Request: Refund order 9001?",
      "Governed call payments.refund: approval required",
      `${s.reviewer.email} approved`,
      "Request approved",
      "Action payments.refunded",
    ]);
    await screenshot(page, "case-timeline");
    expect(await accessibilityProblems(page)).toEqual([]);
    // From the action back to the request it answered.
    await timeline.locator(".tl").last().getByRole("link", { name: "request" }).click();
    await page.getByRole("heading", { level: 1, name: "Refund order 9001?" }).waitFor();
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("shows the audit log with its chain verified", async () => {
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.admin.email, s.admin.password);
    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByText(/Verified: all \d+ entries chain correctly/).waitFor();
    const kinds = await page.locator("table.audit tbody td:nth-child(3) code").allTextContents();
    expect(kinds).toContain("session.created");
    const oldest = page.getByRole("button", { name: "Oldest" });
    if (await oldest.isEnabled()) await oldest.click();
    await expect
      .poll(() => page.locator("table.audit tbody tr td:first-child").last().textContent())
      .toBe("1");
    await screenshot(page, "audit");
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("engages and releases a kill switch for one agent, and shows the policy in force", async () => {
    const rogue = await s.server.createKey("agent", "rogue-bot");
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.admin.email, s.admin.password);
    await page.getByRole("link", { name: "Agents" }).click();
    await page.getByRole("heading", { level: 1, name: "Agents and governance" }).waitFor();
    await page.getByText("No kill switch is engaged").waitFor();
    const policy = await call<{ version: string }>(s.url, "GET", "/v1/policy", { key: s.server.adminKey });
    await page
      .getByRole("region", { name: "Policy in force" })
      .getByText(policy.body.version.replace("sha256:", "").slice(0, 12))
      .waitFor();

    await page.getByLabel("Agent", { exact: true }).selectOption({ label: "rogue-bot" });
    await page.getByLabel("Reason").fill("looping on refunds");
    await page.getByRole("button", { name: "Engage" }).click();
    await page.getByText("Agent rogue-bot stopped").waitFor();
    const engaged = await call<{ data: Array<{ agent: string; reason: string }> }>(
      s.url,
      "GET",
      "/v1/kill-switch",
      {
        key: s.server.adminKey,
      },
    );
    expect(engaged.body.data).toEqual([expect.objectContaining({ reason: "looping on refunds" })]);
    const govern = await call<{ decision: string; stop_reason: string }>(s.url, "POST", "/v1/govern", {
      key: rogue,
      body: { run_id: "r1", tool: "payments.refund", args: {} },
    });
    expect(govern.body.stop_reason).toBe("killed");
    await screenshot(page, "agents");
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole("button", { name: "Release" }).click();
    await page.getByText("No kill switch is engaged").waitFor();
    const released = await call<{ data: unknown[] }>(s.url, "GET", "/v1/kill-switch", {
      key: s.server.adminKey,
    });
    expect(released.body.data).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("shows sections only for features the server has, and admin sections only to admins", async () => {
    const probe = async (path: string) =>
      (await call(s.url, "GET", path, { key: s.server.adminKey })).status === 200;
    const hasWebhooks = await probe("/v1/webhooks/deliveries?limit=1");
    const hasReviewers = await probe("/v1/reviewers");

    const admin = await newContext(browser, s.url);
    await signIn(admin.page, s.url, s.admin.email, s.admin.password);
    await admin.page.goto(`${s.url}/agents`);
    await admin.page.getByRole("heading", { level: 2, name: "Kill switch" }).waitFor();
    await admin.page.getByRole("heading", { level: 2, name: "Policy in force" }).waitFor();
    const heading = (page: typeof admin.page, name: string) =>
      page.getByRole("heading", { level: 2, name }).count();
    if (hasWebhooks)
      await admin.page.getByRole("heading", { level: 2, name: "Webhook deliveries" }).waitFor();
    else expect(await heading(admin.page, "Webhook deliveries")).toBe(0);
    if (hasReviewers) await admin.page.getByRole("heading", { level: 2, name: "On shift now" }).waitFor();
    else expect(await heading(admin.page, "On shift now")).toBe(0);

    const reviewer = await newContext(browser, s.url);
    await signIn(reviewer.page, s.url, s.reviewer.email, s.reviewer.password);
    await reviewer.page.goto(`${s.url}/agents`);
    await reviewer.page.getByRole("heading", { level: 2, name: "Kill switch" }).waitFor();
    expect(await reviewer.page.getByRole("button", { name: "Engage" }).count()).toBe(0);
    expect(await heading(reviewer.page, "Webhook deliveries")).toBe(0);
    expect(await heading(reviewer.page, "On shift now")).toBe(0);
    expect(await reviewer.page.getByRole("link", { name: "Audit" }).count()).toBe(0);
    expect(await accessibilityProblems(reviewer.page)).toEqual([]);
    await Promise.all([admin.context.close(), reviewer.context.close()]);
  });
});
