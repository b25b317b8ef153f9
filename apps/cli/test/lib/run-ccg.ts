import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot, type TestGateway } from '@ccg/testkit';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `ccg` as a user would, as a separate process. */
export function runCcg(gw: TestGateway, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const token = (gw as unknown as { adminToken?: string }).adminToken;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'apps/cli/dist/main.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CCG_URL: gw.url, ...(token ? { CCG_TOKEN: token } : {}), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
