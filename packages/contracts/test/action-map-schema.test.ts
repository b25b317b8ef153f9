import { describe, expect, it } from '@jest/globals';
import { actionMapSchema, validate } from '@ccg/contracts';

describe('actionMapSchema', () => {
  // validate() caches compiled schemas by object identity: a new object per call made every
  // POST /pre-check-policies/update compile (and keep) another ajv validator (found by the fuzz tests).
  it('is one object per variant, so ajv compiles it once', () => {
    expect(actionMapSchema(true)).toBe(actionMapSchema(true));
    expect(actionMapSchema(false)).toBe(actionMapSchema(false));
    expect(actionMapSchema(true)).not.toBe(actionMapSchema(false));
  });

  it('still allows "" (removal) only in updates', () => {
    expect(validate(actionMapSchema(true), { add_node: '' })).toEqual({ add_node: '' });
    expect(() => validate(actionMapSchema(false), { add_node: '' })).toThrow(/add_node/);
  });
});
