import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { JsonObject } from '@ccg/contracts';
import {
  PolicyRuntimeError,
  PolicyTimeoutError,
  type EvalRequest,
  type EvalResult,
  type PolicyRuntime,
} from '../runtime.js';

export interface PythonRuntimeOptions {
  /** Number of worker processes (default 2). */
  poolSize?: number;
  /** Python interpreter (default `python3`). */
  pythonPath?: string;
  /** RLIMIT_AS of each worker in bytes (default 512 MiB). */
  memoryLimitBytes?: number;
}

export interface ExtractedArchive {
  /** Text of `code/function.py`. */
  code: string;
  /** Text of `code/requirements.txt`, or null when the archive has none. */
  requirements: string | null;
}

interface Job {
  id: number;
  /** Rule URI, or `<archive>` for extract; used in error messages. */
  label: string;
  /** The protocol line, serialized up front so a non-JSON input fails before it takes a worker. */
  line: string;
  timeoutMs: number;
  resolve(response: Record<string, unknown>): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  worker?: Worker;
}

interface Worker {
  child: ChildProcessWithoutNullStreams;
  job: Job | null;
  /** Has answered once: its interpreter start-up is behind it. */
  warm: boolean;
  stdout: string;
  /** Last bit of stderr (rule prints, Python fatal errors), quoted when the process dies. */
  stderrTail: string;
  dead: boolean;
  exited: Promise<void>;
}

/** Never the gateway's environment: DATABASE_URL, REDIS_URL, KUBECONFIG_ENCRYPTION_KEY stay invisible. */
function minimalEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONNOUSERSITE: '1',
    HOME: '/nonexistent',
  };
}

const RUNNER = fileURLToPath(new URL('../../python/policy_runner.py', import.meta.url));
const STDERR_TAIL = 2000;
/** Extra time for the first request of a new process (interpreter start, imports). */
const STARTUP_GRACE_MS = 5_000;

/**
 * Runs Python `AIOSv1PolicyRule` classes in a pool of long-lived `policy_runner.py` processes.
 * Each process keeps warm rule instances (keyed by uri@sha256) and handles one request at a time.
 * A process that times out is SIGKILLed and replaced; one that dies fails only its own request.
 * Isolation is environment + rlimits only (no filesystem or network sandbox).
 */
