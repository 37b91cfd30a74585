import { type Metric, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RouteTimings } from "./route-timings.ts";

describe("RouteTimings", () => {
  it("renders as a Prometheus histogram: cumulative buckets with le, +Inf, sum and count per series", async () => {
    const timings = new RouteTimings();
    const registry = new Registry();
    registry.registerMetric(timings as unknown as Metric);
    timings.observe("POST", "/v1/govern", 200, 0.0008);
    timings.observe("POST", "/v1/govern", 200, 0.003);
    timings.observe("POST", "/v1/govern", 200, 0.003);
    timings.observe("POST", "/v1/govern", 200, 90);
    timings.observe("GET", "/v1/requests/:id", 404, 0.001);
    const text = await registry.metrics();
    const line = (labels: string) => {
      const found = text
        .split("\n")
        .find((l) => l.startsWith(`countersign_http_request_duration_seconds${labels} `));
      return found?.split(" ")[1];
    };
    expect(text).toContain("# TYPE countersign_http_request_duration_seconds histogram");
    const govern = 'method="POST",route="/v1/govern",status="200"';
    expect(line(`_bucket{${govern},le="0.001"}`)).toBe("1");
    expect(line(`_bucket{${govern},le="0.005"}`)).toBe("3");
    expect(line(`_bucket{${govern},le="60"}`)).toBe("3");
    expect(line(`_bucket{${govern},le="+Inf"}`)).toBe("4");
    expect(line(`_count{${govern}}`)).toBe("4");
    expect(Number(line(`_sum{${govern}}`))).toBeCloseTo(90.0068, 6);
    // A value exactly on a bound falls in that bucket (le means "less than or equal").
    expect(line('_bucket{method="GET",route="/v1/requests/:id",status="404",le="0.001"}')).toBe("1");
    timings.reset();
    expect(await registry.metrics()).not.toContain("_count{");
  });
});
