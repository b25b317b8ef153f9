// `npm run bench`: runs every benchmark script in turn and reports which met its target.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const scripts = ['precheck-update.mjs', 'placement-filter.mjs'];
const results = [];
for (const s of scripts) {
  console.log(`\n=== ${s}`);
  const r = spawnSync(process.execPath, [path.join(dir, s)], { stdio: 'inherit' });
  results.push({ benchmark: s, result: r.status === 0 ? 'met target' : 'MISSED target' });
}
console.table(results);
process.exitCode = results.every((r) => r.result === 'met target') ? 0 : 1;
