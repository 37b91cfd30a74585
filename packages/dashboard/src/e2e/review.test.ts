import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../server/src/testing/http-client.ts";
import { accessibilityProblems, launchBrowser, newContext, PHONE, screenshot, signIn } from "./browser.ts";
import { type DashboardServer, startDashboardServer } from "./setup.ts";

interface AuditPage {
  data: Array<{
    kind: string;
    subject_id: string;
    actor: { key_id?: string; name?: string };
    data: Record<string, unknown>;
  }>;
}

describe("deciding requests in the browser", () => {
  let s: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    [s, browser] = await Promise.all([startDashboardServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  const audit = async (subject: string) => {
    const res = await call<AuditPage>(s.url, "GET", "/v1/audit?limit=1000", { key: s.server.adminKey });
    return res.body.data.filter((e) => e.subject_id === subject);
  };

  it("signs in with email and password into a strict httpOnly session, and refuses a wrong password", async () => {
    const { context, page, watch } = await newContext(browser, s.url);
    await page.goto(s.url);
    await page.getByRole("heading", { name: "Sign in to Countersign" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "sign-in");

    await page.getByLabel("Email").fill(s.reviewer.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Wrong email or password");

    await page.getByLabel("Password").fill(s.reviewer.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: /Inbox/ }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === "cs_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    // Scripts in the page cannot read the session.
    expect(await page.evaluate(() => document.cookie)).not.toContain("cs_session");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Countersign" }).waitFor();
    const me = await call(s.url, "GET", "/v1/session", {
      headers: { cookie: `cs_session=${cookie?.value}` },
    });
    expect(me.status).toBe(401);
    expect(watch.external).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("approves a request with a comment from the keyboard; the API and the audit log name the reviewer", async () => {
    const request = await s.create({
      title: "Refund order #4411",
      question: "Refund $120 to the customer for the damaged parcel?",
      context: { order: "4411", customer: "jo@example.com", reason: "parcel arrived crushed" },
      tool: { name: "payments.refund", args: { order_id: "4411", amount: 120, currency: "USD" } },
      priority: "high",
      ttl_seconds: 3600,
      correlation_id: "support-run-1",
      actor: { agent_name: "support-bot" },
    });
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    const row = page.locator(`[data-request-id="${request.id}"]`);
    await row.click();
    const detail = page.getByRole("region", { name: "Selected request" });
    await detail.getByRole("heading", { name: "Refund order #4411" }).waitFor();
    await expect.poll(() => detail.textContent()).toContain("payments.refund");
    await screenshot(page, "inbox-desktop");
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.keyboard.press("a");
    const dialog = page.getByRole("dialog", { name: "Approve this request?" });
    await dialog.waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.keyboard.type("checked the photos");
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached" });
    await expect.poll(() => page.locator(".toast").textContent()).toContain("Approved");

    const decided = await s.get(request.id);
    expect(decided.status).toBe("approved");
    expect(decided.response?.comment).toBe("checked the photos");
    expect(decided.response?.reviews[0]?.reviewer).toEqual({
      key_id: s.reviewer.account.key_id,
      name: s.reviewer.email,
      role: "reviewer",
    });
    const entries = await audit(request.id);
    const approved = entries.find((e) => e.kind === "request.approved");
    expect(approved?.actor).toMatchObject({ key_id: s.reviewer.account.key_id, name: s.reviewer.email });
    expect(watch.external).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("rejects with a reason, which the agent and the audit log get", async () => {
    const request = await s.create({
      question: "Delete the staging database `orders_old`?",
      tool: { name: "db.drop", args: { database: "orders_old" } },
      priority: "urgent",
      ttl_seconds: 600,
    });
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    // The urgent request sorts first: select it with j/k, then r.
    await page.locator(`[data-request-id="${request.id}"]`).waitFor();
    await page.keyboard.press("j");
    await page.keyboard.press("k");
    await expect.poll(() => page.locator(".row.selected").getAttribute("class")).toBeTruthy();
    expect(await page.locator(".row.selected [data-request-id]").getAttribute("data-request-id")).toBe(
      request.id,
    );
    await page.keyboard.press("r");
    const dialog = page.getByRole("dialog", { name: "Reject this request?" });
    await dialog.waitFor();
    const reject = dialog.getByRole("button", { name: "Reject", exact: true });
    expect(await reject.isDisabled()).toBe(true); // a reason is required
    await dialog.getByLabel(/Reason/).fill("still referenced by the billing job");
    await reject.click();
    await dialog.waitFor({ state: "detached" });

    await expect.poll(async () => (await s.get(request.id)).status).toBe("rejected");
    const decided = await s.get(request.id);
    expect(decided.response?.approved).toBe(false);
    expect(decided.response?.comment).toBe("still referenced by the billing job");
    const review = (await audit(request.id)).find((e) => e.kind === "review.recorded");
    expect(review?.data).toMatchObject({
      decision: "reject",
      comment: "still referenced by the billing job",
    });
    expect(review?.actor.key_id).toBe(s.reviewer.account.key_id);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("answers an input request on the request's own page", async () => {
    const request = await s.create({
      type: "input",
      question: "Which warehouse should ship the replacement?",
      context: "Customer is in Lyon; both Paris and Marseille have stock.",
    });
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    await page.goto(`${s.url}/requests/${request.id}`);
    await page
      .getByRole("heading", { level: 1, name: "Which warehouse should ship the replacement?" })
      .waitFor();
    const send = page.getByRole("button", { name: "Send answer" });
    expect(await send.isDisabled()).toBe(true);
    await page.getByLabel("Your answer").fill("Marseille — it is closer to Lyon by rail.");
    await send.click();
    await expect.poll(async () => (await s.get(request.id)).status).toBe("answered");
    expect((await s.get(request.id)).response?.answer).toBe("Marseille — it is closer to Lyon by rail.");
    // The page shows the decision at once and nothing can be sent again.
    await page
      .getByText(/Answered by rita\.reviewer@example\.com/)
      .first()
      .waitFor();
    expect(await send.isDisabled()).toBe(true);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("picks an option of a decision request", async () => {
    const request = await s.create({
      type: "decision",
      question: "How should the agent reply to the angry customer?",
      options: [
        { name: "apologise", title: "Apologise and refund shipping" },
        { name: "escalate", title: "Escalate to a human agent", description: "opens a ticket" },
      ],
    });
    const { context, page } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    await page.goto(`${s.url}/requests/${request.id}`);
    await page.getByRole("radio", { name: /Escalate to a human agent/ }).check();
    await page.getByRole("button", { name: "Choose this option" }).click();
    await expect.poll(async () => (await s.get(request.id)).response?.option).toBe("escalate");
    await context.close();
  });

  it("edits the arguments in a validated JSON editor, shows the diff, then approves the edit", async () => {
    const proposed = { to: "all-customers@example.com", subject: "Price change", discount_percent: 40 };
    const request = await s.create({
      title: "Send the price-change email",
      tool: { name: "email.send", args: proposed },
      ttl_seconds: 1800,
    });
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    await page.locator(`[data-request-id="${request.id}"]`).click();
    await page
      .getByRole("region", { name: "Selected request" })
      .getByRole("heading", { name: "Send the price-change email" })
      .waitFor();
    await screenshot(page, "request-view-desktop");
    await page.keyboard.press("e");
    const dialog = page.getByRole("dialog", { name: "Edit the arguments of email.send" });
    await dialog.waitFor();
    const editor = dialog.getByLabel("Arguments (JSON)");
    const approve = dialog.getByRole("button", { name: "Approve with these arguments" });

    await editor.fill('{ "to": "all-customers@example.com", "discount_percent": 10,');
    await expect.poll(() => dialog.getByText(/Not valid JSON at line 1/).count()).toBe(1);
    expect(await editor.getAttribute("aria-invalid")).toBe("true");
    expect(await approve.isDisabled()).toBe(true);

    const edited = { ...proposed, to: "beta-customers@example.com", discount_percent: 10 };
    await editor.fill(JSON.stringify(edited, null, 2));
    const diff = dialog.getByRole("table", { name: /2 changes from the proposed arguments/ });
    await diff.waitFor();
    expect(await diff.getByRole("row", { name: /\/discount_percent 40 10/ }).count()).toBe(1);
    expect(
      await diff
        .getByRole("row", { name: /\/to "all-customers@example.com" "beta-customers@example.com"/ })
        .count(),
    ).toBe(1);
    await screenshot(page, "edit-arguments");
    expect(await accessibilityProblems(page)).toEqual([]);
    await approve.click();
    await dialog.waitFor({ state: "detached" });

    await expect.poll(async () => (await s.get(request.id)).status).toBe("approved");
    const decided = await s.get(request.id);
    expect(decided.response?.modified_args).toEqual(edited);
    expect(decided.tool?.args).toEqual(proposed);
    const review = (await audit(request.id)).find((e) => e.kind === "review.recorded");
    expect(review?.data.modified_args_hash).toEqual(expect.any(String));
    expect(review?.data.modified_args_hash).not.toBe(review?.data.proposed_args_hash);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("shows another approver's edit with its own quorum, and approves exactly those arguments", async () => {
    const proposed = { customer: "jo@example.com", amount: 15 };
    const request = await s.create({
      title: "Issue a voucher to Jo",
      question: "Send a voucher?",
      tool: { name: "vouchers.issue", args: proposed },
      required_approvals: 2,
      ttl_seconds: 1800,
    });
    const edit = { customer: "jo@example.com", amount: 150 };
    const other = await s.server.createKey("reviewer");
    const first = await call<{ status: string }>(s.url, "POST", `/v1/requests/${request.id}/respond`, {
      key: other,
      body: { approved: true, modified_args: edit },
    });
    expect(first.body.status).toBe("pending");

    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    await page.locator(`[data-request-id="${request.id}"]`).click();
    const detail = page.getByRole("region", { name: "Selected request" });
    await detail.getByRole("heading", { name: "Issue a voucher to Jo" }).waitFor();
    await detail.getByRole("heading", { name: "Edited arguments awaiting approval" }).waitFor();
    expect(await detail.getByText(/0 of 2\s*approvals of the proposed arguments so far/).count()).toBe(1);
    expect(await detail.getByRole("row", { name: /\/amount 15 150/ }).count()).toBe(1);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, "pending-edit");

    await detail.getByRole("button", { name: "Approve these arguments…" }).click();
    const dialog = page.getByRole("dialog", { name: "Approve these edited arguments?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Approve these arguments" }).click();
    await dialog.waitFor({ state: "detached" });

    await expect.poll(async () => (await s.get(request.id)).status).toBe("approved");
    const decided = await s.get(request.id);
    expect(decided.response?.modified_args).toEqual(edit);
    expect(watch.problems).toEqual([]);
    await context.close();
  });

  it("works on a 375-px-wide phone: no sideways scrolling, a request opens on its own page and can be decided", async () => {
    const request = await s.create({
      title: "Issue a $15 voucher",
      question: "The parcel was two days late. Send a $15 voucher?",
      tool: { name: "vouchers.issue", args: { customer: "jo@example.com", amount: 15 } },
      ttl_seconds: 900,
    });
    const { context, page, watch } = await newContext(browser, s.url, PHONE);
    await signIn(page, s.url, s.reviewer.email, s.reviewer.password);
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await page.locator(`[data-request-id="${request.id}"]`).waitFor();
    expect(await fits()).toBe(true);
    await screenshot(page, "inbox-phone");
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.locator(`[data-request-id="${request.id}"]`).tap();
    await page.getByRole("heading", { level: 1, name: "Issue a $15 voucher" }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/requests/${request.id}`);
    expect(await fits()).toBe(true);
    await screenshot(page, "request-view-phone");
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole("button", { name: "Approve…" }).tap();
    await page
      .getByRole("dialog", { name: "Approve this request?" })
      .getByRole("button", { name: "Approve", exact: true })
      .tap();
    await expect.poll(async () => (await s.get(request.id)).status).toBe("approved");
    expect(watch.external).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });
});
