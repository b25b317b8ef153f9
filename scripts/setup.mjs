#!/usr/bin/env node
// First-run setup behind `npm start` / `npm test` / `npm run build`: gets the pinned pnpm
// (into .tools/, never globally), installs the workspace when the lockfile changed, and builds
// (turbo skips what is up to date). Uses only Node's standard library.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const toolsBin = path.join(root, '.tools', 'node_modules', '.bin');

export function toolEnv() {
  const env = { ...process.env, PATH: `${toolsBin}${path.delimiter}${process.env.PATH ?? ''}`, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };
  // pnpm ignores ~/.npmrc's nodedir; native builds must not try to download Node headers.
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  return env;
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`[setup] ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

function pnpmVersion(bin, env) {
  try {
    return execFileSync(bin, ['--version'], { env, cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

function ensurePnpm(env) {
  const local = path.join(toolsBin, 'pnpm');
  if (existsSync(local) && pnpmVersion(local, env) === PNPM_VERSION) return local;
  console.log(`[setup] installing pnpm ${PNPM_VERSION} into .tools/`);
  run('npm', ['install', '--prefix', path.join(root, '.tools'), '--no-audit', '--no-fund', '--no-save', `pnpm@${PNPM_VERSION}`], env);
  return local;
}

function installNeeded() {
  const marker = path.join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (!existsSync(marker)) return true;
  const lockTime = statSync(path.join(root, 'pnpm-lock.yaml')).mtimeMs;
  return lockTime > statSync(marker).mtimeMs || readFileSync(marker, 'utf8') !== readFileSync(path.join(root, 'pnpm-lock.yaml'), 'utf8');
}

const env = toolEnv();
const pnpm = ensurePnpm(env);
if (installNeeded()) {
  console.log('[setup] installing dependencies');
  run(pnpm, ['install', '--frozen-lockfile'], { ...env, CI: 'true' });
}
if (!process.argv.includes('--no-build')) {
  run(pnpm, ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], env);
}
