import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn } from "./browser.ts";
import { type DashboardServer, startDashboardServer } from "./setup.ts";

describe("a long inbox", () => {
  let s: DashboardServer;
  let browser: Browser;

  beforeAll(async () => {
    [s, browser] = await Promise.all([startDashboardServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it("renders 500 pending requests windowed, and j/k reach every one of them", async () => {
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          s.create({
            title: `Bulk request ${String(batch * 50 + i).padStart(3, "0")}`,
            tool: { name: "crm.update", args: { n: batch * 50 + i } },
            ttl_seconds: 3600 + batch * 50 + i,
          }),
        ),
      );
    }
    const { context, page, watch } = await newContext(browser, s.url);
    await signIn(page, s.url, s.admin.email, s.admin.password);
    const heading = page.getByRole("heading", { level: 1, name: /Inbox/ });
    await expect
      .poll(async () => Number((await heading.locator(".count").textContent()) ?? 0))
      .toBeGreaterThanOrEqual(500);
    const total = Number(await heading.locator(".count").textContent());
    // Only the rows in view are in the document, each saying where it sits in the whole list.
    const rendered = await page.locator("li.row").count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    expect(await page.locator("li.row").first().getAttribute("aria-setsize")).toBe(String(total));
    await screenshot(page, "inbox-500");

    // Sorted by time left: the one expiring first is on top; pressing k at the top stays there.
    await page.keyboard.press("k");
    expect(await page.locator(".row.selected .row-headline").textContent()).toBe("Bulk request 000");
    for (let i = 0; i < total - 1; i++) await page.keyboard.press("j");
    await expect
      .poll(() => page.locator(".row.selected .row-headline").textContent())
      .toBe("Bulk request 499");
    expect(await page.locator(".row.selected").getAttribute("aria-posinset")).toBe(String(total));
    expect(await page.locator("li.row").count()).toBeLessThan(60);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(watch.problems).toEqual([]);
    await context.close();
  });
});
