import type { ReactNode } from "react";
import { useApp, useLive, useLocation } from "../app-context.ts";
import { Link } from "./Link.tsx";

const CONNECTION_LABEL = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
} as const;

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const { pathname } = useLocation();
  const current =
    href === "/" ? pathname === "/" || pathname.startsWith("/requests/") : pathname.startsWith(href);
  return (
    <Link href={href} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

export function Layout({ children, message }: { children: ReactNode; message: string }) {
  const { me, features, signOut } = useApp();
  const live = useLive();
  const admin = me.principal.role === "admin";
  const showAgents = features.killSwitch || features.policy || features.webhooks || features.reviewers;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Countersign
        </Link>
        <nav aria-label="Main">
          <NavLink href="/">Inbox</NavLink>
          {admin && <NavLink href="/audit">Audit</NavLink>}
          {showAgents && <NavLink href="/agents">Agents</NavLink>}
          <NavLink href="/people">{admin ? "People" : "Sessions"}</NavLink>
        </nav>
        <span
          className={`connection ${live.connection}`}
          role="status"
          aria-label={`Updates: ${CONNECTION_LABEL[live.connection]}`}
        >
          {CONNECTION_LABEL[live.connection]}
        </span>
        <span className="who" title={`${me.principal.name} (${me.principal.role})`}>
          {me.principal.name}
        </span>
        {me.session && (
          <button type="button" className="link-button" onClick={() => void signOut()}>
            Sign out
          </button>
        )}
      </header>
      <div className="toast" role="status" aria-live="polite">
        {message}
      </div>
      <main id="main">{children}</main>
    </>
  );
}
