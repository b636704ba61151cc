import type { NextFunction, Request, Response } from 'express';
import type { ApiToken, Scope } from '../config/config';
import { Forbidden, Unauthorized } from '../errors';
import { matchesSecret } from '../util/safe-equal';

/**
 * Bearer tokens with scopes for the read, replay and admin APIs (callback routes take none).
 * Every configured token is compared, in constant time, so timing says nothing about which matched.
 */
export function requireScope(tokens: ApiToken[], scope: Scope) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new Unauthorized();
    let match: ApiToken | undefined;
    for (const t of tokens) if (matchesSecret(m[1]!, t.token) && !match) match = t;
    if (!match) throw new Unauthorized('the bearer token is not valid');
    if (!match.scopes.includes(scope) && !match.scopes.includes('admin')) throw new Forbidden(scope);
    req.log = req.log.child({ token_name: match.name });
    req.actor = match.name;
    next();
  };
}
