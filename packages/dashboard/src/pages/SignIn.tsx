import { type FormEvent, useEffect, useRef, useState } from "react";
import { type Api, ApiError, describeError } from "../lib/api.ts";
import type { SessionState } from "../lib/types.ts";

export function SignIn({
  api,
  onSignedIn,
  notice,
}: {
  api: Api;
  onSignedIn: (s: SessionState) => void;
  notice?: string;
}) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  useEffect(() => emailRef.current?.focus(), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const state = await api.post<SessionState>("/v1/sessions", { email, password }, { quiet401: true });
      onSignedIn(state);
    } catch (e) {
      setPassword("");
      setError(e instanceof ApiError && e.status === 401 ? "Wrong email or password." : describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth" id="main">
      <form
        className="card auth-card"
        onSubmit={submit}
        aria-describedby={error ? "sign-in-error" : undefined}
      >
        <h1>Sign in to Countersign</h1>
        {notice && <p className="notice">{notice}</p>}
        <label htmlFor="email">Email</label>
        <input
          id="email"
          ref={emailRef}
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error && (
          <p className="error" id="sign-in-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="hint">No account yet? An admin sends you an invite link.</p>
      </form>
    </main>
  );
}
