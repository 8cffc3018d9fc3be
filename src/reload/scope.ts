// Which namespaces reload acts in (--namespaces, --ignore-namespaces, --namespace-selector). Pure.

export interface ScopeOptions {
  readonly namespaces: readonly string[];
  readonly ignoreNamespaces: readonly string[];
}

/** --namespaces/--ignore-namespaces; `selected` is the set matched by --namespace-selector, when one is given. */
export function inScope(namespace: string, opts: ScopeOptions, selected: ReadonlySet<string> | undefined): boolean {
  if (opts.namespaces.length > 0 && !opts.namespaces.includes(namespace)) return false;
  if (opts.ignoreNamespaces.includes(namespace)) return false;
  if (selected && !selected.has(namespace)) return false;
  return true;
}

/** A field selector that keeps ignored namespaces out of cluster-wide list/watch calls (the server filters). */
export function ignoreFieldSelector(ignoreNamespaces: readonly string[]): string | undefined {
  if (ignoreNamespaces.length === 0) return undefined;
  return ignoreNamespaces.map((n) => `metadata.namespace!=${n}`).join(',');
}

/** The namespaces to watch one by one, or [''] for one cluster-wide watch per resource. */
export function watchedNamespaces(opts: ScopeOptions): string[] {
  const list = opts.namespaces.filter((n) => !opts.ignoreNamespaces.includes(n));
  return opts.namespaces.length > 0 ? [...new Set(list)] : [''];
}
