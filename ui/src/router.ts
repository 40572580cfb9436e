import { useEffect, useState } from 'preact/hooks';

/**
 * The console's routes are real paths under /ui/ (the server answers index.html for each), so
 * links are plain anchors: they open in a new tab, and keyboard and screen readers treat them
 * as links. A dozen lines of history API do not need a router library.
 */
export const BASE = '/ui';

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useLocation(): URL {
  const [href, setHref] = useState(location.href);
  useEffect(() => {
    const changed = () => setHref(location.href);
    addEventListener('popstate', changed);
    return () => removeEventListener('popstate', changed);
  }, []);
  return new URL(href);
}

/** An in-app link click navigates without a reload (modified clicks keep the browser's meaning). */
export function onLinkClick(event: MouseEvent): void {
  const a = (event.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (a.target || a.hasAttribute('download') || !a.pathname.startsWith(`${BASE}/`)) return;
  event.preventDefault();
  navigate(a.pathname + a.search);
}
