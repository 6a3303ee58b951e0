// The Prometheus text writer: HELP and TYPE before each family's samples, label values escaped, and names the
// format cannot carry refused rather than written.
import { describe, expect, it } from "vitest";
import { escapeLabel, renderFamilies } from "./prometheus.js";

describe("the Prometheus text writer", () => {
  it("writes families with escaped label values", () => {
    const text = renderFamilies([
      { name: "orch_runs", help: "Runs by status.\nSecond line \\ here.", type: "gauge", samples: [{ labels: { status: "running" }, value: 2 }] },
      { name: "orch_cost_usd_total", help: "Cost.", type: "counter", samples: [{ labels: { agent: "a\"b", model: "c\\d\ne" }, value: 0.25 }, { value: Infinity }] },
    ]);
    expect(text).toBe(
      [
        "# HELP orch_runs Runs by status.\\nSecond line \\\\ here.",
        "# TYPE orch_runs gauge",
        'orch_runs{status="running"} 2',
        "# HELP orch_cost_usd_total Cost.",
        "# TYPE orch_cost_usd_total counter",
        'orch_cost_usd_total{agent="a\\"b",model="c\\\\d\\ne"} 0.25',
        "orch_cost_usd_total +Inf",
        "",
      ].join("\n"),
    );
    expect(escapeLabel('x"y\\z\n')).toBe('x\\"y\\\\z\\n');
  });

  it("refuses a bad metric or label name and a family written twice", () => {
    expect(() => renderFamilies([{ name: "orch-runs", help: "h", type: "gauge", samples: [] }])).toThrow("not a metric name: orch-runs");
    expect(() => renderFamilies([{ name: "a", help: "h", type: "gauge", samples: [{ labels: { "bad-label": "x" }, value: 1 }] }])).toThrow("not a label name: bad-label");
    expect(() => renderFamilies([{ name: "a", help: "h", type: "gauge", samples: [] }, { name: "a", help: "h", type: "gauge", samples: [] }])).toThrow("metric a written twice");
  });
});
