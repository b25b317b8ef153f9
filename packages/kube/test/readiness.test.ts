/** The rollout rules on status documents as the API server reports them (kubectl rollout status). */
import { describe, expect, it } from '@jest/globals';
import { daemonSetState, deploymentState, statefulSetState } from '@ccg/kube';

const obj = (generation: number, spec: object, status: object) => ({ apiVersion: 'apps/v1', kind: 'X', metadata: { name: 'x', generation }, spec, status });

describe('Deployment', () => {
  it('is not done before the controller observed the generation, even when the counts match', () => {
    expect(deploymentState(obj(2, { replicas: 1 }, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })).done).toBe(false);
    expect(deploymentState(obj(2, { replicas: 1 }, {})).done).toBe(false);
  });
  it('waits for updated, old and available replicas in kubectl order', () => {
    expect(deploymentState(obj(1, { replicas: 2 }, { observedGeneration: 1, updatedReplicas: 1, replicas: 2 })).message).toBe('1 out of 2 new replicas have been updated');
    expect(deploymentState(obj(1, { replicas: 2 }, { observedGeneration: 1, updatedReplicas: 2, replicas: 3 })).message).toBe('1 old replicas are pending termination');
    expect(deploymentState(obj(1, { replicas: 2 }, { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 1 })).message).toBe('1 of 2 updated replicas are available');
    expect(deploymentState(obj(1, { replicas: 2 }, { observedGeneration: 1, updatedReplicas: 2, replicas: 2, availableReplicas: 2 })).done).toBe(true);
  });
  it('fails on ProgressDeadlineExceeded', () => {
    const s = deploymentState(obj(1, { replicas: 1 }, { observedGeneration: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x-1" has timed out progressing.' }] }));
    expect(s).toMatchObject({ done: false, failed: true });
    expect(s.message).toContain('timed out progressing');
  });
});

describe('StatefulSet', () => {
  const base = { observedGeneration: 3, readyReplicas: 2, updatedReplicas: 2, currentRevision: 'r2', updateRevision: 'r2' };
  it('needs ready and updated replicas and the current revision', () => {
    expect(statefulSetState(obj(3, { replicas: 2 }, base)).done).toBe(true);
    expect(statefulSetState(obj(3, { replicas: 2 }, { ...base, readyReplicas: 1 })).message).toBe('1 of 2 pods are ready');
    expect(statefulSetState(obj(3, { replicas: 2 }, { ...base, currentRevision: 'r1' })).done).toBe(false);
    expect(statefulSetState(obj(4, { replicas: 2 }, base)).done).toBe(false);
  });
  it('respects a rolling update partition and OnDelete', () => {
    const partitioned = { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } };
    expect(statefulSetState(obj(3, partitioned, { ...base, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'r1' })).done).toBe(true);
    expect(statefulSetState(obj(3, partitioned, { ...base, readyReplicas: 3, updatedReplicas: 0 })).done).toBe(false);
    expect(statefulSetState(obj(3, { replicas: 2, updateStrategy: { type: 'OnDelete' } }, { ...base, currentRevision: 'r1' })).done).toBe(true);
  });
});

describe('DaemonSet', () => {
  it('needs every desired pod updated and available', () => {
    expect(daemonSetState(obj(1, {}, { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 })).message).toBe('1 of 2 updated pods are available');
    expect(daemonSetState(obj(1, {}, { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 1, numberAvailable: 2 })).done).toBe(false);
    expect(daemonSetState(obj(1, {}, { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 })).done).toBe(true);
  });
  it('zero desired pods is done only when no node is eligible (the original compared 0 == 0)', () => {
    const zero = obj(1, {}, { observedGeneration: 1, desiredNumberScheduled: 0 });
    expect(daemonSetState(zero, 2).done).toBe(false);
    expect(daemonSetState(zero, 0).done).toBe(true);
    expect(daemonSetState(obj(1, {}, {}), 0).done).toBe(false);
  });
});
