import { useRef, useState } from 'preact/hooks';

type Update<T> = T | ((prev: T) => T);

/**
 * A form's state that starts from the page's query and starts over from it whenever `key` (the
 * query) changes. The reset happens during the render that sees the new key, not in an effect: an
 * effect `setForm(fromQuery)` pending from the page's first render runs after paint, and under load
 * that came after a quick user's (or a test's) typing and wiped it (seen in CI: the search box sent
 * an empty query).
 */
export function useStateFor<T>(make: () => T, key: string): [T, (next: Update<T>) => void] {
  const held = useRef<{ key: string; value: T } | null>(null);
  if (held.current === null || held.current.key !== key) held.current = { key, value: make() };
  const [, rerender] = useState(0);
  const set = useRef((next: Update<T>) => {
    const h = held.current!;
    h.value = typeof next === 'function' ? (next as (prev: T) => T)(h.value) : next;
    rerender((n) => n + 1);
  }).current;
  return [held.current.value, set];
}
