// Rewrites the route → role table in docs/AUTH.md from apps/api/src/auth/route-roles.ts (built
// into apps/api/dist). The test apps/api/test/auth-roles.test.ts fails while the two differ.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { DOC_BEGIN, DOC_END, renderRouteTable } = await import(pathToFileURL(path.join(root, 'apps/api/dist/auth/route-roles.js')).href);
const file = path.join(root, 'docs/AUTH.md');
const doc = await readFile(file, 'utf8');
const begin = doc.indexOf(DOC_BEGIN);
const end = doc.indexOf(DOC_END);
if (begin < 0 || end < begin) throw new Error(`${file} lacks the ${DOC_BEGIN} … ${DOC_END} markers`);
await writeFile(file, `${doc.slice(0, begin + DOC_BEGIN.length)}\n${renderRouteTable()}\n${doc.slice(end)}`);
console.log(`updated ${path.relative(root, file)}`);
