import type { Express } from 'express';
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { QueueBackend } from '@ccg/tasks';

type ViewEngine = (path: string, options: object, callback: (err: Error | null, html?: string) => void) => void;

// The UI's page links web fonts from Google; everything else it needs is served locally. The
// link is dropped so the dashboard makes no third-party request (it falls back to system fonts).
const EXTERNAL_FONTS = /<link[^>]+href="https:\/\/fonts\.googleapis\.com[^>]*>\s*/g;

/**
 * bull-board over every lane's queue, as an Express app to mount at `basePath`. Read-only: the
 * task API (cancel, retry) is the way to change work, since Postgres holds each task's truth and
 * a job retried or removed behind its back would disagree with it. Works on both queue backends
 * (on Postgres the dashboard shows Postgres server stats where Redis would show Redis's).
 */
export function queueDashboard(queues: QueueBackend, lanes: string[], basePath = '/admin/queues'): Express {
  const serverAdapter = new ExpressAdapter().setBasePath(basePath);
  createBullBoard({
    queues: lanes.map((lane) => new BullMQAdapter(queues.queue(lane), { readOnlyMode: true })),
    // @bull-board/express 9.10.1 is typed against @bull-board/api 9.10.1; at run time it only calls the adapter's methods.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: { uiConfig: { boardTitle: 'CCG queues' } },
  });
  const app = serverAdapter.getRouter() as Express & { engines: Record<string, ViewEngine> };
  const render = app.engines['.ejs'];
  if (render) {
    app.engine('ejs', (path, options, callback) =>
      render(path, options, (err, html) => callback(err, html === undefined ? html : html.replace(EXTERNAL_FONTS, ''))),
    );
  }
  return app;
}
