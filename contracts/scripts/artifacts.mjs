#!/usr/bin/env node
// Keeps contracts/artifacts/ (ABI and bytecode the Rust bindings are generated
// from) equal to what `forge build` makes, so a Rust build never needs npm.
//
//   node scripts/artifacts.mjs export   # after forge build: write artifacts/
//   node scripts/artifacts.mjs check    # after forge build: fail if they differ
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The registry, and every generated verifier.
const generated = readdirSync(join(root, 'src', 'generated'))
  .filter((file) => file.endsWith('.sol'))
  .map((file) => file.slice(0, -'.sol'.length));
const contracts = ['LiabilityRegistry', ...generated];
const mode = process.argv[2];
if (mode !== 'export' && mode !== 'check') {
  console.error('usage: artifacts.mjs export|check');
  process.exit(2);
}

let stale = [];
for (const name of contracts) {
  const built = JSON.parse(readFileSync(join(root, 'out', `${name}.sol`, `${name}.json`), 'utf8'));
  const artifact = {
    abi: built.abi,
    bytecode: { object: built.bytecode.object },
    // Where the runtime code holds immutables (set by the constructor):
    // readers mask them when they compare deployed code with the artifact.
    deployedBytecode: {
      object: built.deployedBytecode.object,
      immutableReferences: built.deployedBytecode.immutableReferences ?? {},
    },
  };
  const text = JSON.stringify(artifact, null, 2) + '\n';
  const path = join(root, 'artifacts', `${name}.json`);
  if (mode === 'export') {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  } else {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current !== text) stale.push(path);
  }
}
if (stale.length > 0) {
  console.error(`stale artifacts (run 'forge build && node scripts/artifacts.mjs export' in contracts/):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
