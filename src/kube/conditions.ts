// Status conditions, written once: the metav1.Condition shape, and the rule that lastTransitionTime moves only when
// a condition's status changes. GitSync, ImagePolicy, Notifier and SealedSecret status all go through here. Pure.

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The lastTransitionTime for a condition now `status`: kept from `prev` while its status is unchanged, else now. */
export function transitionTime(prev: { readonly status?: string; readonly lastTransitionTime?: string | undefined } | undefined, status: string, now: string): string {
  return prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
}

/** Replaces (or adds) a condition, keeping its transition time while unchanged; Ready, Reconciling, Stalled first. */
export function setCondition(conditions: readonly Condition[] | undefined, next: Condition, now: string): Condition[] {
  const out = (conditions ?? []).filter((c) => c.type !== next.type);
  const prev = (conditions ?? []).find((c) => c.type === next.type);
  out.push({ ...next, lastTransitionTime: transitionTime(prev, next.status, now) });
  const order = ['Ready', 'Reconciling', 'Stalled'];
  return out.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}
