import type { ClusterClient } from '@ccg/cluster-client';
import type { BlockRepository, ClusterRepository } from '@ccg/db';
import type { MetricsService } from '@ccg/metrics';
import type { PrecheckGate } from '@ccg/registry';

/** What every operations service needs; built once in the API's composition. */
export interface OperationsContext {
  clusters: ClusterRepository;
  blocks: BlockRepository;
  metrics: MetricsService;
  client: ClusterClient;
  gate: PrecheckGate;
}
