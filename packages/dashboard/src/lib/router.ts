/** A tiny History API router: a route is the path split into a page and its parameter. */
export type Route =
  | { page: "inbox" }
  | { page: "request"; id: string }
  | { page: "case"; id: string }
  | { page: "audit" }
  | { page: "agents" }
  | { page: "people" }
  | { page: "invite" }
  | { page: "not-found" };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (parts.length === 0) return { page: "inbox" };
  if (first === "requests" && second && parts.length === 2) return { page: "request", id: second };
  if (first === "cases" && second && parts.length === 2) return { page: "case", id: second };
  if (
    parts.length === 1 &&
    (first === "audit" || first === "agents" || first === "people" || first === "invite")
  ) {
    return { page: first };
  }
  return { page: "not-found" };
}

type Listener = () => void;
const listeners = new Set<Listener>();

export function subscribeLocation(listener: Listener): () => void {
  listeners.add(listener);
  const onPop = () => listener();
  window.addEventListener("popstate", onPop);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", onPop);
  };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === `${location.pathname}${location.search}`) return;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const listener of [...listeners]) listener();
}

/** Should a click on a link be handled in the page (a plain left click) rather than by the browser? */
export function isPlainClick(event: {
  button: number;
  metaKey: boolean;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}): boolean {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

export function requestPath(id: string): string {
  return `/requests/${encodeURIComponent(id)}`;
}

export function casePath(correlationId: string): string {
  return `/cases/${encodeURIComponent(correlationId)}`;
}
