/** Worker-thread side of JsThreadPool: one QuickJS runtime (with its warm rules) per thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { JsRuntime } from './js.js';
import type { EvalRequest } from '../runtime.js';

const runtime = new JsRuntime(workerData as { memoryLimitBytes?: number });

parentPort!.on('message', async (msg: { id: number; req: EvalRequest }) => {
  try {
    const result = await runtime.evaluate(msg.req);
    parentPort!.postMessage({ id: msg.id, ok: true, result });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, name: (err as Error).name, message: (err as Error).message });
  }
});
