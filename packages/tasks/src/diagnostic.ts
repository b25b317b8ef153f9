import { diagnosticTaskSchema } from '@ccg/contracts';
import type { TaskDefinition } from './definition.js';
import { RetryableError } from './errors.js';

export interface DiagnosticInput {
  steps?: number;
  step_ms?: number;
  fail_at_step?: number;
  fail_message?: string;
  transient_failures?: number;
  secret?: string;
  cluster_id?: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The admin diagnostic task: N steps that each wait `step_ms`, optionally failing. Operators use
 * it to check the queue and workers end to end; tests and benchmarks drive the task machinery
 * with it.
 */
export const diagnosticTask: TaskDefinition<DiagnosticInput, { steps_run: number; secret_received: boolean }> = {
  type: 'diagnostic',
  lane: 'default',
  inputSchema: diagnosticTaskSchema,
  secretFields: ['secret'],
  plan: (input) => Array.from({ length: input.steps ?? 3 }, (_, i) => `step-${i + 1}`),
  clusterId: (input) => input.cluster_id,
  async run(ctx) {
    const { steps = 3, step_ms = 100, fail_at_step, fail_message, transient_failures = 0 } = ctx.input;
    for (let i = 1; i <= steps; i++) {
      await ctx.step(`step-${i}`, async ({ signal, attempt }) => {
        await sleep(step_ms, signal);
        if (i === fail_at_step) {
          if (attempt <= transient_failures) throw new RetryableError(`transient failure ${attempt} of ${transient_failures} at step ${i}`);
          if (transient_failures === 0) throw new Error(fail_message ?? `diagnostic failure at step ${i}`);
        }
        return { step: i, attempt };
      });
    }
    if (ctx.input.secret !== undefined && ctx.secrets.secret === undefined) throw new Error('the secret did not reach the worker');
    return { steps_run: steps, secret_received: ctx.secrets.secret !== undefined };
  },
};
