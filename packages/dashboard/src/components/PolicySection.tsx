import { useEffect, useState } from "react";
import { useApp } from "../app-context.ts";
import { describeError } from "../lib/api.ts";
import { shortHash } from "../lib/json.ts";
import { JsonBlock } from "./JsonBlock.tsx";
import { SafeText } from "./SafeText.tsx";

interface PolicyInfo {
  version: string;
  source: string;
  origin: "built-in" | "stored";
  rules: Array<{ id: string; description: string | null; decision: string; risk: string | null }>;
}

/** The policy in force: its version, its rules at a glance, and its source. */
export function PolicySection() {
  const { api, live } = useApp();
  const [policy, setPolicy] = useState<PolicyInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () =>
      api
        .get<PolicyInfo>("/v1/policy")
        .then(setPolicy)
        .catch((e) => setError(describeError(e)));
    void load();
    return live.onEvent((e) => {
      if (e.kind === "policy.changed") void load();
    });
  }, [api, live]);
  return (
    <section className="card" aria-labelledby="policy-title">
      <h2 id="policy-title">Policy in force</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {policy && (
        <>
          <p>
            Version <code title={policy.version}>{shortHash(policy.version)}</code>{" "}
            {policy.origin === "built-in" ? "(built in: every governed call needs a human)" : ""}
          </p>
          {policy.rules.length > 0 && (
            <div className="table-wrap">
              <table>
                <caption>{policy.rules.length} rules, first match wins</caption>
                <thead>
                  <tr>
                    <th scope="col">Rule</th>
                    <th scope="col">Decision</th>
                    <th scope="col">Risk</th>
                    <th scope="col">What it is for</th>
                  </tr>
                </thead>
                <tbody>
                  {policy.rules.map((rule) => (
                    <tr key={rule.id}>
                      <td>
                        <code>{rule.id}</code>
                      </td>
                      <td>{rule.decision ?? ""}</td>
                      <td>{rule.risk ?? ""}</td>
                      <td>{rule.description ? <SafeText text={rule.description} /> : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <details>
            <summary>Source</summary>
            <JsonBlock value={policy.source} label="policy source" />
          </details>
        </>
      )}
    </section>
  );
}
