/** The charset a Content-Type declares, lower-case; `fallback` (UTF-8 unless configured) when it declares none. */
export function charsetOf(contentTypeHeader: string | undefined, fallback = 'utf-8'): string {
  const m = /charset\s*=\s*"?([\w-]+)"?/i.exec(contentTypeHeader ?? '');
  return (m?.[1] ?? fallback).toLowerCase();
}
