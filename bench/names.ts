// The benchmarks of `npm run bench`, in the order they run (also what the smoke test expects in a report).

export const BENCHMARK_NAMES = ['reload-latency', 'memory', 'burst', 'unseal', 'gitsync', 'startup', 'render-stalls'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];
