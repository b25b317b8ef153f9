import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '@ccg/testkit';

interface SseEvent {
  event: string;
  data: any;
}

/** Reads a server-sent-event stream to its end (the server closes it after `end`). */
async function readEvents(url: string, headers: Record<string, string>): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers } });
  const text = await res.text();
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l && !l.startsWith(':'));
    const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
    const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
    if (event && data) events.push({ event, data: JSON.parse(data) });
  }
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}

describe('GET /tasks/:id/events (server-sent events)', () => {
  let gw: TestGateway;
  const auth = () => ((gw as unknown as { authHeaders?: Record<string, string> }).authHeaders ?? {});
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  it('streams each step as it completes, then the terminal state, then closes', async () => {
    const submit = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 3, step_ms: 250 });
    expect(submit.status).toBe(200);
    const id = submit.body.data.task_id;
    const { status, contentType, events } = await readEvents(`${gw.url}/tasks/${id}/events`, auth());
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    const taskEvents = events.filter((e) => e.event === 'task');
    // Every state the stream showed is a real task view; the steps complete in order.
    const completedCounts = taskEvents.map((e) => e.data.steps.filter((s: any) => s.status === 'completed').length);
    expect(completedCounts).toEqual([...completedCounts].sort((a, b) => a - b));
    expect(new Set(completedCounts).size).toBeGreaterThanOrEqual(3);
    expect(taskEvents.at(-1)!.data.task_status).toBe('completed');
    expect(taskEvents.at(-1)!.data.steps.map((s: any) => s.name)).toEqual(['step-1', 'step-2', 'step-3']);
    expect(events.at(-1)).toEqual({ event: 'end', data: { task_id: id, task_status: 'completed' } });
  });

  it('ends at once for a finished task, and a failed task ends with failed', async () => {
    const submit = await gw.request('POST', '/admin/diagnostics/tasks', { steps: 2, step_ms: 10, fail_at_step: 2, fail_message: 'boom' });
    const id = submit.body.data.task_id;
    const first = await readEvents(`${gw.url}/tasks/${id}/events`, auth());
    expect(first.events.at(-1)).toEqual({ event: 'end', data: { task_id: id, task_status: 'failed' } });
    const again = await readEvents(`${gw.url}/tasks/${id}/events`, auth());
    expect(again.events.map((e) => e.event)).toEqual(['task', 'end']);
    expect(again.events[0].data.task_status_data.error).toMatch(/boom/);
  });

  it('answers 404 in the error envelope for an unknown task', async () => {
    const res = await fetch(`${gw.url}/tasks/00000000-0000-4000-8000-000000000000/events`, { headers: auth() });
    expect(res.status).toBe(404);
    expect((await res.json()).success).toBe(false);
  });
});
