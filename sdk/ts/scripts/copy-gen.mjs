// Copies the generated TypeScript schema (../../gen/ts, committed, never edited) into src/gen, so that
// tsc compiles it into dist/gen with the SDK and `npm pack` yields a self-contained package.
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "..", "..", "gen", "ts");
const to = join(root, "src", "gen");
if (!existsSync(join(from, "tradeassure"))) {
  if (existsSync(join(to, "tradeassure"))) {
    // Outside the repository (for example an unpacked source tarball) the copy is already there.
    process.exit(0);
  }
  console.error(`copy-gen: ${from} not found; run from a clone of the tradeassure repository`);
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith(".md") });
console.log(`copy-gen: ${from} -> ${to}`);
