import type { NextFunction, Request, Response } from 'express';
import type { ApiToken, Scope } from '../config/config';
import { Forbidden, Unauthorized } from '../errors';
import { matchesSecret } from '../util/safe-equal';

/**
 * Bearer tokens with scopes for the read, replay and admin APIs (callback routes take none).
 * Every configured token is compared, in constant time, so timing says nothing about which matched.
 */
/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null;
}

/** Every scope, in the order answers list them: `admin` holds the others. */
const ALL_SCOPES: readonly Scope[] = ['read', 'replay', 'admin'];

/** The configured token the request's bearer header carries (401 when none does). */
function tokenOf(req: Request, tokens: ApiToken[]): ApiToken {
  const given = bearerToken(req.get('authorization'));
  if (given === null) throw new Unauthorized();
  let match: ApiToken | undefined;
  for (const t of tokens) if (matchesSecret(given, t.token) && !match) match = t;
  if (!match)
    throw new Unauthorized(
      'the bearer token is not valid: send DLR_ADMIN_TOKEN or a token of the config\'s "tokens" (GET /v1/whoami tells which one a token is)',
    );
  return match;
}

/** Marks the request with its token: the log's `token_name`, the actor audits name, the scopes it holds. */
function identified(req: Request, token: ApiToken): void {
  req.log = req.log.child({ token_name: token.name });
  req.actor = token.name;
  req.scopes = token.scopes.includes('admin') ? [...ALL_SCOPES] : ALL_SCOPES.filter((s) => token.scopes.includes(s));
}

/** Any valid token (GET /v1/whoami): 401 without one. */
export function identify(tokens: ApiToken[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    identified(req, tokenOf(req, tokens));
    next();
  };
}

/** A token holding `scope` (or `admin`): 401 without a valid token, 403 without the scope. */
export function requireScope(tokens: ApiToken[], scope: Scope) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const token = tokenOf(req, tokens);
    if (!token.scopes.includes(scope) && !token.scopes.includes('admin')) throw new Forbidden(scope, token.scopes);
    identified(req, token);
    next();
  };
}
