import { createContext, useContext, useEffect, useState, useSyncExternalStore } from "react";
import type { Api } from "./lib/api.ts";
import type { LiveStore } from "./lib/live.ts";
import { subscribeLocation } from "./lib/router.ts";
import { getNow, subscribeNow } from "./lib/ticker.ts";
import type { SessionState } from "./lib/types.ts";

/** Optional features of the server, detected by asking it (a 404 or 403 hides the section). */
export interface Features {
  killSwitch: boolean;
  policy: boolean;
  webhooks: boolean;
  reviewers: boolean;
}

export interface AppContextValue {
  api: Api;
  live: LiveStore;
  me: SessionState;
  features: Features;
  signOut(): Promise<void>;
  /** Says something to everyone, screen readers included (a polite live region). */
  announce(message: string): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside the signed-in app");
  return value;
}

/** The live store, re-rendering the caller whenever it changes. */
export function useLive(): LiveStore {
  const { live } = useApp();
  useSyncExternalStore(live.subscribe, live.getVersion);
  return live;
}

/** The current time, updated once a second for every subscriber at once. */
export function useNow(): number {
  return useSyncExternalStore(subscribeNow, getNow);
}

function locationKey(): string {
  return `${location.pathname}${location.search}`;
}

export function useLocation(): { pathname: string; search: string } {
  useSyncExternalStore(subscribeLocation, locationKey);
  return { pathname: location.pathname, search: location.search };
}

/** Matches a CSS media query (the inbox shows a side-by-side preview only on wide screens). */
export function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const onChange = () => setMatches(list.matches);
    list.addEventListener("change", onChange);
    setMatches(list.matches);
    return () => list.removeEventListener("change", onChange);
  }, [query]);
  return matches;
}

/** Is the key press meant for a text field (or a modifier shortcut) rather than for us? */
export function isTypingTarget(event: KeyboardEvent): boolean {
  if (event.metaKey || event.ctrlKey || event.altKey) return true;
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  if (target.closest("dialog[open]")) return true;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}
