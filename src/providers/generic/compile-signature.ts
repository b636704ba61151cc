/**
 * The signature part of a generic definition: the template (`signed`) and its placeholders, each
 * scheme's settings and the account settings it reads, checked at start-up for every account.
 */
import { ed25519Key, webhookSecretKey } from './keys';
import { fail, type CompiledSignature, type GenericSettings, type ParamsOptions, type SchemeSetting, type TemplatePart } from './language';

const PLACEHOLDER = /\{([a-z]+)(?::([^{}]+))?\}/g;

function compileTemplate(signed: string, where: string): TemplatePart[] {
  const template = signed === 'raw-body' ? '{body}' : signed === 'sorted-params' ? '{params}' : signed;
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ kind: 'text', text: template.slice(last, m.index) });
    const [, name, arg] = m as unknown as [string, string, string | undefined];
    if (name === 'header' || name === 'field') {
      if (!arg) fail(where, `{${name}:NAME} needs a name`);
      parts.push({ kind: name, name: name === 'header' ? arg.toLowerCase() : arg });
    } else if (['body', 'params', 'timestamp', 'nonce', 'secret', 'url'].includes(name) && arg === undefined) {
      parts.push({ kind: name as 'body' });
    } else {
      fail(where, `unknown placeholder ${m[0]} (known: {body} {params} {timestamp} {nonce} {secret} {url} {header:NAME} {field:NAME})`);
    }
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push({ kind: 'text', text: template.slice(last) });
  if (!parts.some((p) => p.kind !== 'text'))
    fail(where, `"${signed}" signs no part of the request (use raw-body, sorted-params or a template with placeholders)`);
  return parts;
}

const DEFAULT_CLAIMS = { url: 'url_hash', body: 'payload_hash' };

function compileParams(sig: NonNullable<GenericSettings['signature']>): Required<ParamsOptions> {
  const params = sig.params ?? {};
  return {
    prefix: params.prefix ?? '',
    separator: params.separator ?? '&',
    keyValueSeparator: params.keyValueSeparator ?? '=',
    valuesOnly: params.valuesOnly ?? false,
    exclude: [...(params.exclude ?? []), ...(sig.location?.field ? [sig.location.field] : [])],
    skipEmpty: params.skipEmpty ?? false,
    replaceInValues: params.replaceInValues ?? {},
  };
}

/** The fixed schemes: what they sign is theirs, not the definition's (./schemes.ts). */
function compileFixedScheme(algorithm: 'standard-webhooks' | 'jwt-hs256' | 'basic-auth', sig: NonNullable<GenericSettings['signature']>, where: string) {
  for (const key of ['signed', 'location', 'timestamp', 'nonce', 'params', 'encoding', 'separator', 'bodyDigest'] as const) {
    if (sig[key] === undefined || (key === 'location' && algorithm === 'jwt-hs256')) continue;
    fail(`${where}.${key}`, `not used by ${algorithm}, whose signed content is fixed (docs/providers.md, "Signature schemes")`);
  }
  if (algorithm === 'jwt-hs256' && sig.location && sig.location.header === undefined) fail(`${where}.location`, 'a JWT is read from a header');
  if (sig.claims && algorithm !== 'jwt-hs256') fail(`${where}.claims`, 'only jwt-hs256 reads claims');
  const settings: SchemeSetting[] = algorithm === 'basic-auth' ? ['username', 'password'] : algorithm === 'jwt-hs256' ? ['secret', 'publicUrl'] : ['secret'];
  return {
    algorithm,
    settings,
    template: [],
    location: {
      header:
        algorithm === 'jwt-hs256' ? (sig.location?.header ?? 'messagebird-signature-jwt') : algorithm === 'basic-auth' ? 'authorization' : 'webhook-signature',
    },
    encoding: 'base64' as const,
    timestamp: null,
    nonce: null,
    params: compileParams(sig),
    separator: null,
    bodyDigest: null,
    claims: { url: sig.claims?.url ?? DEFAULT_CLAIMS.url, body: sig.claims?.body ?? DEFAULT_CLAIMS.body, issuer: sig.claims?.issuer ?? null },
    // standard-webhooks and jwt-hs256 bind every byte of the body; basic-auth authenticates the sender and signs nothing
    bodySigned: algorithm !== 'basic-auth',
    singleFields: [],
  };
}

