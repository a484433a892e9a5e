#!/usr/bin/env node
// End-to-end smoke test of the gateway tooling, without the Python server:
//   1. starts the Harborgraph stand-in subgraph (fixtures/standin-subgraph.mjs)
//      and the Pacific Harbor Line rail subgraph (tests/federation/rail_subgraph),
//      each on a free 127.0.0.1 port;
//   2. composes them with compose.mjs (stand-in SDL from its file, rail SDL
//      introspected over `_service { sdl }`) into a temporary supergraph;
//   3. starts Hive Gateway (hive-gateway supergraph, gateway.config.ts) on a
//      free port, with HARBORGRAPH_JWKS_URL pointing at the stand-in's JWKS;
//   4. queries through the gateway with real ES256 tokens and checks the
//      joined answer, field denials, and 401s for bad tokens;
//   5. checks that compose.mjs fails (exit 1, errors listed) on a conflict.
// Prints one line per check and "N passed, N failed"; exit code 1 on failure.
//
//   node smoke.mjs            (in deploy/gateway, after npm ci)
//   SMOKE_VERBOSE=1 node smoke.mjs   also echoes the child processes' output

import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { signEs256, standinContainer, standinVessel, STANDIN_SDL_PATH } from './fixtures/standin-subgraph.mjs';
import { railLegFor, nextPortCallFor } from '../../tests/federation/rail_subgraph/server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RAIL_SERVER = path.resolve(HERE, '..', '..', 'tests', 'federation', 'rail_subgraph', 'server.mjs');
const HIVE_BIN = path.join(HERE, 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');
const VERBOSE = process.env.SMOKE_VERBOSE === '1';
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const ISSUER = 'http://127.0.0.1:8000';
const AUDIENCE = 'harborgraph';
const CONTAINER = 'MSCU1234565';
const IMO = '9321483';

const children = [];
const results = { passed: 0, failed: 0 };

// ---- process helpers -----------------------------------------------------

/** Environment for children: no Hive/Apollo reporting or CLI overrides leak in. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(HIVE_|APOLLO_|OPENTELEMETRY)/.test(name) || ['PORT', 'HOST', 'POLLING', 'FORK'].includes(name)) {
      delete env[name];
    }
  }
  return { ...env, ...extra };
}

function start(name, args, env, { cwd = HERE } = {}) {
  const child = spawn(process.execPath, args, { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  const collect = (chunk) => {
    child.output += chunk;
    if (VERBOSE) process.stderr.write(`[${name}] ${chunk}`);
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  children.push(child);
  return child;
}

function waitForOutput(child, pattern, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what} did not start in time; output:\n${child.output}`));
    }, START_TIMEOUT_MS);
    const check = () => {
      const match = pattern.exec(child.output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}; output:\n${child.output}`));
    });
    check();
  });
}

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: HERE, env: cleanEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForReady(url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopAll() {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

// ---- checks ------------------------------------------------------------------

function check(name, ok, detail) {
  if (ok) {
    results.passed += 1;
    process.stdout.write(`ok - ${name}\n`);
  } else {
    results.failed += 1;
    process.stdout.write(`not ok - ${name}\n${detail ? `  ${detail.replace(/\n/g, '\n  ')}\n` : ''}`);
  }
}

async function gql(gatewayUrl, query, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token !== undefined) headers.authorization = token.startsWith('Basic ') ? token : `Bearer ${token}`;
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: res.status, headers: res.headers, body };
}

const show = (res) => `HTTP ${res.status} ${JSON.stringify(res.body)}`;

function deniedPaths(body) {
  return (body.errors ?? [])
    .filter((e) => e.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE')
    .map((e) => e.path?.join('.'))
    .sort();
}

async function mint(standinUrl, overrides) {
  const res = await fetch(new URL('/dev/token', standinUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(overrides),
  });
  if (!res.ok) throw new Error(`mint failed: HTTP ${res.status}`);
  return (await res.json()).access_token;
}

/** A well-formed token signed by a key the JWKS does not know. */
function foreignToken(scope) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Math.floor(Date.now() / 1000);
  return signEs256(
    { alg: 'ES256', typ: 'at+jwt', kid: 'not-in-the-jwks' },
    { iss: ISSUER, aud: AUDIENCE, sub: 'intruder', org: 'X', scope, iat: now, exp: now + 600 },
    privateKey,
  );
}

