import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  clean,
  type PackageManifest,
  postpack,
  prepack,
  publishedManifest,
  referencedFiles,
  restore,
  WORKSPACE_MANIFEST,
} from "../scripts/publish-manifest.ts";

/*
 * The package.json swap around `npm pack` / `npm publish`: the repository resolves the SDK to its
 * sources, the tarball to dist/. dist.test.ts runs the result on an older Node.
 */

const SDK_DIR = join(import.meta.dirname, "..");

describe("publishedManifest", () => {
  it("points the SDK's own exports and types at dist/ and keeps everything else", () => {
    const workspace = JSON.parse(readFileSync(join(SDK_DIR, "package.json"), "utf8")) as PackageManifest;
    const published = publishedManifest(workspace);

    expect(published.exports).toEqual({
      ".": { types: "./dist/index.d.ts", default: "./dist/index.js" },
    });
    expect(published.types).toBe("./dist/index.d.ts");
    expect(referencedFiles(published).every((file) => file.startsWith("./dist/"))).toBe(true);
    const { exports: _e, types: _t, ...rest } = published;
    const { exports: _we, types: _wt, ...workspaceRest } = workspace;
    expect(rest).toEqual(workspaceRest);
    expect(published.files).toEqual(["dist", "README.md"]);
    expect(published.engines).toEqual({ node: ">=18" });
  });

  it("maps shorthand, subpath and conditional exports, declarations under types", () => {
    expect(publishedManifest({ exports: "./src/index.ts" }).exports).toEqual({
      types: "./dist/index.d.ts",
      default: "./dist/index.js",
    });
    expect(
      publishedManifest({
        exports: {
          ".": { types: "./src/index.ts", browser: "./src/browser.ts", default: "./src/index.ts" },
          "./webhooks": "./src/webhooks/index.ts",
          "./package.json": "./package.json",
          "./internal/*": null,
        },
      }).exports,
    ).toEqual({
      ".": {
        types: "./dist/index.d.ts",
        browser: { types: "./dist/browser.d.ts", default: "./dist/browser.js" },
        default: { types: "./dist/index.d.ts", default: "./dist/index.js" },
      },
      "./webhooks": { types: "./dist/webhooks/index.d.ts", default: "./dist/webhooks/index.js" },
      "./package.json": "./package.json",
      "./internal/*": null,
    });
  });

  it("refuses a source it cannot map rather than publish a path the tarball lacks", () => {
    expect(() => publishedManifest({ exports: { ".": "./src/data.json" } })).toThrow(/\.\/src\/data\.json/);
  });

  it("leaves a manifest without exports or types alone", () => {
    expect(publishedManifest({ name: "x" })).toEqual({ name: "x" });
  });
});

describe("prepack, postpack and restore", () => {
  let dir: string;
  const workspaceText = `{
  "name": "@countersign/sdk",
  "files": ["dist", "README.md"],
  "types": "./src/index.ts",
  "exports": { ".": "./src/index.ts" }
}
`;
  const manifest = () => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageManifest;
  const build = () => {
    mkdirSync(join(dir, "dist"), { recursive: true });
    writeFileSync(join(dir, "dist", "index.js"), "export {};\n");
    writeFileSync(join(dir, "dist", "index.d.ts"), "export {};\n");
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "countersign-sdk-manifest-"));
    writeFileSync(join(dir, "package.json"), workspaceText);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes the published manifest for the pack and restores the workspace one byte for byte", () => {
    build();
    prepack(dir);
    expect(manifest().exports).toEqual({ ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } });
    expect(manifest().types).toBe("./dist/index.d.ts");

    expect(postpack(dir, "pack")).toBe(true);
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe(workspaceText);
    expect(() => readFileSync(join(dir, WORKSPACE_MANIFEST))).toThrow();
    expect(restore(dir)).toBe(false);
  });

  it("keeps the published manifest through a publish's postpack, for the registry, until postpublish", () => {
    build();
    prepack(dir);
    expect(postpack(dir, "publish")).toBe(false);
    expect(manifest().types).toBe("./dist/index.d.ts");
    expect(restore(dir)).toBe(true);
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe(workspaceText);
  });

  it("refuses to pack without a build, changing nothing", () => {
    expect(() => prepack(dir)).toThrow(
      /missing files \(build first\): \.\/dist\/index\.d\.ts, \.\/dist\/index\.js/,
    );
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe(workspaceText);
    expect(restore(dir)).toBe(false);
  });

  it("after an interrupted pack, starts again from the workspace manifest set aside", () => {
    build();
    prepack(dir); // ...and no postpack: the pack died
    prepack(dir);
    expect(manifest().exports).toEqual({ ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } });
    expect(restore(dir)).toBe(true);
    expect(readFileSync(join(dir, "package.json"), "utf8")).toBe(workspaceText);
  });

  it("clean deletes dist/", () => {
    build();
    clean(dir);
    expect(() => readFileSync(join(dir, "dist", "index.js"))).toThrow();
    clean(dir); // nothing to delete is fine
  });
});
