/**
 * The SDK's package.json has two readers. Inside this repository `exports` and `types` point at the
 * TypeScript sources, so the workspace packages and the tests import the SDK on Node 24 without a
 * build. The published package ships only the compiled JavaScript in dist/, which runs on Node ≥ 18,
 * Bun, Deno and in browsers, so while npm packs it those fields point at dist/ instead.
 *
 *   node scripts/publish-manifest.ts clean        delete dist/ (before a fresh build)
 *   node scripts/publish-manifest.ts prepack      set the workspace manifest aside, write the published one
 *   node scripts/publish-manifest.ts postpack     put the workspace manifest back, except during a publish
 *   node scripts/publish-manifest.ts postpublish  put the workspace manifest back
 *   node scripts/publish-manifest.ts restore      the same, by hand, after an interrupted pack or publish
 *
 * `npm publish` reads package.json again after packing and sends it to the registry as the version's
 * metadata; restoring in postpack would advertise `./src/index.ts`, which the tarball does not hold.
 * So during a publish the published manifest stays until postpublish.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type ExportsValue = string | null | ExportsValue[] | { [condition: string]: ExportsValue };

export interface PackageManifest {
  exports?: ExportsValue;
  types?: string;
  [field: string]: unknown;
}

/** Where the workspace manifest waits while the published one is in place. npm never packs it. */
export const WORKSPACE_MANIFEST = ".workspace-package.json";

const SOURCE = /^\.\/src\/(.+)\.ts$/;

/** A source target's compiled counterpart: the declaration under `types`, both files elsewhere. */
function toDist(value: ExportsValue, underTypes: boolean): ExportsValue {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => toDist(item, underTypes));
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([condition, target]) => [
        condition,
        toDist(target, underTypes || condition === "types"),
      ]),
    );
  }
  const source = SOURCE.exec(value);
  if (!source) {
    if (value.startsWith("./src/"))
      throw new Error(`${value}: only .ts sources under ./src/ can be published`);
    return value;
  }
  const declaration = `./dist/${source[1]}.d.ts`;
  return underTypes ? declaration : { types: declaration, default: `./dist/${source[1]}.js` };
}

/** The manifest as published: every `./src/*.ts` in `exports` and `types` replaced by its build in dist/. */
export function publishedManifest(workspace: PackageManifest): PackageManifest {
  const published: PackageManifest = { ...workspace };
  if (workspace.exports !== undefined) published.exports = toDist(workspace.exports, false);
  if (workspace.types !== undefined) published.types = toDist(workspace.types, true) as string;
  return published;
}

/** Every file the manifest's `exports` and `types` name, relative to the package. */
export function referencedFiles(manifest: PackageManifest): string[] {
  const files = new Set<string>();
  const walk = (value: ExportsValue | undefined): void => {
    if (typeof value === "string") files.add(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value) Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.types);
  return [...files].sort();
}

/** Deletes dist/, so that a build leaves no output of sources since removed. */
export function clean(packageDir: string): void {
  rmSync(join(packageDir, "dist"), { recursive: true, force: true });
}

/**
 * Writes the published manifest, keeping the workspace one aside. Refuses, changing nothing, when a
 * file it would name is missing (dist/ not built). After an interrupted pack the manifest aside is
 * the workspace one, and is used again.
 */
export function prepack(packageDir: string): PackageManifest {
  const manifestPath = join(packageDir, "package.json");
  const asidePath = join(packageDir, WORKSPACE_MANIFEST);
  const leftOver = existsSync(asidePath);
  const workspaceText = readFileSync(leftOver ? asidePath : manifestPath, "utf8");
  const published = publishedManifest(JSON.parse(workspaceText) as PackageManifest);
  const missing = referencedFiles(published).filter((file) => !existsSync(join(packageDir, file)));
  if (missing.length > 0) {
    throw new Error(
      `the published package.json would name missing files (build first): ${missing.join(", ")}`,
    );
  }
  if (!leftOver) writeFileSync(asidePath, workspaceText);
  writeFileSync(manifestPath, `${JSON.stringify(published, null, 2)}\n`);
  return published;
}

/** Puts the workspace manifest back, byte for byte. False when it was not set aside. */
export function restore(packageDir: string): boolean {
  const asidePath = join(packageDir, WORKSPACE_MANIFEST);
  if (!existsSync(asidePath)) return false;
  writeFileSync(join(packageDir, "package.json"), readFileSync(asidePath));
  rmSync(asidePath);
  return true;
}

/** After packing: restores, unless npm is publishing and will still read the manifest (see above). */
export function postpack(packageDir: string, npmCommand: string | undefined): boolean {
  return npmCommand === "publish" ? false : restore(packageDir);
}

const STEPS: Record<string, (packageDir: string) => unknown> = {
  clean,
  prepack,
  postpack: (packageDir) => postpack(packageDir, process.env.npm_command),
  postpublish: restore,
  restore,
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
  const name = process.argv[2] ?? "";
  const step = Object.hasOwn(STEPS, name) ? STEPS[name] : undefined;
  try {
    if (!step)
      throw new Error(`unknown step ${JSON.stringify(name)}: one of ${Object.keys(STEPS).join(", ")}`);
    step(packageDir);
  } catch (error) {
    console.error(`publish-manifest: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
