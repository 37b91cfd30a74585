import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Starts a benchmark server in its own process (so the load generator does not share its event
 * loop) and resolves with the URL it prints on its first stdout line.
 */
export async function startChild(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ url: string; extra: Record<string, string>; stop: () => Promise<void> }> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [path, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const nl = buffer.indexOf("\n");
      if (nl >= 0) resolve(buffer.slice(0, nl));
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  const info = JSON.parse(line) as { url: string } & Record<string, string>;
  return {
    url: info.url,
    extra: info,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
