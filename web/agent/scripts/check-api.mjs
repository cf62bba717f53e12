// Fails when src/api/schema.d.ts no longer matches ../../schemas/openapi.json (run `npm run gen:api`).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const root = new URL('../', import.meta.url);
const schemaUrl = new URL('../../schemas/openapi.json', root);
const committed = await readFile(new URL('src/api/schema.d.ts', root), 'utf8');
const ast = await openapiTS(schemaUrl);
const fresh = astToString(ast);

const normalise = (text) => text.replace(/\r\n/g, '\n').trim();
// The CLI writes a header comment before the generated types; compare the types themselves.
const body = (text) => normalise(text).replace(/^\/\*\*[\s\S]*?\*\/\s*/, '');
if (body(committed) !== body(fresh)) {
  console.error(`src/api/schema.d.ts is stale against ${fileURLToPath(schemaUrl)}; run \`npm run gen:api\``);
  process.exit(1);
}
console.log('src/api/schema.d.ts matches schemas/openapi.json');
