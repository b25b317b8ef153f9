/**
 * A Kubernetes object client for one kubeconfig and one task: every request carries a time
 * limit and the task's AbortSignal (cancel stops in-flight requests too).
 */
import {
  ApiException,
  KubernetesObjectApi,
  ServerConfiguration,
  createConfiguration,
  type KubeConfig,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { toKubeConfig, type KubeconfigDoc } from './kubeconfig.js';

export interface ClientOptions {
  requestTimeoutMs: number;
  signal?: AbortSignal;
}

export function kubeClient(source: KubeconfigDoc | KubeConfig, opts: ClientOptions): KubernetesObjectApi {
  const kc = 'getCurrentCluster' in source ? source : toKubeConfig(source);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (ctx: RequestContext) => {
          const timeout = AbortSignal.timeout(opts.requestTimeoutMs);
          ctx.setSignal(opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout);
          return ctx;
        },
        post: async (rsp: ResponseContext) => rsp,
      },
    ],
  });
  // Every namespaced object we send names its namespace, so the context's default is not needed.
  return new KubernetesObjectApi(configuration);
}

/** The HTTP status of a client-node error, undefined for network errors. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export const isNotFound = (err: unknown): boolean => statusOf(err) === 404;

/** A short readable reason: the API server's Status message, or the network error. */
export function errorText(err: unknown): string {
  if (err instanceof ApiException) {
    let message: string | undefined;
    const body = err.body as unknown;
    try {
      const parsed = typeof body === 'string' ? JSON.parse(body) : body;
      if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') message = (parsed as { message: string }).message;
    } catch {
      message = typeof body === 'string' ? body.slice(0, 300) : undefined;
    }
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  if (err instanceof Error) {
    const name = err.name === 'AbortError' || err.name === 'TimeoutError' ? 'request aborted or timed out' : err.message;
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
    return cause && !name.includes(cause) ? `${name} (${cause})` : name;
  }
  return String(err);
}
