import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets (kubeconfigs) travel through the queue sealed with AES-256-GCM under a key shared by
 * API and workers; they are never written to Postgres or logs.
 */
export function sealSecrets(key: Buffer, secrets: Record<string, string>): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join('.');
}

export function openSecrets(key: Buffer, sealed: string): Record<string, string> {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64'));
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8'));
}
