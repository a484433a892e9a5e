// Hive Gateway configuration for Harborgraph, loaded by
//   npx hive-gateway supergraph            (run in deploy/gateway)
// which finds ./gateway.config.ts by name (or pass --config-path).
//
// What it does:
//  - serves the composed supergraph (compose.mjs output) on 127.0.0.1;
//  - verifies partner access tokens exactly like the Harborgraph subgraph:
//    RFC 9068 JWTs from `Authorization: Bearer`, keys from the JWKS URL(s),
//    an algorithm allowlist (ES256, RS256: Hive's JWT plugin verifies with
//    jsonwebtoken 9, which has no EdDSA), exact issuer and audience, `typ: at+jwt`,
//    required exp/iat/iss/aud/sub, small leeway, a size cap. No token means
//    anonymous; a bad token is HTTP 401 with
//    `WWW-Authenticate: Bearer error="invalid_token"` and no data;
//  - enforces @authenticated / @requiresScopes from the supergraph (Hive's
//    generic auth, scopes from the space-delimited `scope` claim): a denied
//    field is null with extensions.code UNAUTHORIZED_FIELD_OR_TYPE and the
//    rest of the answer stands (HTTP 200);
//  - forwards the client's Authorization header itself to the Harborgraph
//    subgraph only (by default), which verifies it again and applies its own
//    field and row rules. Other organisations' subgraphs never see partner
//    tokens unless GATEWAY_FORWARD_AUTH_TO names them: a token's audience is
//    Harborgraph, and whoever receives it could replay it against Harborgraph;
//  - reports nothing anywhere: no usage reporting, no CDN, no telemetry
//    (unless someone sets Hive's own HIVE_* / APOLLO_KEY / OPENTELEMETRY
//    environment variables or CLI flags, which this file does not).
//
// Environment (read here, once, at start-up):
//   The three HARBORGRAPH_JWT_* names are the ones the Harborgraph subgraph
//   reads, so one environment configures both with the same keys and claims.
//   HARBORGRAPH_JWT_JWKS_URL  JWKS URL(s), comma- or space-separated
//                             (default http://127.0.0.1:8000/.well-known/jwks.json);
//                             HARBORGRAPH_JWKS_URL is accepted as an older alias
//                             (setting both to different values is an error)
//   HARBORGRAPH_JWT_ISSUER    expected `iss` (default http://127.0.0.1:8000)
//   HARBORGRAPH_JWT_AUDIENCE  expected `aud` (default harborgraph)
//   HARBORGRAPH_SUPERGRAPH    supergraph file (default ./supergraph.graphql
//                             beside this file); a CLI argument wins
//   GATEWAY_PORT              port (default 4000); the host is always 127.0.0.1
//   GATEWAY_FORWARD_AUTH_TO   subgraph names (as in subgraphs.json) that get the
//                             client's Authorization header, comma- or
//                             space-separated (default "harborgraph"; the list
//                             replaces the default, so keep harborgraph in it;
//                             "*" = every subgraph, empty = none)
//   GATEWAY_GRAPHIQL          "true" to serve the GraphiQL/Laboratory page
//                             (off by default: the page loads browser assets
//                             from public CDNs)
// Note: hive-gateway's own CLI also reads PORT and HOST, and those win over
// this file when set; leave them unset (tests/federation clears them).

import { fileURLToPath } from 'node:url';
import {
  createRemoteJwksSigningKeyProvider,
  defineConfig,
  type ExtractTokenFunction,
  type GatewayPlugin,
  type GetSigningKeyFunction,
  type Logger,
} from '@graphql-hive/gateway';
import {
  createUnauthenticatedError,
  defaultProtectSingleValidateFn,
  type ValidateUserFn,
} from '@envelop/generic-auth';
import { GraphQLError } from 'graphql';

/** Algorithms Hive's JWT plugin (jsonwebtoken 9) can verify that we accept. */
export const ALLOWED_ALGORITHMS = ['ES256', 'RS256'] as const;
const REQUIRED_CLAIMS = ['exp', 'iat', 'iss', 'aud', 'sub'] as const;
const MAX_TOKEN_CHARS = 8192;
const CLOCK_TOLERANCE_S = 30;
const WWW_AUTHENTICATE = 'www-authenticate';

const env = process.env;
const JWKS_URL_VAR = 'HARBORGRAPH_JWT_JWKS_URL'; // the subgraph's name for it
const JWKS_URL_ALIAS = 'HARBORGRAPH_JWKS_URL'; // older gateway-only name, still read
if (env[JWKS_URL_VAR] != null && env[JWKS_URL_ALIAS] != null && env[JWKS_URL_VAR] !== env[JWKS_URL_ALIAS]) {
  throw new Error(`${JWKS_URL_VAR} and ${JWKS_URL_ALIAS} are both set, to different values: set only ${JWKS_URL_VAR}`);
}
const jwksUrls = (env[JWKS_URL_VAR] ?? env[JWKS_URL_ALIAS] ?? 'http://127.0.0.1:8000/.well-known/jwks.json')
  .split(/[\s,]+/)
  .filter(Boolean);
