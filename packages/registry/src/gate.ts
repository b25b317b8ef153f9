/** What a write knows about who asked and why; the pre-check logs it with the decision. */
export interface WriteMeta {
  actor?: string | null;
  requestId?: string | null;
  taskId?: string | null;
  /** The cluster the action concerns (selects that cluster's pre-check map). */
  clusterId?: string | null;
}

/**
 * The pre-check gate every write passes through. Services call `check(action, input, meta)`
 * before they write and continue with the input it returns (a policy may rewrite it).
 * `allowAll` is the gate with no policies (tests of the registry alone).
 */
export interface PrecheckGate {
  check<T>(action: string, input: T, meta?: WriteMeta): Promise<T>;
}

export const allowAll: PrecheckGate = {
  async check(_action, input) {
    return input;
  },
};