export function compileSignature(sig: NonNullable<GenericSettings['signature']>, where: string): CompiledSignature | null {
  const algorithm = sig.algorithm ?? 'none';
  if (algorithm === 'none') return null;
  if (algorithm === 'standard-webhooks' || algorithm === 'jwt-hs256' || algorithm === 'basic-auth') return compileFixedScheme(algorithm, sig, where);
  if (sig.claims) fail(`${where}.claims`, 'only jwt-hs256 reads claims');
  if (!sig.signed) fail(`${where}.signed`, `what ${algorithm} signs is required: raw-body, sorted-params or a template such as {timestamp}{nonce}{body}`);
  if (!sig.location) fail(`${where}.location`, 'where the signature is is required: {"header": NAME}, {"field": NAME} or {"query": NAME}');
  const template = compileTemplate(sig.signed, `${where}.signed`);
  const uses = (kind: TemplatePart['kind']) => template.some((p) => p.kind === kind);
  if (algorithm === 'ed25519') {
    if (uses('secret')) fail(`${where}.signed`, "ed25519 is verified with the account's publicKey: there is no {secret} to sign");
  } else if (!algorithm.startsWith('hmac-') && !uses('secret')) {
    fail(`${where}.signed`, `a plain ${algorithm} signature proves nothing unless {secret} is part of what is signed`);
  }
  if (uses('timestamp') && !sig.timestamp) fail(`${where}.signed`, '{timestamp} is used but signature.timestamp does not say where it is');
  if (uses('nonce') && !sig.nonce) fail(`${where}.signed`, '{nonce} is used but signature.nonce does not say where it is');
  if (sig.nonce && !sig.timestamp) {
    fail(`${where}.nonce`, 'a nonce needs signature.timestamp too: without a time limit every nonce would have to be remembered forever');
  }
  const bodyDigest = sig.bodyDigest ? { ...sig.bodyDigest, header: sig.bodyDigest.header.toLowerCase(), encoding: sig.bodyDigest.encoding ?? 'hex' } : null;
  // the body is signed through its digest when the header that holds the digest is signed
  const digestSigned = bodyDigest !== null && template.some((p) => p.kind === 'header' && p.name === bodyDigest.header);
  if (bodyDigest && !digestSigned) {
    fail(
      `${where}.bodyDigest`,
      `the header ${bodyDigest.header} holds the body's digest but is not signed: add {header:${bodyDigest.header}} to signature.signed`,
    );
  }
  const settings: SchemeSetting[] = [algorithm === 'ed25519' ? 'publicKey' : 'secret'];
  if (uses('url')) settings.push('publicUrl');
  return {
    algorithm,
    settings,
    template,
    location: sig.location,
    encoding: sig.encoding === 'base64' || (sig.encoding === undefined && algorithm === 'ed25519') ? 'base64' : 'hex',
    timestamp: sig.timestamp ? { ...sig.timestamp, unit: sig.timestamp.unit ?? 's' } : null,
    nonce: sig.nonce ?? null,
    params: compileParams(sig),
    separator: sig.separator ?? null,
    bodyDigest,
    claims: { ...DEFAULT_CLAIMS, issuer: null },
    bodySigned: uses('body') || digestSigned,
    singleFields: [],
  };
}

/**
 * Every account has what the scheme needs, in a form it can use: refused at start-up, naming the
 * setting, rather than a 401 for every callback. (The request path checks again: a replay may run
 * under another configuration.)
 */
export function checkAccountSettings(sig: CompiledSignature, accounts: Record<string, Record<string, unknown>>, where: string): void {
  for (const [account, settings] of Object.entries(accounts)) {
    for (const name of sig.settings) {
      const value = settings[name];
      const at = `${where}.accounts.${account}.${name}`;
      if (typeof value !== 'string' || value === '') fail(at, `required, since the provider's signature is ${sig.algorithm}`);
      const problem = settingProblem(sig.algorithm, name, value);
      if (problem) fail(at, problem);
    }
  }
}

function settingProblem(algorithm: CompiledSignature['algorithm'], name: SchemeSetting, value: string): string | null {
  try {
    if (name === 'publicKey') ed25519Key(value);
    else if (name === 'secret' && algorithm === 'standard-webhooks') webhookSecretKey(value);
    else if (name === 'publicUrl' && !/^https?:\/\/[^?#]+$/i.test(value))
      return 'is not an http(s) URL without query or fragment: the public base URL the provider calls';
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}
