#!/usr/bin/env node
// "Pacific Harbor Line" rail subgraph: a fictional second organisation's
// Federation v2 subgraph, used to prove that Harborgraph composes and runs
// behind a gateway with other subgraphs. It extends two Harborgraph entities:
//
//   Container @key(fields: "number")  + railLeg: RailLeg
//   Vessel    @key(fields: "imo")     + nextPortCall: ForeignPortCall
//
// Data is deterministic, derived from the key alone, so tests can predict it
// (see railLegFor / nextPortCallFor below, or ask the script:
// `node server.mjs --print-entity Container MSCU1234565`).
//
// Test hook: GET /_seen_authorization answers how many GraphQL requests the
// server has had and how many of them carried an Authorization header
// ({"requests": n, "withAuthorization": m}; never the header's value), so the
// tests can check that the gateway keeps partner tokens from this subgraph.
//
// Usage:
//   RAIL_PORT=4002 node server.mjs      serve POST http://127.0.0.1:4002/graphql
//   RAIL_PORT=0 node server.mjs         pick a free port (printed on stdout)
//   node server.mjs --print-sdl          print the subgraph SDL and exit
//   node server.mjs --print-entity Container|Vessel KEY
//
// Modules: this file has no node_modules of its own. It loads @apollo/subgraph
// and graphql from the one npm project in deploy/gateway (run `npm ci` there),
// through createRequire; set HARBORGRAPH_GATEWAY_DIR to use another checkout.

import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GATEWAY_DIR = path.resolve(
  process.env.HARBORGRAPH_GATEWAY_DIR ?? path.join(HERE, '..', '..', '..', 'deploy', 'gateway'),
);
const require = createRequire(path.join(GATEWAY_DIR, 'package.json'));

let subgraphModule;
let graphqlModule;
try {
  subgraphModule = require('@apollo/subgraph');
  graphqlModule = require('graphql');
} catch (err) {
  process.stderr.write(
    `rail subgraph: cannot load @apollo/subgraph from ${GATEWAY_DIR}/node_modules ` +
      `(run "npm ci" in deploy/gateway): ${err.message}\n`,
  );
  process.exit(1);
}
const { buildSubgraphSchema, printSubgraphSchema } = subgraphModule;
const { parse } = graphqlModule;

export const TYPE_DEFS = /* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  "Pacific Harbor Line (fictional) rail leg of an import container."
  type RailLeg {
    "Train identifier, PHL-nnnn."
    trainId: String!
    "Origin rail ramp: UN/LOCODE and ramp name, e.g. 'USLAX ICTF'."
    originRamp: String!
    "Destination inland port, UN/LOCODE, e.g. 'USCHI'."
    destination: String!
    "Scheduled departure, ISO 8601 UTC timestamp."
    departure: String!
    status: RailLegStatus!
  }

  enum RailLegStatus {
    PLANNED
    LOADED
    DEPARTED
    ARRIVED
  }

  "A vessel's next call at another port, as the rail operator plans for it."
  type ForeignPortCall {
    "UN/LOCODE of the next port, e.g. 'CNSHA'."
    unlocode: String!
    "Estimated time of arrival, ISO 8601 UTC timestamp."
    eta: String!
  }

  type Container @key(fields: "number") {
    number: String!
    railLeg: RailLeg
  }

  type Vessel @key(fields: "imo") {
    imo: String!
    nextPortCall: ForeignPortCall
  }
`;

const RAMPS = ['USLAX ICTF', 'USLGB Pier B', 'USLAX Dolores'];
const DESTINATIONS = ['USCHI', 'USDAL', 'USMEM', 'USKCK'];
const STATUSES = ['PLANNED', 'LOADED', 'DEPARTED', 'ARRIVED'];
const NEXT_PORTS = ['CNSHA', 'SGSIN', 'KRPUS', 'JPTYO', 'CNNGB'];
const DEPARTURE_BASE_MS = Date.UTC(2025, 2, 3, 0, 0, 0); // 2025-03-03T00:00:00Z
const ETA_BASE_MS = Date.UTC(2025, 2, 10, 0, 0, 0); // 2025-03-10T00:00:00Z
const HOUR_MS = 3600 * 1000;

/** Sum of the key's UTF-16 code units: the only input to the fake data. */
export function keySum(key) {
  let sum = 0;
  for (let i = 0; i < key.length; i += 1) sum += key.charCodeAt(i);
  return sum;
}

function isoUtc(ms) {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** RailLeg for a container number. s = keySum(number). */
export function railLegFor(number) {
  const s = keySum(number);
  return {
    trainId: `PHL-${String(s % 10000).padStart(4, '0')}`,
    originRamp: RAMPS[s % RAMPS.length],
    destination: DESTINATIONS[s % DESTINATIONS.length],
    departure: isoUtc(DEPARTURE_BASE_MS + (s % 168) * HOUR_MS),
    status: STATUSES[Math.floor(s / 4) % STATUSES.length],
  };
}

/** ForeignPortCall for a vessel IMO number. s = keySum(imo). */
export function nextPortCallFor(imo) {
  const s = keySum(imo);
  return {
    unlocode: NEXT_PORTS[s % NEXT_PORTS.length],
    eta: isoUtc(ETA_BASE_MS + (s % 240) * HOUR_MS),
  };
}

const resolvers = {
  Container: {
    __resolveReference: (ref) => ({ number: ref.number }),
    railLeg: (container) => railLegFor(container.number),
  },
  Vessel: {
    __resolveReference: (ref) => ({ imo: ref.imo }),
    nextPortCall: (vessel) => nextPortCallFor(vessel.imo),
  },
};

export function buildRailSchema() {
  return buildSubgraphSchema([{ typeDefs: parse(TYPE_DEFS), resolvers }]);
}

function parsePort(value) {
  const port = Number(value ?? '4002');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`RAIL_PORT must be a port number, got ${JSON.stringify(value)}`);
  }
  return port;
}

async function main(argv) {
  const schema = buildRailSchema();
  if (argv.includes('--print-sdl')) {
    process.stdout.write(`${printSubgraphSchema(schema).trim()}\n`);
    return;
  }
  const entityIdx = argv.indexOf('--print-entity');
  if (entityIdx !== -1) {
    const [type, key] = argv.slice(entityIdx + 1);
    const facts = { Container: railLegFor, Vessel: nextPortCallFor }[type];
    if (!facts || !key) throw new Error('usage: --print-entity Container|Vessel KEY');
    process.stdout.write(`${JSON.stringify(facts(key), null, 2)}\n`);
    return;
  }
  const { serveSubgraph, sendJson } = await import(
    pathToFileURL(path.join(GATEWAY_DIR, 'lib', 'subgraph-server.mjs')).href
  );
  const seen = { requests: 0, withAuthorization: 0 };
  await serveSubgraph({
    schema,
    name: 'rail subgraph (Pacific Harbor Line)',
    host: '127.0.0.1',
    port: parsePort(process.env.RAIL_PORT),
    routes: { '/_seen_authorization': (_req, res) => sendJson(res, 200, seen) },
    buildContext: (req) => {
      seen.requests += 1;
      if (req.headers.authorization !== undefined) seen.withAuthorization += 1;
      return {};
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`rail subgraph: ${err.message}\n`);
    process.exit(1);
  });
}
