// Starts a real tradeassured in development mode on a temporary SQLite database, as the README's
// "go run ./server/cmd/tradeassured --dev" does, for tests. TRADEASSURED_BIN names a prebuilt binary
// (make builds one); otherwise the binary is built from the repository with go build.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** One seeded principal of dev-keys.json. */
export interface Principal {
  role: string;
  name: string;
  email: string;
  account_id: string;
  api_key: string;
  product_ids?: string[];
}

/** A running dev server. */
export interface DevServer {
  /** The base URL, for example "http://127.0.0.1:41234". */
  readonly baseUrl: string;
  /** The seeded principals by name: buyer, supplier, supplier_small, arbiter, warehouse, operator. */
  readonly keys: Record<string, Principal>;
  /** Everything the server printed, for failure reports. */
  output(): string;
  /** Stops the server and removes its database. */
  stop(): Promise<void>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** Returns a free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** Returns the tradeassured binary, building it once when TRADEASSURED_BIN is not set. */
export function serverBinary(): string {
  const given = process.env["TRADEASSURED_BIN"];
  if (given) {
    return given;
  }
  const out = join(tmpdir(), "tradeassure-sdk-ts-test", "tradeassured");
  execFileSync("go", ["build", "-o", out, "./server/cmd/tradeassured"], { cwd: repoRoot, stdio: "inherit" });
  return out;
}

/** Starts a dev server and waits until it answers. */
export async function startDevServer(): Promise<DevServer> {
  const dir = mkdtempSync(join(tmpdir(), "tradeassure-test-"));
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  let out = "";
  const child: ChildProcess = spawn(
    serverBinary(),
    ["--dev", "--db", `sqlite://${dir}/t.db`, "--addr", addr, "--log-level", "warn", "--deadline-interval", "200ms"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const baseUrl = `http://${addr}`;
  const keysFile = join(dir, "dev-keys.json");
  // A slow machine only makes the start slow: give up when the process exits, or after ten minutes of
  // nothing (a hang, not slowness).
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`tradeassured exited with ${child.exitCode}:\n${out}`);
    }
    if (existsSync(keysFile)) {
      try {
        const res = await fetch(`${baseUrl}/grpc.health.v1.Health/Check`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
        });
        if (res.ok) {
          break;
        }
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`tradeassured did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const keys = JSON.parse(readFileSync(keysFile, "utf8")) as Record<string, Principal>;
  return {
    baseUrl,
    keys,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
