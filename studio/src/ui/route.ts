// A hash router: #/entities, #/entities/<name>, #/new, #/diagram, #/bundle,
// #/records/<name>[/<id>], #/playground, #/docs[/<name>], #/webhooks, #/live, #/modules.
// The studio is static files; the hash keeps every screen a real URL without
// server rewrites.
import { useEffect, useState } from 'react';

export type Route =
  | { screen: 'entities' }
  | { screen: 'entity'; name: string }
  | { screen: 'new' }
  | { screen: 'diagram' }
  | { screen: 'bundle' }
  | { screen: 'records'; name: string; id?: string }
  | { screen: 'playground' }
  | { screen: 'webhooks' }
  | { screen: 'live' }
  | { screen: 'modules' }
  | { screen: 'docs'; name?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'entities' && parts[1]) return { screen: 'entity', name: parts[1] };
  if (parts[0] === 'new') return { screen: 'new' };
  if (parts[0] === 'diagram') return { screen: 'diagram' };
  if (parts[0] === 'bundle') return { screen: 'bundle' };
  if (parts[0] === 'records' && parts[1]) return parts[2] ? { screen: 'records', name: parts[1], id: parts[2] } : { screen: 'records', name: parts[1] };
  if (parts[0] === 'playground') return { screen: 'playground' };
  if (parts[0] === 'webhooks') return { screen: 'webhooks' };
  if (parts[0] === 'live') return { screen: 'live' };
  if (parts[0] === 'modules') return { screen: 'modules' };
  if (parts[0] === 'docs') return parts[1] ? { screen: 'docs', name: parts[1] } : { screen: 'docs' };
  return { screen: 'entities' };
}

export function href(r: Route): string {
  switch (r.screen) {
    case 'entity':
      return `#/entities/${encodeURIComponent(r.name)}`;
    case 'entities':
      return '#/entities';
    case 'records':
      return `#/records/${encodeURIComponent(r.name)}${r.id ? `/${encodeURIComponent(r.id)}` : ''}`;
    case 'docs':
      return r.name ? `#/docs/${encodeURIComponent(r.name)}` : '#/docs';
    default:
      return `#/${r.screen}`;
  }
}

export function go(r: Route): void {
  window.location.hash = href(r);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