export class PythonRuntime implements PolicyRuntime {
  readonly name = 'python' as const;
  private readonly poolSize: number;
  private readonly pythonPath: string;
  private readonly memoryLimitBytes: number;
  private readonly workers: Worker[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** The real interpreter behind `pythonPath` (a pyenv-style shim adds ~0.5 s and its own env vars). */
  private executable?: string;
  private resolving = false;

  constructor(options: PythonRuntimeOptions = {}) {
    this.poolSize = Math.max(1, options.poolSize ?? 2);
    this.pythonPath = options.pythonPath ?? 'python3';
    this.memoryLimitBytes = options.memoryLimitBytes ?? 512 * 1024 * 1024;
    if (!existsSync(RUNNER)) throw new Error(`policy runner script not found at ${RUNNER}`);
  }

  async evaluate(req: EvalRequest): Promise<EvalResult> {
    const { rule } = req;
    const response = await this.submit(rule.uri, req.timeoutMs, {
      op: 'eval',
      key: `${rule.uri}@${rule.sha256}`,
      uri: rule.uri,
      code: rule.code,
      settings: rule.settings,
      parameters: rule.parameters,
      eval_parameters: req.parameters,
      input: req.input ?? null,
      context: req.context,
    });
    return { output: response.output ?? null, context: (response.context ?? {}) as JsonObject };
  }

  /** Reads `code/function.py` and `code/requirements.txt` from an AIOS policy archive (zip, tar, tar.gz, tar.xz). */
  async extractArchive(archive: Buffer, timeoutMs = 10_000): Promise<ExtractedArchive> {
    const response = await this.submit('<archive>', timeoutMs, { op: 'extract', archive_base64: archive.toString('base64') });
    return { code: String(response.code), requirements: typeof response.requirements === 'string' ? response.requirements : null };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.fail(job, new PolicyRuntimeError(job.label, 'python runtime closed'));
    const exits = this.workers.map((w) => w.exited);
    for (const w of [...this.workers]) this.retire(w, 'python runtime closed');
    await Promise.all(exits);
  }

  /**
   * The deadline starts when the request reaches a process: queueing behind other rules and a
   * fresh interpreter's start-up (STARTUP_GRACE_MS) do not count against a rule's time limit.
   */
  private submit(label: string, timeoutMs: number, request: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new PolicyRuntimeError(label, 'python runtime closed'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const job: Job = { id, label, line: JSON.stringify({ id, ...request }) + '\n', timeoutMs, resolve, reject };
      this.queue.push(job);
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.executable === undefined) return this.resolveExecutable();
    while (this.queue.length > 0 && !this.closed) {
      let worker = this.workers.find((w) => !w.job && !w.dead && w.child.exitCode === null && w.child.signalCode === null);
      if (!worker) {
        if (this.workers.length >= this.poolSize) return;
        worker = this.spawnWorker();
      }
      const job = this.queue.shift()!;
      job.worker = worker;
      worker.job = job;
      job.timer = setTimeout(() => this.onTimeout(job), job.timeoutMs + (worker.warm ? 0 : STARTUP_GRACE_MS));
      worker.stderrTail = '';
      worker.child.stdin.write(job.line);
    }
  }

  private resolveExecutable(): void {
    if (this.resolving || this.queue.length === 0) return;
    this.resolving = true;
    const probe = ['-I', '-c', 'import sys; print(sys.executable)'];
    execFile(this.pythonPath, probe, { cwd: os.tmpdir(), env: minimalEnv(), timeout: 10_000 }, (err, stdout) => {
      this.resolving = false;
      if (err) {
        for (const job of this.queue.splice(0)) this.fail(job, new PolicyRuntimeError(job.label, `cannot run ${this.pythonPath}: ${err.message}`));
        return;
      }
      this.executable = stdout.trim() || this.pythonPath;
      this.dispatch();
    });
  }

  private spawnWorker(): Worker {
    const child = spawn(this.executable!, ['-I', '-u', '-B', RUNNER, String(this.memoryLimitBytes)], {
      cwd: os.tmpdir(),
      env: minimalEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let onExit!: () => void;
    const worker: Worker = { child, job: null, warm: false, stdout: '', stderrTail: '', dead: false, exited: new Promise((r) => (onExit = r)) };
    this.workers.push(worker);

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onStdout(worker, chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      worker.stderrTail = (worker.stderrTail + chunk).slice(-STDERR_TAIL);
    });
    // EPIPE and friends when the process is gone; 'exit' / 'error' on the child do the cleanup.
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream.on('error', () => undefined);
    child.on('error', (err) => {
      onExit(); // a failed spawn never emits 'exit'
      this.retire(worker, `python process error: ${err.message}`);
    });
    child.on('exit', (code, signal) => {
      onExit();
      const reason = `python process exited (${signal ?? `code ${code}`})`;
      // A response written just before exiting may still be in the stdout pipe.
      if (child.stdout.readableEnded) this.retire(worker, reason);
      else {
        child.stdout.once('close', () => this.retire(worker, reason));
        setTimeout(() => this.retire(worker, reason), 200).unref();
      }
    });
    return worker;
  }

  private onStdout(worker: Worker, chunk: string): void {
    worker.stdout += chunk;
    let nl: number;
    while ((nl = worker.stdout.indexOf('\n')) >= 0) {
      const line = worker.stdout.slice(0, nl);
      worker.stdout = worker.stdout.slice(nl + 1);
      const job = worker.job;
      let response: Record<string, unknown>;
      try {
        response = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.retire(worker, `python process wrote an invalid protocol line: ${line.slice(0, 200)}`);
        return;
      }
      if (!job || response.id !== job.id) continue;
      worker.job = null;
      worker.warm = true;
      clearTimeout(job.timer);
      if (response.ok === true) job.resolve(response);
      else job.reject(new PolicyRuntimeError(job.label, String(response.error ?? 'unknown error')));
      this.dispatch();
    }
  }

  private onTimeout(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    job.reject(new PolicyTimeoutError(job.label, job.timeoutMs));
    const worker = job.worker;
    if (worker && worker.job === job) {
      worker.job = null;
      this.retire(worker, 'timed out');
    }
  }

  /** Kills a worker (idempotent), fails its in-flight request and lets dispatch start a replacement. */
  private retire(worker: Worker, reason: string): void {
    if (worker.dead) return;
    worker.dead = true;
    this.workers.splice(this.workers.indexOf(worker), 1);
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    const job = worker.job;
    worker.job = null;
    if (job) {
      const stderr = worker.stderrTail.trim().split('\n').slice(-5).join('\n');
      this.fail(job, new PolicyRuntimeError(job.label, stderr ? `${reason}; stderr: ${stderr}` : reason));
    }
    this.dispatch();
  }

  private fail(job: Job, err: Error): void {
    clearTimeout(job.timer);
    job.reject(err);
  }
}
