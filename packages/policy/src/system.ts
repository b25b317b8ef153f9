import type { Logger } from 'pino';
import type { Config } from '@ccg/config';
import { ChangeFeed, connectDb, DecisionRepository, notify, PolicyContextRepository, PolicyRepository, PrecheckMapRepository } from '@ccg/db';
import { ActionMap } from './action-map.js';
import { DecisionLog } from './decision-log.js';
import { PolicyEngine } from './engine.js';
import { PrecheckGate } from './gate.js';
import { PolicyRegistry } from './registry.js';
import { RemoteRuntime } from './remote.js';
import { AiosPolicySource } from './aios-policies.js';
import { JsThreadPool } from './runtimes/js-pool.js';
import { PythonRuntime } from './runtimes/python.js';

const CHANNEL = 'ccg_policy_changes';

export interface PolicySystem {
  registry: PolicyRegistry;
  actionMap: ActionMap;
  engine: PolicyEngine;
  gate: PrecheckGate;
  decisions: DecisionLog;
  decisionRepo: DecisionRepository;
  mapRepo: PrecheckMapRepository;
  close(): Promise<void>;
}

/**
 * Builds the pre-check policy system of one process. Caches (rules, map, contexts) are cleared
 * through a Postgres change feed, so a change made through any replica is seen by all.
 * It has its own small connection pool: a pre-check runs while a cluster update holds its row
 * lock, and must not wait for a connection held by requests queued behind that lock.
 */
export async function createPolicySystem(connectionString: string, config: Config['policy'], log: Logger): Promise<PolicySystem> {
  const handle = await connectDb({ connectionString, max: 5 });
  const { db, pool } = handle;
  let feed: ChangeFeed | undefined;
  const cacheEnabled = () => feed?.connected ?? false;
  const publish = (payload: string) => notify(pool, CHANNEL, payload).catch((err) => log.warn({ err: (err as Error).message }, 'could not publish a policy change'));

  const python = new PythonRuntime({ poolSize: config.pythonWorkers, pythonPath: config.pythonPath });
  const runtimes = { js: new JsThreadPool({ memoryLimitBytes: config.jsMemoryLimitBytes, threads: config.jsThreads }), python, remote: new RemoteRuntime() };
  const mapRepo = new PrecheckMapRepository(db);
  const actionMap = new ActionMap(config.actionsMap, mapRepo, cacheEnabled, () => publish('map'));
  const registry = new PolicyRegistry(new PolicyRepository(db), python, async (uri) => (await actionMap.urisInUse()).has(uri), (uri) => publish(`rule:${uri}`), config.policyDbUrl ? new AiosPolicySource(config.policyDbUrl, python) : undefined);
  const engine = new PolicyEngine(runtimes, new PolicyContextRepository(db), cacheEnabled, (uri) => publish(`ctx:${uri}`));
  const decisionRepo = new DecisionRepository(db);
  const decisions = new DecisionLog(decisionRepo, log);
  const gate = new PrecheckGate(actionMap, registry, engine, decisions, config.timeoutMs);

  feed = new ChangeFeed(
    connectionString,
    CHANNEL,
    (payload) => {
      if (payload === 'map') actionMap.invalidate();
      else if (payload.startsWith('ctx:')) engine.forgetContext(payload.slice(4));
      else if (payload.startsWith('rule:')) registry.forget(payload.slice(5));
    },
    () => {
      actionMap.invalidate();
      engine.forgetContext();
      registry.forget();
    },
  );
  await feed.start();

  return {
    registry,
    actionMap,
    engine,
    gate,
    decisions,
    decisionRepo,
    mapRepo,
    async close() {
      await feed?.close();
      await decisions.close();
      await engine.close();
      await handle.close();
    },
  };
}
