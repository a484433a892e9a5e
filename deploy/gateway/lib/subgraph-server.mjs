// A minimal GraphQL-over-HTTP server for the rail test subgraph
// (tests/federation/rail_subgraph/server.mjs): POST /graphql with a JSON body,
// GET /health, and any extra GET routes the caller adds. node:http only,
// bound to 127.0.0.1 by default. Not a production server: the real
// Harborgraph subgraph is the Python application.

import http from 'node:http';
import { graphql } from 'graphql';

const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export { HttpError };

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

async function readJsonBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

async function executeGraphQL(schema, req, buildContext) {
  const body = await readJsonBody(req);
  if (body === null || typeof body !== 'object' || typeof body.query !== 'string') {
    throw new HttpError(400, 'expected {"query": "...", "variables": {...}}');
  }
  const contextValue = await buildContext(req);
  return graphql({
    schema,
    source: body.query,
    variableValues: body.variables ?? undefined,
    operationName: body.operationName ?? undefined,
    contextValue,
  });
}

/**
 * Serve `schema` at POST /graphql. Options:
 *  - name: used in the start-up line printed to stdout
 *  - host/port: where to listen (port 0 picks a free port)
 *  - routes: { '/path': (req, res) => void } extra GET/POST handlers
 *  - buildContext(req): per-request context; may throw HttpError (e.g. 401)
 * Resolves to the listening http.Server once it is bound, after printing
 * `<name> listening on http://host:port/graphql`.
 */
export function serveSubgraph({ schema, name, host = '127.0.0.1', port, routes = {}, buildContext = () => ({}) }) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (routes[url.pathname]) {
        await routes[url.pathname](req, res, url);
        return;
      }
      if (url.pathname === '/health' && req.method === 'GET') {
        sendJson(res, 200, { status: 'ok' });
        return;
      }
      if (url.pathname !== '/graphql') {
        sendJson(res, 404, { errors: [{ message: 'not found' }] });
        return;
      }
      if (req.method !== 'POST') {
        sendJson(res, 405, { errors: [{ message: 'use POST' }] }, { allow: 'POST' });
        return;
      }
      const result = await executeGraphQL(schema, req, buildContext);
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof HttpError) {
        sendJson(res, err.status, { errors: [{ message: err.message }] }, err.headers);
      } else {
        process.stderr.write(`${name}: ${err.stack ?? err}\n`);
        sendJson(res, 500, { errors: [{ message: 'internal error' }] });
      }
    }
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      process.stdout.write(`${name} listening on http://${addr.address}:${addr.port}/graphql\n`);
      resolve(server);
    });
  });
}

export { sendJson, readJsonBody };
