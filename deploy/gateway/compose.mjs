#!/usr/bin/env node
// Compose a Federation v2 supergraph from the subgraphs listed in a config
// file, with @apollo/composition (the same composition Apollo's tools use).
//
//   node compose.mjs [--config subgraphs.json] [--out supergraph.graphql]
//
// Both paths default to files beside this script; relative paths given on the
// command line are taken from the current directory. Each config entry is
//   { "name": "harborgraph", "url": "http://127.0.0.1:8000/graphql",
//     "sdl": "../../schema/schema.graphql" }           -- SDL from a file
// or
//   { "name": "rail", "url": "http://127.0.0.1:4002/graphql",
//     "tokenEnv": "RAIL_GATEWAY_TOKEN" }              -- SDL from `{ _service { sdl } }`
// where `sdl` is relative to the config file, `url` is the routing URL written
// into the supergraph, and the SDL is fetched from `introspectUrl` (default:
// `url`) with `Authorization: Bearer $<tokenEnv>` when that variable is set.
//
// Hints go to stderr. On any error (config, fetch, parse, composition) every
// error is printed to stderr and the exit code is 1; nothing is written.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const INTROSPECT_TIMEOUT_MS = 10_000;
const SERVICE_SDL_QUERY = '{ _service { sdl } }';

export class ComposeError extends Error {
  constructor(messages) {
    super(messages.join('\n'));
    this.messages = messages;
  }
}

/** Read and validate the subgraph list; returns entries with absolute paths. */
export async function loadConfig(configPath) {
  let raw;
  try {
    raw = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (err) {
    throw new ComposeError([`cannot read config ${configPath}: ${err.message}`]);
  }
  const list = Array.isArray(raw) ? raw : raw?.subgraphs;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ComposeError([
      `${configPath}: expected a non-empty array of subgraphs (or { "subgraphs": [...] })`,
    ]);
  }
  const errors = [];
  const seen = new Set();
  const base = path.dirname(configPath);
  const entries = list.map((entry, i) => {
    const where = `${configPath}: subgraph #${i + 1}`;
    if (entry === null || typeof entry !== 'object') {
      errors.push(`${where}: not an object`);
      return null;
    }
    const { name, url, sdl, introspectUrl, tokenEnv } = entry;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      errors.push(`${where}: "name" must match ${NAME_RE}`);
    } else if (seen.has(name)) {
      errors.push(`${where}: duplicate name "${name}"`);
    } else {
      seen.add(name);
    }
    if (typeof url !== 'string' || !isHttpUrl(url)) {
      errors.push(`${where} (${name}): "url" must be an http(s) URL`);
    }
    if (sdl !== undefined && typeof sdl !== 'string') {
      errors.push(`${where} (${name}): "sdl" must be a file path`);
    }
    if (introspectUrl !== undefined && (typeof introspectUrl !== 'string' || !isHttpUrl(introspectUrl))) {
      errors.push(`${where} (${name}): "introspectUrl" must be an http(s) URL`);
    }
    if (sdl !== undefined && introspectUrl !== undefined) {
      errors.push(`${where} (${name}): give either "sdl" or "introspectUrl", not both`);
    }
    if (tokenEnv !== undefined && (typeof tokenEnv !== 'string' || !/^[A-Z_][A-Z0-9_]*$/.test(tokenEnv))) {
      errors.push(`${where} (${name}): "tokenEnv" must be an environment variable name`);
    }
    return {
      name,
      url,
      sdlPath: typeof sdl === 'string' ? path.resolve(base, sdl) : undefined,
      introspectUrl: introspectUrl ?? url,
      tokenEnv,
    };
  });
  if (errors.length) throw new ComposeError(errors);
  return entries;
}

