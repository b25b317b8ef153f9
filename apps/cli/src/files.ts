import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './errors.js';

/** The spec's sample scripts' default: `~/.kube/config`. */
export const defaultKubeconfigPath = (): string => process.env.KUBECONFIG?.split(path.delimiter)[0] || path.join(homedir(), '.kube', 'config');

export async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A JSON or YAML document from a file (`-` reads stdin). */
export async function readDocument(file: string, what: string): Promise<any> {
  const text = file === '-' ? await readStdin() : await readText(file, what);
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UsageError(`${what} ${file} is neither JSON nor YAML: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
