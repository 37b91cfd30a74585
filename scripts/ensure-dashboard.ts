/**
 * Builds the dashboard when its build is missing or older than its sources, so that `npm start`
 * serves it without a separate front-end step. Safe to run from several processes at once (test
 * runs, a start): one builds under a lock, into a fresh directory swapped in whole.
 *
 *   node scripts/ensure-dashboard.ts          build if needed
 *   node scripts/ensure-dashboard.ts --force  build anyway
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DASHBOARD_DIR = join(root, "packages", "dashboard");
export const DIST_DIR = join(DASHBOARD_DIR, "dist");
const BUILT = join(DIST_DIR, "index.html");
// Scratch space git ignores: the lock and the half-built directory never show up as changes.
const SCRATCH = join(root, "node_modules", ".cache", "countersign-dashboard");
const LOCK = join(SCRATCH, "build.lock");
const SOURCES = ["src", "public", "index.html", "vite.config.ts", "package.json"];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why a build is needed ("missing", "stale"), or null when the build is current. */
export function buildNeeded(): string | null {
  if (!existsSync(BUILT)) return "missing";
  const sources = Math.max(...SOURCES.map((s) => newestMtime(join(DASHBOARD_DIR, s))));
  return sources > statSync(BUILT).mtimeMs ? "stale" : null;
}

async function withLock<T>(run: () => Promise<T>): Promise<T> {
  mkdirSync(SCRATCH, { recursive: true });
  for (;;) {
    try {
      closeSync(openSync(LOCK, "wx"));
      break;
    } catch {
      // Another process is building. A lock older than any build is left over from a crash.
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) rmSync(LOCK, { force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await run();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

/** Builds the dashboard if needed; returns whether it built. Without Vite it says so and skips. */
export async function ensureDashboard(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && !buildNeeded()) return false;
  return withLock(async () => {
    const why = options.force ? "forced" : buildNeeded();
    if (!why) return false; // built by another process while we waited
    // Always the production build, whatever NODE_ENV this process has (test runs set "test", which
    // would make Vite bundle React's development build).
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    try {
      return await build(why, options.quiet ?? false);
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
  });
}

async function build(why: string, quiet: boolean): Promise<boolean> {
  let vite: typeof import("vite");
  try {
    vite = await import("vite");
  } catch {
    console.warn(
      "countersign: the dashboard is not built and Vite is not installed (dev dependencies missing?); " +
        "the server starts without it. Run `npm install` then `npm start` to build it.",
    );
    return false;
  }
  if (!quiet) console.log(`countersign: building the dashboard (${why})…`);
  const fresh = join(SCRATCH, `dist-${process.pid}`);
  await vite.build({
    root: DASHBOARD_DIR,
    configFile: join(DASHBOARD_DIR, "vite.config.ts"),
    logLevel: quiet ? "warn" : "info",
    build: { outDir: fresh, emptyOutDir: true },
  });
  // Swap the whole directory in, so nobody serves half of an old build and half of a new one.
  const old = join(SCRATCH, `old-${process.pid}`);
  if (existsSync(DIST_DIR)) renameSync(DIST_DIR, old);
  renameSync(fresh, DIST_DIR);
  rmSync(old, { recursive: true, force: true });
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureDashboard({ force: process.argv.includes("--force") }).catch((error: unknown) => {
    console.error("countersign: building the dashboard failed:", error);
    process.exit(1);
  });
}
