import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { AppContext, type AppContextValue, type Features, useLocation } from "./app-context.ts";
import { Layout } from "./components/Layout.tsx";
import { Api, ApiError } from "./lib/api.ts";
import { selectInbox } from "./lib/inbox.ts";
import { LiveStore } from "./lib/live.ts";
import { navigate, parseRoute } from "./lib/router.ts";
import type { SessionState } from "./lib/types.ts";
import { AcceptInvite } from "./pages/AcceptInvite.tsx";
import { AgentsPage } from "./pages/AgentsPage.tsx";
import { AuditPage } from "./pages/AuditPage.tsx";
import { CasePage } from "./pages/CasePage.tsx";
import { Inbox } from "./pages/Inbox.tsx";
import { PeoplePage } from "./pages/PeoplePage.tsx";
import { RequestPage } from "./pages/RequestView.tsx";
import { SignIn } from "./pages/SignIn.tsx";

type Auth =
  | { state: "checking" }
  | { state: "signed-out"; notice?: string }
  | { state: "signed-in"; me: SessionState };

async function detectFeatures(api: Api, admin: boolean): Promise<Features> {
  const [killSwitch, policy, webhooks, reviewers] = await Promise.all([
    api.probe("/v1/kill-switch"),
    api.probe("/v1/policy"),
    admin ? api.probe("/v1/webhooks/deliveries?limit=1") : Promise.resolve(false),
    api.probe("/v1/reviewers"),
  ]);
  return { killSwitch, policy, webhooks, reviewers };
}

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: "checking" });
  const [features, setFeatures] = useState<Features | null>(null);
  const api = useMemo(
    () =>
      new Api(() =>
        setAuth((a) =>
          a.state === "signed-in"
            ? { state: "signed-out", notice: "Your session has ended. Sign in again." }
            : a,
        ),
      ),
    [],
  );
  const route = parseRoute(useLocation().pathname);
  // Where the page was opened: an invite link needs no session, everything else checks for one once.
  const [startPage] = useState(route.page);

  useEffect(() => {
    if (startPage === "invite") {
      setAuth({ state: "signed-out" });
      return;
    }
    api
      .get<SessionState>("/v1/session", { quiet401: true })
      .then((me) => setAuth({ state: "signed-in", me }))
      .catch((e) =>
        setAuth({
          state: "signed-out",
          ...(e instanceof ApiError && e.status !== 401 ? { notice: e.message } : {}),
        }),
      );
  }, [api, startPage]);

  const me = auth.state === "signed-in" ? auth.me : null;
  useEffect(() => {
    api.setCsrfToken(me?.csrf_token ?? null);
    if (!me) return;
    detectFeatures(api, me.principal.role === "admin").then(setFeatures);
  }, [api, me]);

  const signedIn = (state: SessionState) => {
    setAuth({ state: "signed-in", me: state });
    if (route.page === "invite") navigate("/", { replace: true });
  };

  if (auth.state === "checking") return <p className="muted boot">Loading…</p>;
  if (auth.state === "signed-out") {
    return route.page === "invite" ? (
      <AcceptInvite api={api} onSignedIn={signedIn} />
    ) : (
      <SignIn api={api} onSignedIn={signedIn} {...(auth.notice ? { notice: auth.notice } : {})} />
    );
  }
  if (!features) return <p className="muted boot">Loading…</p>;
  return (
    <SignedIn
      api={api}
      me={auth.me}
      features={features}
      onSignedOut={() => setAuth({ state: "signed-out" })}
    />
  );
}

function SignedIn({
  api,
  me,
  features,
  onSignedOut,
}: {
  api: Api;
  me: SessionState;
  features: Features;
  onSignedOut: () => void;
}) {
  const [message, setMessage] = useState("");
  const live = useMemo(
    () =>
      new LiveStore(api, () =>
        api.get("/v1/session").then(
          () => true,
          () => false,
        ),
      ),
    [api],
  );
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);

  // The tab's title counts the pending requests waiting for me, so a background tab shows new work.
  useEffect(() => {
    const update = () => {
      const filter = {
        status: "pending",
        mine: me.principal.role !== "admin",
        role: "",
        agent: "",
        correlation: "",
        search: "",
      } as const;
      const n = selectInbox(live.requests.values(), filter, me.principal.key_id).length;
      document.title = n > 0 ? `(${n}) Countersign` : "Countersign";
    };
    update();
    return live.subscribe(update);
  }, [live, me]);

  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const announce = useCallback((text: string) => {
    setMessage(text);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setMessage(""), 6000);
  }, []);

  const value: AppContextValue = useMemo(
    () => ({
      api,
      live,
      me,
      features,
      announce,
      async signOut() {
        try {
          await api.delete("/v1/session");
        } finally {
          live.stop();
          onSignedOut();
        }
      },
    }),
    [api, live, me, features, announce, onSignedOut],
  );
  return (
    <AppContext.Provider value={value}>
      <Layout message={message}>
        <Page />
      </Layout>
    </AppContext.Provider>
  );
}

function Page() {
  const route = parseRoute(useLocation().pathname);
  const pageKey = `${route.page}:${"id" in route ? route.id : ""}`;
  // Move focus to the new page's heading, so keyboard and screen-reader users start there.
  useEffect(() => {
    if (!pageKey) return;
    document.querySelector<HTMLElement>("main h1")?.focus({ preventScroll: true });
  }, [pageKey]);
  switch (route.page) {
    case "inbox":
      return <Inbox />;
    case "request":
      return <RequestPage key={route.id} id={route.id} />;
    case "case":
      return <CasePage key={route.id} correlationId={route.id} />;
    case "audit":
      return <AuditPage />;
    case "agents":
      return <AgentsPage />;
    case "people":
      return <PeoplePage />;
    default:
      return (
        <div className="page">
          <h1 tabIndex={-1}>Not found</h1>
          <p>There is no page here.</p>
        </div>
      );
  }
}
