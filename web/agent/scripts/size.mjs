// Prints the gzipped size of what the browser loads before the first screen: the entry chunk and every
// chunk it imports statically (lazy routes are listed separately). Reads dist/.vite/manifest.json.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('.vite/manifest.json', dist), 'utf8'));
const gz = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

const entryKey = Object.keys(manifest).find((key) => manifest[key].isEntry);
if (!entryKey) throw new Error('no entry in dist/.vite/manifest.json; run `npm run build` first');

const initial = new Set();
const css = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const file of chunk.css ?? []) css.add(file);
  for (const imported of chunk.imports ?? []) visit(imported);
};
visit(entryKey);

let jsTotal = 0;
console.log('initial JavaScript (gzip -9):');
for (const file of initial) {
  const size = gz(file);
  jsTotal += size;
  console.log(`  ${file.padEnd(48)} ${kb(size)}`);
}
const cssTotal = [...css].reduce((sum, file) => sum + gz(file), 0);
console.log(`initial JS total: ${kb(jsTotal)} (goal <= 250 KB)`);
console.log(`initial CSS total: ${kb(cssTotal)}`);
const lazy = Object.values(manifest).filter((chunk) => chunk.isDynamicEntry);
for (const chunk of lazy) console.log(`  lazy ${chunk.file.padEnd(43)} ${kb(gz(chunk.file))}`);
if (jsTotal > 250 * 1024) process.exitCode = 1;
