// Tests run the TypeScript sources directly through tsx. Worker threads are off:
// tests spawn real child processes and PTYs, which ava's own workers do not suit.
export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '120s',
  concurrency: 2,
};
