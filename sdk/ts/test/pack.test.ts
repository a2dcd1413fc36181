// Checks what a newcomer gets: `npm pack` yields a self-contained package (the generated schema
// included) that installs into a fresh npm project, type-checks under strict TypeScript, and talks to a
// real server through both entry points.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startDevServer, type DevServer } from "./devserver.js";

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
let dev: DevServer;
let project: string;

before(async () => {
  dev = await startDevServer();
  project = mkdtempSync(join(tmpdir(), "tradeassure-newcomer-"));
});
after(async () => {
  await dev?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

test("npm pack, install into a fresh project, type-check and call the server", () => {
  // dist is built by `npm test`; --ignore-scripts skips the prepack rebuild.
  run("npm", ["pack", "--ignore-scripts", "--pack-destination", project], sdkDir);
  const tarball = readdirSync(project).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote no tarball");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "newcomer", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `./${tarball}`], project);
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--save-dev", "@types/node@^20.19.0"], project);

  writeFileSync(
    join(project, "check.ts"),
    `import { createClient, common, asError } from "@tradeassure/sdk/node";
import { createClient as createWebClient, order } from "@tradeassure/sdk";
import { OrderSchema } from "@tradeassure/sdk/gen/tradeassure/order/v1/order_pb";
const [baseUrl = "", key = ""] = process.argv.slice(2);
const grpc = createClient(baseUrl, key, { transport: "grpc" });
const me = await grpc.admin.getAccount({});
const state: order.Order_State = order.Order_State.DRAFT;
const web = createWebClient(baseUrl, key);
const clock = await web.admin.getClock({});
const e = asError(await web.orders.getOrder({ orderId: "nope" }).catch((x: unknown) => x));
console.log(common.Role[me.account?.role ?? 0], clock.adjustable, e?.reasonName, OrderSchema.typeName, state);
`,
  );
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        skipLibCheck: false,
        types: ["node"],
        lib: ["ES2022", "DOM"],
        outDir: "out",
      },
      files: ["check.ts"],
    }),
  );
  // The SDK's own TypeScript compiles the newcomer's file against the installed package's typings.
  run(process.execPath, [join(sdkDir, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], project);
  const out = run(process.execPath, [join(project, "out", "check.js"), dev.baseUrl, dev.keys["buyer"]?.api_key ?? ""], project);
  assert.equal(out.trim(), "BUYER true NOT_FOUND tradeassure.order.v1.Order 1");
});
