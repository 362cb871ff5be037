/** A small router over the History API: paths under /admin, a hook that re-renders on navigation. */
import { useEffect, useState } from 'react';

export const BASE = '/admin';

export function currentPath(): string {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : '/';
  return path === '' ? '/' : path;
}

/** True once the app moved to another page itself: from then on each page's heading takes the focus (not on the first load). */
export let hasNavigated = false;

export function navigate(to: string): void {
  hasNavigated = true;
  window.history.pushState(null, '', `${BASE}${to === '/' ? '/' : to}`);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): { path: string; query: URLSearchParams } {
  const [location, setLocation] = useState(() => ({ path: currentPath(), query: new URLSearchParams(window.location.search) }));
  useEffect(() => {
    const update = () => {
      hasNavigated = true;
      setLocation({ path: currentPath(), query: new URLSearchParams(window.location.search) });
    };
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return location;
}
