import type { ComponentChildren } from 'preact';
import { onLinkClick } from '../router';

/** An <a> to a console path (built with consolePath/messagePath), navigating without a reload. */
export function Link(props: { href: string; children: ComponentChildren; class?: string; current?: boolean; title?: string }) {
  return (
    <a href={props.href} class={props.class} title={props.title} aria-current={props.current ? 'page' : undefined} onClick={onLinkClick}>
      {props.children}
    </a>
  );
}
