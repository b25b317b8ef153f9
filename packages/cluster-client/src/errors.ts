import { GatewayError } from '@ccg/contracts';

/** Which of a cluster's services a call went to: the `config.urlMap` key it was resolved from. */
export type ClusterService =
  | 'controllerService'
  | 'metricsService'
  | 'parameterUpdater'
  | 'membershipServer'
  | 'blocksQuery'
  | 'publicGateway';

export interface UpstreamErrorDetails {
  service: ClusterService;
  method: string;
  url: string;
  /** The upstream HTTP status; null when no response arrived (connection refused or reset). */
  upstream_status: number | null;
  /** The upstream body: parsed JSON, else its text (cut to 4 KiB); null when there was none. */
  upstream_body: unknown;
  /** For network failures: what went wrong (e.g. `ECONNREFUSED`). */
  cause?: string;
  /** How many requests were sent (GETs are retried). */
  attempts: number;
}

/**
 * 502: a cluster service failed — a non-2xx status, a body that is not JSON, a connection that
 * was refused or reset, or a 200 whose JSON says `success: false`. The upstream body is kept.
 */
export class UpstreamError extends GatewayError {
  declare readonly details: UpstreamErrorDetails;
  constructor(message: string, details: UpstreamErrorDetails) {
    super(502, 'UPSTREAM_ERROR', message, details);
  }
}

export interface UpstreamTimeoutDetails {
  service: ClusterService;
  method: string;
  url: string;
  timeout_ms: number;
  attempts: number;
}

/** 504: a cluster service did not answer within the timeout. */
export class UpstreamTimeoutError extends GatewayError {
  declare readonly details: UpstreamTimeoutDetails;
  constructor(details: UpstreamTimeoutDetails) {
    super(
      504,
      'UPSTREAM_TIMEOUT',
      `${details.service} did not answer ${details.method} ${details.url} within ${details.timeout_ms} ms`,
      details,
    );
  }
}

/**
 * 409: the cluster's registry document has no usable URL for the service a call needs
 * (`config.urlMap` missing, or the key missing or not an http(s) URL). Nothing was sent.
 */
export class ClusterInfraNotReadyError extends GatewayError {
  constructor(clusterId: string, key: string, problem: string) {
    super(
      409,
      'CLUSTER_INFRA_NOT_READY',
      `cluster ${clusterId} is not ready for this call: ${key} ${problem}`,
      { cluster_id: clusterId, missing: key, problem },
    );
  }
}
