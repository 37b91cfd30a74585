import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useApp } from "../app-context.ts";
import { describeError, enc } from "../lib/api.ts";
import { formatDateTime } from "../lib/time.ts";
import type { Account } from "../lib/types.ts";

interface Invite {
  id: string;
  email: string;
  role: string;
  purpose: string;
  expires_at: string;
}

interface Session {
  id: string;
  email: string;
  created_at: string;
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

function Sessions({ admin }: { admin: boolean }) {
  const { api, announce } = useApp();
  const [sessions, setSessions] = useState<Session[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(
    () =>
      api
        .get<{ data: Session[] }>("/v1/sessions")
        .then((r) => setSessions(r.data))
        .catch((e) => setError(describeError(e))),
    [api],
  );
  useEffect(() => {
    void load();
  }, [load]);
  const revoke = async (s: Session) => {
    try {
      await api.delete(`/v1/sessions/${enc(s.id)}`);
      announce(`Session of ${s.email} ended`);
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">{admin ? "Signed-in sessions" : "Your sessions"}</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Sessions</caption>
          <thead>
            <tr>
              {admin && <th scope="col">Who</th>}
              <th scope="col">Signed in</th>
              <th scope="col">Last seen</th>
              <th scope="col">From</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id}>
                {admin && <td>{s.email}</td>}
                <td>{formatDateTime(s.created_at)}</td>
                <td>{formatDateTime(s.last_seen_at)}</td>
                <td className="wrap">
                  {s.ip}
                  <br />
                  <span className="muted small">{s.user_agent}</span>
                </td>
                <td>
                  {s.current ? (
                    <span className="badge">this browser</span>
                  ) : (
                    <button type="button" onClick={() => void revoke(s)}>
                      End session
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function People() {
  const { api, announce } = useApp();
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [invites, setInvites] = useState<Invite[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<"reviewer" | "admin">("reviewer");
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);

  const load = useCallback(async () => {
    try {
      const [a, i] = await Promise.all([
        api.get<{ data: Account[] }>("/v1/accounts"),
        api.get<{ data: Invite[] }>("/v1/invites"),
      ]);
      setAccounts(a.data);
      setInvites(i.data);
    } catch (e) {
      setError(describeError(e));
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load]);

  const invite = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      const created = await api.post<{ path: string; invite: { email: string } }>("/v1/invites", {
        email,
        role,
      });
      setLink({ email: created.invite.email, url: `${location.origin}${created.path}` });
      setEmail("");
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };
  const act = async (run: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await run();
      announce(done);
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <>
      <section className="card" aria-labelledby="invite-title">
        <h2 id="invite-title">Invite someone</h2>
        <form className="inline-form" onSubmit={invite}>
          <label htmlFor="inv-email">Email</label>
          <input
            id="inv-email"
            type="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <label htmlFor="inv-role">Role</label>
          <select
            id="inv-role"
            value={role}
            onChange={(e) => setRole(e.target.value as "reviewer" | "admin")}
          >
            <option value="reviewer">reviewer</option>
            <option value="admin">admin</option>
          </select>
          <button type="submit" className="primary">
            Create invite link
          </button>
        </form>
        <p className="muted small">
          Inviting an email that already has an account makes a password-reset link.
        </p>
        {link && (
          <div className="invite-link" role="status">
            <p>
              Send this link to <strong>{link.email}</strong>. It works once and is shown only now.
            </p>
            <input aria-label="Invite link" readOnly value={link.url} onFocus={(e) => e.target.select()} />
            <button
              type="button"
              onClick={() =>
                void navigator.clipboard?.writeText(link.url).then(() => announce("Link copied"))
              }
            >
              Copy
            </button>
          </div>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {invites.length > 0 && (
          <ul className="plain">
            {invites.map((i) => (
              <li key={i.id}>
                {i.email} ({i.role}
                {i.purpose === "password_reset" ? ", password reset" : ""}), until{" "}
                {formatDateTime(i.expires_at)}{" "}
                <button
                  type="button"
                  onClick={() => void act(() => api.delete(`/v1/invites/${enc(i.id)}`), "Invite withdrawn")}
                >
                  Withdraw
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="accounts-title">
        <h2 id="accounts-title">Accounts</h2>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Accounts</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Acts as key</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((a) => (
                <tr key={a.id}>
                  <td>{a.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${a.email}`}
                      value={a.role}
                      onChange={(event) => {
                        const next = event.target.value as Account["role"];
                        void act(
                          () => api.patch(`/v1/accounts/${enc(a.id)}`, { role: next }),
                          `${a.email} is now ${next === "admin" ? "an admin" : "a reviewer"}`,
                        );
                      }}
                    >
                      <option value="reviewer">reviewer</option>
                      <option value="admin">admin</option>
                    </select>
                  </td>
                  <td>
                    <code>{a.key_id}</code>
                  </td>
                  <td>
                    {a.disabled_at ? (
                      <>
                        <span className="badge">disabled</span>{" "}
                        <button
                          type="button"
                          onClick={() =>
                            void act(() => api.post(`/v1/accounts/${enc(a.id)}/enable`), `${a.email} enabled`)
                          }
                        >
                          Enable
                        </button>
                      </>
                    ) : (
                      <button
                        type="button"
                        className="danger"
                        onClick={() =>
                          void act(() => api.delete(`/v1/accounts/${enc(a.id)}`), `${a.email} disabled`)
                        }
                      >
                        Disable
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

export function PeoplePage() {
  const { me } = useApp();
  const admin = me.principal.role === "admin";
  return (
    <div className="page">
      <h1 tabIndex={-1}>{admin ? "People" : "Sessions"}</h1>
      <div className="cards">
        {admin && <People />}
        <Sessions admin={admin} />
      </div>
    </div>
  );
}
