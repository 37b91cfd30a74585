// The server package's programmatic API: start a server, or build the app over your own store.
export { resolveConfig, type ServerConfig } from "./config.ts";
export { type AppOptions, buildApp } from "./http/app.ts";
export type { Services } from "./http/services.ts";
export { createServices, openStore } from "./runtime.ts";
export { type RunningServer, type StartOptions, startServer } from "./server.ts";
export { openPostgresStore } from "./storage/postgres.ts";
export { openSqliteStore } from "./storage/sqlite.ts";
export type { Store } from "./storage/store.ts";