function unsignedToken() {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'x', iat: now, exp: now + 600, scope: 'cargo:commercial' })}.`;
}

const JOIN_QUERY = `{
  container(number: "${CONTAINER}") {
    number status consignee lastGateTransaction
    railLeg { trainId originRamp destination departure status }
  }
  vessel(imo: "${IMO}") { imo name nextPortCall { unlocode eta } }
}`;

async function checkGateway(gatewayUrl, standinUrl) {
  const full = await mint(standinUrl, { scope: 'vessel:read cargo:read cargo:commercial', sub: 'alice', org: 'MAEU' });
  const readOnly = await mint(standinUrl, { scope: 'vessel:read cargo:read', sub: 'bob', org: 'CMDU' });
  const expected = standinContainer(CONTAINER);
  const joined = {
    container: { ...expected, railLeg: railLegFor(CONTAINER) },
    vessel: { ...standinVessel(IMO), nextPortCall: nextPortCallFor(IMO) },
  };

  let res = await gql(gatewayUrl, JOIN_QUERY, full);
  check(
    'full-scope token: stand-in fields + rail railLeg/nextPortCall joined, consignee present (token reached the subgraph)',
    res.status === 200 && !res.body.errors && isDeepStrictEqual(res.body.data, joined),
    show(res),
  );

  res = await gql(gatewayUrl, JOIN_QUERY, readOnly);
  check(
    'token without cargo:commercial: consignee null + UNAUTHORIZED_FIELD_OR_TYPE at container.consignee, rest stands, HTTP 200',
    res.status === 200 &&
      isDeepStrictEqual(deniedPaths(res.body), ['container.consignee']) &&
      res.body.errors.length === 1 &&
      isDeepStrictEqual(res.body.data, { ...joined, container: { ...joined.container, consignee: null } }),
    show(res),
  );

  res = await gql(gatewayUrl, JOIN_QUERY, undefined);
  check(
    'anonymous: consignee and @authenticated lastGateTransaction null with errors, public and rail data stand',
    res.status === 200 &&
      isDeepStrictEqual(deniedPaths(res.body), ['container.consignee', 'container.lastGateTransaction']) &&
      isDeepStrictEqual(res.body.data, {
        ...joined,
        container: { ...joined.container, consignee: null, lastGateTransaction: null },
      }),
    show(res),
  );

  res = await gql(
    gatewayUrl,
    `{ c: container(number: "${CONTAINER}") { ...F railLeg { trainId } } } fragment F on Container { who: consignee status }`,
    readOnly,
  );
  check(
    'alias + fragment: denial reported at the aliased path c.who',
    res.status === 200 &&
      isDeepStrictEqual(deniedPaths(res.body), ['c.who']) &&
      res.body.data?.c?.who === null &&
      res.body.data?.c?.status === expected.status &&
      res.body.data?.c?.railLeg?.trainId === railLegFor(CONTAINER).trainId,
    show(res),
  );

  const bad = {
    'garbage string': 'garbage',
    'tampered signature': `${full.slice(0, -4)}AAAA`,
    expired: await mint(standinUrl, { scope: 'cargo:commercial', expiresIn: -3600 }),
    'wrong audience': await mint(standinUrl, { scope: 'cargo:commercial', aud: 'someone-else' }),
    'wrong issuer': await mint(standinUrl, { scope: 'cargo:commercial', iss: 'http://evil.example' }),
    'typ JWT instead of at+jwt': await mint(standinUrl, { scope: 'cargo:commercial', typ: 'JWT' }),
    'missing sub claim': await mint(standinUrl, { scope: 'cargo:commercial', omit: ['sub'] }),
    'unknown signing key': foreignToken('cargo:commercial'),
    'alg none': unsignedToken(),
    'Basic credentials': 'Basic dXNlcjpwYXNz',
  };
  for (const [what, token] of Object.entries(bad)) {
    res = await gql(gatewayUrl, JOIN_QUERY, token);
    const challenge = res.headers.get('www-authenticate') ?? '';
    check(
      `bad token (${what}): HTTP 401, WWW-Authenticate Bearer invalid_token, no data`,
      res.status === 401 && /^Bearer error="invalid_token"/.test(challenge) && res.body.data == null,
      `${show(res)} www-authenticate=${challenge}`,
    );
  }
}

async function checkComposeFailure(tmp, standinUrl) {
  await writeFile(
    path.join(tmp, 'clash.graphql'),
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\n' +
      'type Container @key(fields: "number") { number: Int! }\n',
  );
  const harborgraph = { name: 'harborgraph', url: `${standinUrl}/graphql`, sdl: STANDIN_SDL_PATH };
  const clash = { name: 'clash', url: 'http://127.0.0.1:9/graphql', sdl: 'clash.graphql' };
  const missing = { name: 'missing', url: 'http://127.0.0.1:9/graphql', sdl: 'no-such-file.graphql' };
  const out = path.join(tmp, 'never-written.graphql');
  const cases = [
    ['unreadable SDL file', [harborgraph, missing], /cannot read SDL file .*no-such-file\.graphql/],
    ['conflicting field types', [harborgraph, clash], /\[FIELD_TYPE_MISMATCH\]/],
    ['duplicate subgraph name', [harborgraph, { ...clash, name: 'harborgraph' }], /duplicate name "harborgraph"/],
  ];
  for (const [what, entries, expected] of cases) {
    const config = path.join(tmp, 'broken.json');
    await writeFile(config, JSON.stringify(entries));
    const res = await run(['compose.mjs', '--config', config, '--out', out]);
    check(
      `compose.mjs fails cleanly on ${what}: exit 1, error listed, nothing written`,
      res.code === 1 && /composition failed/.test(res.stderr) && expected.test(res.stderr) && !existsSync(out),
      `exit ${res.code}\n${res.stderr}`,
    );
  }
}

/** Start hive-gateway with gateway.config.ts; resolves to its /graphql URL once ready. */
async function startGateway(env) {
  const port = await freePort();
  const gateway = start(`gateway:${port}`, [HIVE_BIN, 'supergraph'], {
    ...env,
    GATEWAY_PORT: String(port),
    NO_COLOR: '1',
  });
  gateway.once('exit', (code) => {
    if (code) process.stderr.write(`gateway exited with ${code}:\n${gateway.output}\n`);
  });
  await waitForReady(`http://127.0.0.1:${port}/readiness`);
  return `http://127.0.0.1:${port}/graphql`;
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'harborgraph-gateway-smoke-'));
  try {
    const standin = start('standin', ['fixtures/standin-subgraph.mjs'], {
      STANDIN_PORT: '0',
      STANDIN_ISSUER: ISSUER,
      STANDIN_AUDIENCE: AUDIENCE,
    });
    const rail = start('rail', [RAIL_SERVER], { RAIL_PORT: '0' });
    const [, standinUrl] = await waitForOutput(standin, /listening on (http:\/\/127\.0\.0\.1:\d+)\/graphql/, 'stand-in subgraph');
    const [, railUrl] = await waitForOutput(rail, /listening on (http:\/\/127\.0\.0\.1:\d+)\/graphql/, 'rail subgraph');

    const config = path.join(tmp, 'subgraphs.json');
    const supergraph = path.join(tmp, 'supergraph.graphql');
    await writeFile(
      config,
      JSON.stringify(
        [
          { name: 'harborgraph', url: `${standinUrl}/graphql`, sdl: STANDIN_SDL_PATH },
          { name: 'rail', url: `${railUrl}/graphql`, tokenEnv: 'RAIL_GATEWAY_TOKEN' },
        ],
        null,
        2,
      ),
    );
    const composed = await run(['compose.mjs', '--config', config, '--out', supergraph]);
    check(
      'compose.mjs: stand-in SDL file + rail `_service { sdl }` compose into a supergraph',
      composed.code === 0 && /composed harborgraph, rail/.test(composed.stderr),
      `exit ${composed.code}\n${composed.stderr}`,
    );
    if (composed.code !== 0) return;

    const gatewayEnv = {
      HARBORGRAPH_SUPERGRAPH: supergraph,
      HARBORGRAPH_JWKS_URL: `${standinUrl}/.well-known/jwks.json`,
      HARBORGRAPH_JWT_ISSUER: ISSUER,
      HARBORGRAPH_JWT_AUDIENCE: AUDIENCE,
    };
    const gatewayUrl = await startGateway(gatewayEnv);
    check('hive-gateway supergraph (gateway.config.ts) is ready on 127.0.0.1', true);
    await checkGateway(gatewayUrl, standinUrl);

    // Same gateway with the token forwarded to the rail subgraph only: the
    // stand-in then sees an anonymous request and denies consignee itself,
    // which shows both that the Authorization header is what carries the
    // partner's identity to a subgraph and that subgraph denials pass through.
    const railOnlyUrl = await startGateway({ ...gatewayEnv, GATEWAY_FORWARD_AUTH_TO: 'rail' });
    const full = await mint(standinUrl, { scope: 'cargo:read cargo:commercial' });
    const res = await gql(railOnlyUrl, `{ container(number: "${CONTAINER}") { status consignee railLeg { trainId } } }`, full);
    check(
      'GATEWAY_FORWARD_AUTH_TO=rail: stand-in gets no token and denies consignee itself; error passes through',
      res.status === 200 &&
        isDeepStrictEqual(deniedPaths(res.body), ['container.consignee']) &&
        res.body.data?.container?.consignee === null &&
        res.body.data?.container?.railLeg?.trainId === railLegFor(CONTAINER).trainId,
      show(res),
    );

    // JWKS unreachable: tokens cannot be checked, so they are refused with a
    // 503 (not a 401 blaming the token); anonymous requests still work.
    const deadJwks = `http://127.0.0.1:${await freePort()}/.well-known/jwks.json`;
    const noJwksUrl = await startGateway({ ...gatewayEnv, HARBORGRAPH_JWKS_URL: deadJwks });
    const withToken = await gql(noJwksUrl, `{ container(number: "${CONTAINER}") { status } }`, full);
    const anonymous = await gql(noJwksUrl, `{ container(number: "${CONTAINER}") { status } }`, undefined);
    check(
      'JWKS unreachable: a token gets HTTP 503 AUTHENTICATION_UNAVAILABLE, anonymous still answers',
      withToken.status === 503 &&
        withToken.body.errors?.[0]?.extensions?.code === 'AUTHENTICATION_UNAVAILABLE' &&
        anonymous.status === 200 &&
        anonymous.body.data?.container?.status === standinContainer(CONTAINER).status,
      `${show(withToken)}\n${show(anonymous)}`,
    );

    await checkComposeFailure(tmp, standinUrl);
  } finally {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  }
}

const started = Date.now();
main()
  .catch((err) => {
    results.failed += 1;
    process.stdout.write(`not ok - smoke run aborted: ${err.stack ?? err}\n`);
  })
  .finally(async () => {
    await stopAll();
    process.stdout.write(`${results.passed} passed, ${results.failed} failed\n`);
    process.stderr.write(`smoke: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    process.exitCode = results.failed ? 1 : 0;
  });
