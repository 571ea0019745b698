/**
 * The local Lambda invoke port when an API key is set. serverless-offline answers Lambda Invoke
 * for every function, the state machine's steps included, and has no authentication of its own:
 * anyone able to reach its port could, say, fail a live run through failRun. So with API_KEY set
 * the stack binds serverless-offline's Lambda server to a unix socket in a private (0700) directory,
 * and this gate listens on LAMBDA_PORT (127.0.0.1) and forwards only the requests that carry the
 * key in `x-api-key` (compared in constant time); the others get 401 or 403 in the Lambda API's
 * error shape.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameSecret } from '../../lib/runtime/http.ts';

export interface LambdaGate {
  url: string;
  stop(): Promise<void>;
}

export interface LambdaGateOptions {
  port: number;
  /** serverless-offline's Lambda server. */
  socketPath: string;
  apiKey: string;
  host?: string;
}

export async function startLambdaGate(options: LambdaGateOptions): Promise<LambdaGate> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((request, response) => {
    const header = request.headers['x-api-key'];
    const given = Array.isArray(header) ? header[0] : header;
    if (!given || !sameSecret(given, options.apiKey)) {
      const [status, type] = given ? [403, 'AccessDeniedException'] : [401, 'UnrecognizedClientException'];
      response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      response.end(JSON.stringify({ Type: 'User', message: given ? 'the x-api-key header is not valid' : 'this local Lambda endpoint needs the x-api-key header (API_KEY)' }));
      request.resume();
      return;
    }
    const { 'x-api-key': _key, ...headers } = request.headers;
    const upstream = http.request({ socketPath: options.socketPath, path: request.url, method: request.method, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceException' });
      response.end(JSON.stringify({ Type: 'Service', message: `the local Lambda server did not answer: ${error.message}` }));
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`the local Lambda gate cannot listen on ${host}:${options.port}: ${error.message}`, { cause: error })));
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
