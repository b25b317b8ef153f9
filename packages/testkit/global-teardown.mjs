import { dropTestSchemas } from './global-setup.mjs';

export default async function globalTeardown() {
  if (globalThis.__ccgEmbedded) {
    await globalThis.__ccgEmbedded.stop();
    return;
  }
  if (process.env.TEST_DATABASE_URL) await dropTestSchemas(process.env.TEST_DATABASE_URL, process.env.CCG_TEST_RUN_ID).catch(() => undefined);
}
