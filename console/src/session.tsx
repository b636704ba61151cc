/** Who is signed in: the token (sessionStorage only) and the scopes GET /v1/whoami gives it. */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, onUnauthorized, storedToken, storeToken } from './api';
import { requestHeadingFocus } from './router';
import type { Scope, WhoAmI } from './types';

export interface Session {
  /** null: signed out (or still checking a kept token: see `checking`). */
  who: WhoAmI | null;
  checking: boolean;
  /** Why the last session ended (a 401's detail), shown on the sign-in page. */
  notice: { kind: 'expired' | 'signedOut'; detail: string | null } | null;
  can(scope: Scope): boolean;
  signIn(token: string): Promise<void>;
  signOut(): void;
}

const Ctx = createContext<Session | null>(null);

export function SessionProvider(props: { children: ComponentChildren }) {
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [checking, setChecking] = useState(() => storedToken() !== null);
  const [notice, setNotice] = useState<Session['notice']>(null);

  useEffect(() => {
    onUnauthorized((detail) => {
      storeToken(null);
      requestHeadingFocus();
      setWho(null);
      setNotice({ kind: 'expired', detail });
    });
    const kept = storedToken();
    if (kept === null) return;
    api<WhoAmI>('/v1/whoami').then(
      (w) => {
        setWho(w);
        setChecking(false);
      },
      () => setChecking(false), // a 401 has signed out already; anything else: sign in again
    );
  }, []);

  const signIn = useCallback(async (token: string) => {
    const w = await api<WhoAmI>('/v1/whoami', { token });
    storeToken(token);
    requestHeadingFocus();
    setNotice(null);
    setWho(w);
  }, []);

  const signOut = useCallback(() => {
    storeToken(null);
    requestHeadingFocus();
    setWho(null);
    setNotice({ kind: 'signedOut', detail: null });
  }, []);

  const value = useMemo<Session>(
    () => ({
      who,
      checking,
      notice,
      can: (scope) => !!who && (who.scopes.includes(scope) || who.scopes.includes('admin')),
      signIn,
      signOut,
    }),
    [who, checking, notice, signIn, signOut],
  );
  return <Ctx.Provider value={value}>{props.children}</Ctx.Provider>;
}

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
