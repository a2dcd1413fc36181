import { defineConfig } from "vite";

// The SDK is linked from ../sdk/ts (a file: dependency); Vite bundles its built ESM like any package.
export default defineConfig({
  build: { target: "es2022", sourcemap: true },
  preview: { host: "127.0.0.1" },
  server: { host: "127.0.0.1" },
});