function isHttpUrl(value) {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Fetch a subgraph's SDL over `{ _service { sdl } }`. */
export async function fetchServiceSdl(entry, env = process.env) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (entry.tokenEnv) {
    const token = env[entry.tokenEnv];
    if (token) {
      headers.authorization = `Bearer ${token}`;
    } else {
      process.stderr.write(
        `note: ${entry.name}: ${entry.tokenEnv} is not set, introspecting without a token\n`,
      );
    }
  }
  let res;
  try {
    res = await fetch(entry.introspectUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: SERVICE_SDL_QUERY }),
      signal: AbortSignal.timeout(INTROSPECT_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ComposeError([
      `${entry.name}: cannot reach ${entry.introspectUrl}: ${err.cause?.message ?? err.message}`,
    ]);
  }
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ComposeError([
      `${entry.name}: ${entry.introspectUrl} answered HTTP ${res.status} with non-JSON: ${text.slice(0, 200)}`,
    ]);
  }
  const sdl = body?.data?._service?.sdl;
  if (!res.ok || typeof sdl !== 'string' || body.errors?.length) {
    const detail = body?.errors?.map((e) => e.message).join('; ') || 'no _service.sdl in the answer';
    throw new ComposeError([
      `${entry.name}: ${entry.introspectUrl} answered HTTP ${res.status}: ${detail}`,
    ]);
  }
  return sdl;
}

/** Load every subgraph's SDL, parse it and compose. Returns { supergraphSdl, hints }. */
export async function composeFromConfig(configPath, env = process.env) {
  const entries = await loadConfig(configPath);
  const errors = [];
  const services = [];
  for (const entry of entries) {
    let sdl;
    let source;
    try {
      if (entry.sdlPath) {
        source = entry.sdlPath;
        sdl = await readFile(entry.sdlPath, 'utf8').catch((err) => {
          throw new ComposeError([`${entry.name}: cannot read SDL file ${entry.sdlPath}: ${err.message}`]);
        });
      } else {
        source = entry.introspectUrl;
        sdl = await fetchServiceSdl(entry, env);
      }
      services.push({ name: entry.name, url: entry.url, typeDefs: parse(sdl, { noLocation: false }) });
    } catch (err) {
      if (err instanceof ComposeError) errors.push(...err.messages);
      else errors.push(`${entry.name}: invalid SDL from ${source}: ${err.message}`);
    }
  }
  if (errors.length) throw new ComposeError(errors);

  const result = composeServices(services);
  if (result.errors) {
    throw new ComposeError(
      result.errors.map((e) => `[${e.extensions?.code ?? 'COMPOSITION_ERROR'}] ${e.message}`),
    );
  }
  return { supergraphSdl: result.supergraphSdl, hints: result.hints, subgraphs: entries };
}

const USAGE = 'usage: node compose.mjs [--config subgraphs.json] [--out supergraph.graphql]\n';

async function main(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c', default: path.join(HERE, 'subgraphs.json') },
        out: { type: 'string', short: 'o', default: path.join(HERE, 'supergraph.graphql') },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const configPath = path.resolve(values.config);
  const outPath = path.resolve(values.out);
  let composed;
  try {
    composed = await composeFromConfig(configPath);
  } catch (err) {
    const messages = err instanceof ComposeError ? err.messages : [err.stack ?? String(err)];
    process.stderr.write(`composition failed (${messages.length} error(s)):\n`);
    for (const m of messages) process.stderr.write(`  - ${m.replace(/\n/g, '\n    ')}\n`);
    return 1;
  }
  for (const hint of composed.hints) {
    process.stderr.write(`hint: [${hint.definition.code}] ${hint.message}\n`);
  }
  // Written in place (not via rename): a running hive-gateway watches this
  // file, reloads on a "change" event and stops watching on a "rename" event.
  // Nothing is written unless composition succeeded.
  const sdl = composed.supergraphSdl;
  await writeFile(outPath, sdl.endsWith('\n') ? sdl : `${sdl}\n`);
  process.stderr.write(
    `composed ${composed.subgraphs.map((s) => s.name).join(', ')} -> ${outPath}` +
      ` (${composed.hints.length} hint(s))\n`,
  );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${err.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
