/**
 * The pre-check gate every write passes through. Services call `check(action, input)` before
 * they write and continue with the input it returns (a policy may rewrite it). Until the policy
 * engine is wired in, `allowAll` lets everything through unchanged.
 */
export interface PrecheckGate {
  check<T extends object>(action: string, input: T, actor?: string | null): Promise<T>;
}

export const allowAll: PrecheckGate = {
  async check(_action, input) {
    return input;
  },
};
