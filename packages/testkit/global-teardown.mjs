export default async function globalTeardown() {
  await globalThis.__ccgEmbedded?.stop();
}
