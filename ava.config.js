// Tests run the TypeScript sources directly through tsx. Worker threads are off:
// tests spawn real child processes and PTYs, which ava's own workers do not suit.
export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  // --expose-gc: memory-bound tests collect garbage as they go, so they measure what is kept, not what V8 has yet to collect.
  nodeArguments: ['--import=tsx', '--expose-gc'],
  workerThreads: false,
  timeout: '120s',
  concurrency: 2,
};
