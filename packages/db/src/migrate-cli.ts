/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the zero-setup embedded database). */
import { connectDb } from './connection.js';
import { migrateToLatest } from './migrate.js';
import path from 'node:path';

const dataDir = process.env.DATA_DIR ?? '.data';
const embedded = process.env.DATABASE_URL ? undefined : await (await import('./embedded.js')).startEmbeddedPostgres(path.join(dataDir, 'postgres'));
const handle = await connectDb({ connectionString: process.env.DATABASE_URL ?? embedded!.url });
try {
  const applied = await migrateToLatest(handle.db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await handle.close();
  await embedded?.stop();
}
