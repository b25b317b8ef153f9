import { describe, expect, it } from '@jest/globals';
import { createLogger, redactSecrets } from '@ccg/runtime';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe('createLogger redaction', () => {
  it('redacts kubeconfigs, tokens, keys and passwords at any depth, in log objects and child bindings', () => {
    const { lines, destination } = capture();
    const log = createLogger({ logLevel: 'trace' }, 'test', destination);
    log.info(
      {
        req: { headers: { authorization: 'Bearer S1-bearer', 'X-Api-Key': 'S2-apikey', accept: 'application/json' } },
        body: { cluster_id: 'c1', kube_config_data: 'S3-kubeconfig' },
        task: { input: { nested: { deeper: { token: 'S4-token', password: 'S5-password' } } } },
        list: [{ api_key: 'S6-key' }, { secrets: { kube: 'S7-secret' } }],
        kubeconfig: { users: [{ user: { 'client-key-data': 'S8-ckd' } }] },
        Authorization: 'Basic S9-basic',
      },
      'request with secrets',
    );
    log.child({ token: 'S10-child' }).warn('child');
    const text = lines.join('');
    for (let i = 1; i <= 10; i++) expect(text).not.toContain(`S${i}-`);
    const first = JSON.parse(lines[0]!);
    expect(first.req.headers).toEqual({ authorization: '[redacted]', 'X-Api-Key': '[redacted]', accept: 'application/json' });
    expect(first.body).toEqual({ cluster_id: 'c1', kube_config_data: '[redacted]' });
    expect(first.task.input.nested.deeper).toEqual({ token: '[redacted]', password: '[redacted]' });
    expect(first.msg).toBe('request with secrets');
    expect(JSON.parse(lines[1]!).token).toBe('[redacted]');
  });

  it('returns objects without secrets as they are (no copy on the hot path)', () => {
    const plain = { request_id: 'r1', method: 'GET', nested: { a: [1, 2, { b: 'c' }] } };
    expect(redactSecrets(plain)).toBe(plain);
    const withSecret = { a: { token: 't' }, b: { c: 1 } };
    const out = redactSecrets(withSecret);
    expect(out).toEqual({ a: { token: '[redacted]' }, b: { c: 1 } });
    expect(out.b).toBe(withSecret.b);
    expect(withSecret.a.token).toBe('t'); // the caller's object is not changed
  });
});
