/** Worker-thread side of JsThreadPool: one QuickJS runtime (with its warm rules) per thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { JsRuntime } from './js.js';
import type { PolicyRule } from '../runtime.js';

const runtime = new JsRuntime(workerData as { memoryLimitBytes?: number });

// Only strings cross the thread boundary: the arguments and the result stay JSON text.
parentPort!.on('message', async (msg: { id: number; rule: PolicyRule; args: string; timeoutMs: number }) => {
  try {
    const packed = await runtime.evaluatePacked(msg.rule, msg.args, msg.timeoutMs);
    parentPort!.postMessage({ id: msg.id, ok: true, packed });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, name: (err as Error).name, message: (err as Error).message });
  }
});
