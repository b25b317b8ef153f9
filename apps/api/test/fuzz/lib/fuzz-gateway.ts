import { startTestGateway, type TestGateway } from '@ccg/testkit';
import { RawClient } from './client.js';
import type { FuzzTarget } from './fuzz-route.js';
import type { Fixtures } from './route-specs.js';

/**
 * The gateway the fuzz tests talk to: in-process, no job workers (a task a case happens to
 * submit stays pending instead of running), a small body limit so the over-limit cases are cheap
 * (the cases read the configured limit, whatever it is).
 */
export const FUZZ_BODY_LIMIT = '64kb';

export interface FuzzGateway {
  gw: TestGateway;
  target: FuzzTarget;
  close(): Promise<void>;
}

/** Credentials the testkit attaches to requests, when the gateway checks them. */
export function credentialsOf(gw: TestGateway): Record<string, string> {
  return (gw as TestGateway & { authHeaders?: Record<string, string> }).authHeaders ?? {};
}

export async function startFuzzGateway(): Promise<FuzzGateway> {
  const gw = await startTestGateway({ worker: false, env: { BODY_LIMIT: FUZZ_BODY_LIMIT } });
  const auth = credentialsOf(gw);
  const client = new RawClient(gw.url, auth);
  const created = await gw.request('POST', '/clusters/create', { id: 'fuzz-updates', regionId: 'r1' }, auth);
  if (created.status !== 200) throw new Error(`fixture cluster: ${created.status} ${created.text}`);
  const fixtures: Fixtures = {
    clusterForUpdates: 'fuzz-updates',
    async cancelledTask() {
      const { task } = await gw.services.tasks.submit('diagnostic', { steps: 1, step_ms: 0 }, {});
      await gw.services.tasks.cancel(task.task_id, null);
      return task.task_id;
    },
  };
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  return {
    gw,
    target: { client, fixtures, bodyLimit: gw.config.bodyLimitBytes, authEnabled: Object.keys(auth).length > 0, seed },
    async close() {
      client.close();
      await gw.close();
    },
  };
}