const issuer = env.HARBORGRAPH_JWT_ISSUER ?? 'http://127.0.0.1:8000';
const audience = env.HARBORGRAPH_JWT_AUDIENCE ?? 'harborgraph';
const port = Number(env.GATEWAY_PORT ?? '4000');
const supergraph =
  env.HARBORGRAPH_SUPERGRAPH ?? fileURLToPath(new URL('./supergraph.graphql', import.meta.url));

// Subgraph names (as in subgraphs.json) that receive the client's token. Only
// Harborgraph by default: the token's audience is Harborgraph, and another
// organisation's subgraph that received it could replay it against us.
// Anything else is opted in explicitly; "*" = all.
const HARBORGRAPH_SUBGRAPH = 'harborgraph';
const forwardAuthTo = new Set(
  (env.GATEWAY_FORWARD_AUTH_TO ?? HARBORGRAPH_SUBGRAPH).split(/[\s,]+/).filter(Boolean),
);
const forwardsAuthTo = (subgraph: string): boolean => forwardAuthTo.has('*') || forwardAuthTo.has(subgraph);
if (!forwardsAuthTo(HARBORGRAPH_SUBGRAPH)) {
  console.warn(
    `gateway.config.ts: GATEWAY_FORWARD_AUTH_TO=${JSON.stringify(env.GATEWAY_FORWARD_AUTH_TO)} ` +
      `leaves out "${HARBORGRAPH_SUBGRAPH}": the Harborgraph subgraph will see every request as anonymous`,
  );
}

if (jwksUrls.length === 0) throw new Error(`${JWKS_URL_VAR} is empty`);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  throw new Error(`GATEWAY_PORT must be a port number, got ${JSON.stringify(env.GATEWAY_PORT)}`);
}

// One provider per JWKS URL; jwks-rsa caches keys and refetches (rate
// limited) when a token names a kid it has not seen, so rotation just works.
const signingKeyProviders = jwksUrls.map((jwksUri) =>
  createRemoteJwksSigningKeyProvider({
    jwksUri,
    cache: true,
    cacheMaxAge: 10 * 60 * 1000,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    timeout: 5000,
  }),
) as [GetSigningKeyFunction, ...GetSigningKeyFunction[]];

function invalidToken(reason: string): GraphQLError {
  return new GraphQLError('Unauthenticated', {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: {
        status: 401,
        headers: {
          [WWW_AUTHENTICATE]: `Bearer error="invalid_token", error_description="${reason}"`,
        },
      },
    },
  });
}

function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** RFC 9068 claim presence and types; Hive's verifier checks the values. */
function claimsProblem(claims: Record<string, unknown>): string | null {
  for (const claim of REQUIRED_CLAIMS) {
    if (claims[claim] == null) return `missing ${claim} claim`;
  }
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') {
    return 'exp and iat must be numeric dates';
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') return 'sub must be a non-empty string';
  if (claims.scope !== undefined && typeof claims.scope !== 'string') {
    return 'scope must be a space-delimited string';
  }
  return null;
}

/** Resolve the signing key the token names, from any JWKS; null if none has it. */
async function findSigningKey(kid: string | undefined): Promise<string | null> {
  let unavailable: unknown = null;
  for (const provider of signingKeyProviders) {
    try {
      const key = await provider(kid);
      if (key) return key;
    } catch (err) {
      if ((err as Error)?.name !== 'SigningKeyNotFoundError') unavailable = err;
    }
  }
  if (unavailable) {
    throw new GraphQLError('Authentication is not available at the moment', {
      extensions: { code: 'AUTHENTICATION_UNAVAILABLE', http: { status: 503 } },
    });
  }
  return null;
}

/**
 * Token lookup for Hive's JWT plugin. Everything Hive's verifier (jsonwebtoken)
 * does not check is checked here first, so every bad token ends as a 401 with
 * WWW-Authenticate (Hive alone answers 400 for a malformed token and 500 for an
 * unknown key id). Hive then verifies signature, alg, exp/nbf, iss and aud.
 */
