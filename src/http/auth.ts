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

export function requireScope(tokens: ApiToken[], scope: Scope) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const given = bearerToken(req.get('authorization'));
    if (given === null) throw new Unauthorized();
    let match: ApiToken | undefined;
    for (const t of tokens) if (matchesSecret(given, t.token) && !match) match = t;
    if (!match) throw new Unauthorized('the bearer token is not valid');
    if (!match.scopes.includes(scope) && !match.scopes.includes('admin')) throw new Forbidden(scope);
    req.log = req.log.child({ token_name: match.name });
    req.actor = match.name;
    next();
  };
}
