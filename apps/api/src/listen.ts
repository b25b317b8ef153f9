import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';

export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
    server.on('error', reject);
    // Node drops headers past a count (the Host header with them, then answers a bodiless 400);
    // the 16 KiB header size limit already bounds how many can come.
    server.maxHeadersCount = 0;
    server.on('clientError', answerClientError);
    server.on('checkExpectation', refuseExpectation);
  });
}

function envelope(code: string, message: string): string {
  return JSON.stringify({ success: false, message, error: { code, message } });
}

/**
 * Requests Node's HTTP parser refuses never reach Express: oversized headers (431), malformed
 * request lines or headers (400). Node's default answer has no body (and on a reused keep-alive
 * connection none at all); this one is the error envelope, then the connection closes.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'request headers are larger than the gateway accepts (16 KiB in all, request line included)']
      : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? [413, 'PAYLOAD_TOO_LARGE', 'chunk extensions are larger than the gateway accepts']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'REQUEST_TIMEOUT', 'the request was not received in time']
          : [400, 'MALFORMED_REQUEST', `malformed HTTP request (${err.code ?? err.message})`];
  const body = envelope(code, message);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** An `Expect` header other than 100-continue: 417 in the envelope (Node's default has no body). */
function refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
  const body = envelope('EXPECTATION_FAILED', `the gateway cannot meet the expectation "${String(req.headers.expect).slice(0, 200)}" (only 100-continue is supported)`);
  res.writeHead(417, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Request-Id': randomUUID(), Connection: 'close' });
  res.end(body);
}
