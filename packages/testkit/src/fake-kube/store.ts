import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

export interface StoredObject {
  rt: ResourceType;
  obj: KubeObject;
}

/**
 * Every object of the fake cluster, keyed by resource type, namespace and name, plus the
 * cluster-wide resourceVersion counter. Holds references: callers clone before handing out.
 */
export class Store {
  private readonly objects = new Map<string, StoredObject>();
  private counter = 1000;

  private key(rt: ResourceType, namespace: string | undefined, name: string): string {
    return `${rt.group}/${rt.plural}/${rt.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  nextResourceVersion(): string {
    return String(++this.counter);
  }

  currentResourceVersion(): string {
    return String(this.counter);
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(this.key(rt, namespace, name))?.obj;
  }

  set(rt: ResourceType, obj: KubeObject): void {
    this.objects.set(this.key(rt, obj.metadata.namespace, obj.metadata.name ?? ''), { rt, obj });
  }

  remove(rt: ResourceType, obj: KubeObject): boolean {
    return this.objects.delete(this.key(rt, obj.metadata.namespace, obj.metadata.name ?? ''));
  }

  /** Objects of one type (in one namespace when given), ordered by namespace then name like etcd keys. */
  list(rt: ResourceType, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const { rt: r, obj } of this.objects.values()) {
      if (r === rt && (namespace === undefined || obj.metadata.namespace === namespace)) out.push(obj);
    }
    return out.sort(byNamespaceAndName);
  }

  all(): StoredObject[] {
    return [...this.objects.values()].sort((a, b) => byNamespaceAndName(a.obj, b.obj));
  }

  findByUid(uid: string): StoredObject | undefined {
    for (const s of this.objects.values()) if (s.obj.metadata.uid === uid) return s;
    return undefined;
  }
}

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
