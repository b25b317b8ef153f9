import type { FieldError } from './errors.js';
import type { KubeObject } from './types.js';
import { isPlainObject } from './types.js';

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

const needsNodePorts = (type: unknown): boolean => type === 'NodePort' || type === 'LoadBalancer';

/**
 * Allocation of a Service's clusterIP (from 10.96.0.0/12) and node ports (30000-32767), as the
 * API server does it: given ports are checked against the range and the other Services, missing
 * ones are assigned, and an update keeps what was allocated before (the server's "patch
 * allocated values"), so a replace without clusterIP/nodePort does not change them.
 */
export class ServiceNetwork {
  private nextIp = 10;

  /** Fills in allocations on `svc` (validated shape); returns field errors instead of allocating when invalid. */
  allocate(svc: KubeObject, old: KubeObject | undefined, others: KubeObject[]): FieldError[] {
    const spec = svc.spec as Record<string, any>;
    if (spec.type === 'ExternalName') return [];
    this.keepAllocated(spec, old?.spec);
    const errors: FieldError[] = [];
    const usedPorts = new Set<number>();
    for (const o of others) for (const p of o.spec?.ports ?? []) if (Number.isInteger(p?.nodePort)) usedPorts.add(p.nodePort);
    const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
    const mine = new Set<number>();
    ports.forEach((p, i) => {
      if (!isPlainObject(p) || !needsNodePorts(spec.type)) return;
      if (p.nodePort === undefined || p.nodePort === 0) return;
      const at = `spec.ports[${i}].nodePort`;
      if (!Number.isInteger(p.nodePort) || p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX) {
        errors.push({ field: at, type: 'Invalid', value: p.nodePort, detail: `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}` });
      } else if (usedPorts.has(p.nodePort)) {
        errors.push({ field: at, type: 'Invalid', value: p.nodePort, detail: 'provided port is already allocated' });
      } else if (mine.has(p.nodePort) && !ports.slice(0, i).some((q) => q.nodePort === p.nodePort && q.protocol !== p.protocol)) {
        errors.push({ field: at, type: 'Duplicate', value: p.nodePort });
      }
      mine.add(p.nodePort);
    });
    if (errors.length) return errors;
    if (needsNodePorts(spec.type)) {
      for (const p of ports) {
        if (!isPlainObject(p) || (p.nodePort !== undefined && p.nodePort !== 0)) continue;
        p.nodePort = this.freeNodePort(new Set([...usedPorts, ...mine]));
        mine.add(p.nodePort);
      }
    } else {
      for (const p of ports) if (isPlainObject(p)) delete p.nodePort;
    }
    if (!spec.clusterIP) {
      const usedIps = new Set(others.map((o) => o.spec?.clusterIP));
      spec.clusterIP = this.freeClusterIp(usedIps);
    }
    spec.clusterIPs = [spec.clusterIP];
    return [];
  }

  private keepAllocated(spec: Record<string, any>, oldSpec: Record<string, any> | undefined): void {
    if (!oldSpec) return;
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!needsNodePorts(spec.type) || !needsNodePorts(oldSpec.type)) return;
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!isPlainObject(p) || (p.nodePort !== undefined && p.nodePort !== 0)) continue;
      const before = (oldSpec.ports ?? []).find((q: any) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (before?.nodePort) p.nodePort = before.nodePort;
    }
  }

  private freeNodePort(used: Set<number>): number {
    // Random start like the real allocator, so tests do not depend on the order of creation.
    const span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = NODE_PORT_MIN + ((start + i) % span);
      if (!used.has(port)) return port;
    }
    throw new Error('fake-kube: node ports exhausted');
  }

  private freeClusterIp(used: Set<unknown>): string {
    for (;;) {
      const n = this.nextIp++;
      const ip = `10.96.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
      if (!used.has(ip)) return ip;
    }
  }
}