const extractBearerAccessToken: ExtractTokenFunction = async ({ request }) => {
  const header = request?.headers.get('authorization');
  if (header == null) return undefined; // anonymous
  const match = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(header.trim());
  if (!match) throw invalidToken('expected a Bearer JWT');
  const token = match[1]!;
  if (token.length > MAX_TOKEN_CHARS) throw invalidToken('token too large');
  const [headerSeg, payloadSeg] = token.split('.');
  const jose = decodeJsonSegment(headerSeg!);
  const claims = decodeJsonSegment(payloadSeg!);
  if (!jose || !claims) throw invalidToken('malformed token');
  if (!ALLOWED_ALGORITHMS.includes(jose.alg as (typeof ALLOWED_ALGORITHMS)[number])) {
    throw invalidToken('algorithm not allowed');
  }
  const typ = String(jose.typ ?? '').toLowerCase();
  if (typ !== 'at+jwt' && typ !== 'application/at+jwt') throw invalidToken('typ must be at+jwt');
  const problem = claimsProblem(claims);
  if (problem) throw invalidToken(problem);
  const kid = typeof jose.kid === 'string' ? jose.kid : undefined;
  if (!(await findSigningKey(kid))) throw invalidToken('unknown signing key');
  return { token, prefix: 'Bearer' };
};

/** The verified claims the JWT plugin puts on the context as `jwt.payload`. */
type Claims = { sub?: string; org?: string; scope?: string };

/** Space-delimited `scope` claim (RFC 9068 / RFC 8693) to a list. */
function extractScopes(user: Claims | null | undefined): string[] {
  return typeof user?.scope === 'string' ? user.scope.split(/\s+/).filter(Boolean) : [];
}

/**
 * Hive's default field rule check, but a denied field keeps HTTP 200: its
 * error (code UNAUTHORIZED_FIELD_OR_TYPE, with path) sits beside the rest of
 * the answer. Hive's default error carries http.status 401, which turns the
 * whole partial answer into an HTTP 401.
 */
const validateUser: ValidateUserFn<Claims> = (params) => {
  const error = defaultProtectSingleValidateFn(params);
  if (!error) return undefined;
  auditLog?.warn(
    {
      sub: params.user?.sub ?? null,
      org: params.user?.org ?? null,
      field: `${params.parentType.name}.${params.field.name}`,
      path: params.path.join('.'),
      needs: params.fieldScopes ?? params.typeScopes ?? 'authenticated',
    },
    'denied field',
  );
  return createUnauthenticatedError({
    fieldNode: params.fieldNode,
    path: params.path,
    statusCode: 200,
  });
};

/** Set from the gateway's own logger when the plugins are built. */
let auditLog: Logger | undefined;

/**
 * Every 401 says how to authenticate (RFC 6750), whoever produced it, and
 * every rejected token is logged with the reason (never the token).
 */
const useBearerChallenge = (log: Logger): GatewayPlugin => ({
  onResponse({ request, response }) {
    if (response.status !== 401) return;
    if (!response.headers.has(WWW_AUTHENTICATE)) {
      response.headers.set(WWW_AUTHENTICATE, 'Bearer error="invalid_token"');
    }
    const reason = /error_description="([^"]*)"/.exec(response.headers.get(WWW_AUTHENTICATE) ?? '');
    log.warn(
      { requestId: response.headers.get('x-request-id'), reason: reason?.[1] ?? 'verification failed' },
      `rejected bearer token on ${request.method} ${new URL(request.url).pathname}`,
    );
  },
});

export const gatewayConfig = defineConfig({
  supergraph,
  host: '127.0.0.1',
  port,
  graphiql: env.GATEWAY_GRAPHIQL === 'true',
  landingPage: false,
  // Subgraph error details stay visible; unexpected gateway errors are masked.
  maskedErrors: true,
  jwt: {
    signingKeyProviders,
    tokenLookupLocations: [extractBearerAccessToken],
    tokenVerification: {
      algorithms: [...ALLOWED_ALGORITHMS],
      issuer,
      audience,
      clockTolerance: CLOCK_TOLERANCE_S,
    },
    // No token: anonymous (field rules still apply). Bad token: rejected.
    reject: { missingToken: false, invalidToken: true },
    // The Authorization header itself is forwarded, to the subgraphs in
    // GATEWAY_FORWARD_AUTH_TO only (propagateHeaders below); claims are not copied into the subgraph request's extensions.
    forward: { payload: false, token: false },
  },
  genericAuth: {
    mode: 'protect-granular',
    resolveUserFn: (context) => (context as { jwt?: { payload?: Claims } }).jwt?.payload ?? null,
    extractScopes,
    validateUser,
    // Remove denied fields and answer the rest, instead of failing the operation.
    rejectUnauthenticated: false,
  },
  // Only this hook passes client headers on: every other subgraph request
  // carries none of the client's headers.
  propagateHeaders: {
    fromClientToSubgraphs({ request, subgraphName }) {
      const authorization = request.headers.get('authorization');
      return authorization && forwardsAuthTo(subgraphName) ? { authorization } : {};
    },
  },
  plugins: ({ log }) => {
    auditLog = log;
    return [useBearerChallenge(log)];
  },
});
