import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Static files only: everything is bundled, nothing is fetched from another origin at runtime.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No data: URLs or inline anything: the server's Content-Security-Policy allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    // `npm run dev -w @countersign/dashboard` next to `npm start`: the API is proxied to the server.
    proxy: { "/v1": { target: "http://127.0.0.1:8080", changeOrigin: false } },
  },
});
