import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useApp } from "../app-context.ts";
import { describeError } from "../lib/api.ts";
import { formatDateTime } from "../lib/time.ts";
import type { Principal } from "../lib/types.ts";
import { SafeText } from "./SafeText.tsx";

interface KillSwitch {
  id: string;
  scope: "global" | "agent" | "run";
  agent: string | null;
  run_id: string | null;
  reason: string;
  engaged_at: string;
  engaged_by: Principal;
  cancelled_requests: number;
}

interface AgentKey {
  id: string;
  name: string;
  role: string;
  created_at: string;
}

/** Agents, and the kill switch that stops one agent, one run, or everything at once. */
export function KillSwitchSection() {
  const { api, live, me } = useApp();
  const admin = me.principal.role === "admin";
  const [switches, setSwitches] = useState<KillSwitch[]>([]);
  const [agents, setAgents] = useState<AgentKey[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [scope, setScope] = useState<KillSwitch["scope"]>("agent");
  const [agent, setAgent] = useState("");
  const [runId, setRunId] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setSwitches((await api.get<{ data: KillSwitch[] }>("/v1/kill-switch")).data);
      if (admin) {
        const keys = await api.get<{ data: AgentKey[] }>("/v1/keys");
        setAgents(keys.data.filter((k) => k.role === "agent"));
      }
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, admin]);
  useEffect(() => {
    void load();
    return live.onEvent((e) => {
      if (e.kind === "kill_switch.changed" || e.kind.startsWith("key.")) void load();
    });
  }, [load, live]);

  const engage = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post("/v1/kill-switch", {
        engaged: true,
        scope,
        reason,
        ...(scope === "agent" || (scope === "run" && agent) ? { agent } : {}),
        ...(scope === "run" ? { run_id: runId } : {}),
      });
      setReason("");
      await load();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  const release = async (s: KillSwitch) => {
    setError(null);
    try {
      await api.post("/v1/kill-switch", { engaged: false, id: s.id, reason: "released from the dashboard" });
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };
  const agentName = (ref: string | null) => agents.find((a) => a.id === ref)?.name ?? ref;
  const stopped = (a: AgentKey) =>
    switches.some((s) => s.scope === "agent" && (s.agent === a.id || s.agent === a.name));

  return (
    <section className="card" aria-labelledby="kill-title">
      <h2 id="kill-title">Kill switch</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {switches.length === 0 ? (
        <p className="ok">No kill switch is engaged: agents run under the policy.</p>
      ) : (
        <ul className="plain switches">
          {switches.map((s) => (
            <li key={s.id} className="engaged">
              <strong>
                {s.scope === "global"
                  ? "Everything stopped"
                  : s.scope === "agent"
                    ? `Agent ${agentName(s.agent)} stopped`
                    : `Run ${s.run_id} stopped`}
              </strong>{" "}
              by {s.engaged_by.name}, {formatDateTime(s.engaged_at)}: <SafeText text={s.reason} />
              {admin && (
                <button type="button" onClick={() => void release(s)}>
                  Release
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && agents.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Agents</caption>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Key</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <tr key={a.id}>
                  <td>{a.name}</td>
                  <td>
                    <code>{a.id}</code>
                  </td>
                  <td>{stopped(a) ? <span className="badge danger">stopped</span> : "running"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin && (
        <form className="inline-form" onSubmit={engage} aria-labelledby="engage-title">
          <h3 id="engage-title">Engage a kill switch</h3>
          <label htmlFor="ks-scope">Stop</label>
          <select
            id="ks-scope"
            value={scope}
            onChange={(e) => setScope(e.target.value as KillSwitch["scope"])}
          >
            <option value="agent">one agent</option>
            <option value="run">one run</option>
            <option value="global">every agent</option>
          </select>
          {scope !== "global" && (
            <>
              <label htmlFor="ks-agent">Agent{scope === "run" ? " (optional)" : ""}</label>
              <select
                id="ks-agent"
                value={agent}
                required={scope === "agent"}
                onChange={(e) => setAgent(e.target.value)}
              >
                <option value="">{scope === "run" ? "any agent" : "choose…"}</option>
                {agents.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </select>
            </>
          )}
          {scope === "run" && (
            <>
              <label htmlFor="ks-run">Run id</label>
              <input id="ks-run" required value={runId} onChange={(e) => setRunId(e.target.value)} />
            </>
          )}
          <label htmlFor="ks-reason">Reason</label>
          <input id="ks-reason" required value={reason} onChange={(e) => setReason(e.target.value)} />
          <button type="submit" className="danger" disabled={busy}>
            Engage
          </button>
        </form>
      )}
    </section>
  );
}
