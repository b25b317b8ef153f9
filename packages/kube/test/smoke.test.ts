import * as k8s from '@kubernetes/client-node';
test('client-node loads', () => { expect(typeof k8s.KubeConfig).toBe('function'); });
