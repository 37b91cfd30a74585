import { type FormEvent, useEffect, useState } from "react";
import { type Api, describeError } from "../lib/api.ts";
import type { SessionState } from "../lib/types.ts";

interface InvitePreview {
  email: string;
  name: string | null;
  role: string;
  purpose: "new_account" | "password_reset";
  expires_at: string;
}

const MIN = 12;

/** The page an invite link opens: the token is in the URL fragment, never sent in a URL. */
export function AcceptInvite({ api, onSignedIn }: { api: Api; onSignedIn: (s: SessionState) => void }) {
  const [token] = useState(() => location.hash.slice(1));
  const [invite, setInvite] = useState<InvitePreview | null>(null);
  const [error, setError] = useState<string | null>(token ? null : "This link has no invite token in it.");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // Keep the token out of the address bar (and history) once it has been read.
    history.replaceState(null, "", "/invite");
    if (!token) return;
    api
      .post<InvitePreview>("/v1/invites/preview", { token }, { quiet401: true })
      .then(setInvite)
      .catch((e) => setError(describeError(e)));
  }, [api, token]);

  const mismatch = repeat !== "" && repeat !== password;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < MIN || mismatch) return;
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.post<SessionState>("/v1/invites/accept", { token, password }, { quiet401: true }));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth" id="main">
      <form className="card auth-card" onSubmit={submit}>
        <h1>{invite?.purpose === "password_reset" ? "Choose a new password" : "Welcome to Countersign"}</h1>
        {invite?.purpose === "new_account" && (
          <p>
            Set a password for <strong>{invite.email}</strong>. You will sign in as{" "}
            {invite.role === "admin" ? "an " : "a "}
            <strong>{invite.role}</strong>.
          </p>
        )}
        {invite?.purpose === "password_reset" && (
          <p>
            Choose a new password for <strong>{invite.email}</strong>. Every other session of this account
            ends.
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {invite && (
          <>
            <label htmlFor="new-password">Password (at least {MIN} characters)</label>
            <input
              id="new-password"
              type="password"
              autoComplete="new-password"
              minLength={MIN}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <label htmlFor="repeat-password">Repeat the password</label>
            <input
              id="repeat-password"
              type="password"
              autoComplete="new-password"
              required
              aria-invalid={mismatch}
              aria-describedby={mismatch ? "repeat-error" : undefined}
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
            {mismatch && (
              <p className="error" id="repeat-error">
                The passwords differ.
              </p>
            )}
            <button type="submit" className="primary" disabled={busy || password.length < MIN || mismatch}>
              {busy ? "Saving…" : "Set password and sign in"}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
