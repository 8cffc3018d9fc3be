// Runs async work over many items with bounded concurrency (creating thousands of objects without opening thousands
// of requests at once), and a monotonic clock in milliseconds.

import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
export const pad = (i: number, width = 5): string => String(i).padStart(width, '0');
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
