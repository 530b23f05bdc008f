import { defineConfig } from 'tsdown';
import { packageBuild } from '../../tsdown.base.ts';

// A second entry: the preload a replaying stub starts each worker thread with (`--require`, so
// CommonJS is the one that counts), found beside the bundle that starts the worker.
export default defineConfig({ ...packageBuild, entry: { index: 'src/index.ts', 'worker-guard': 'src/stub/worker-guard.ts' }, shims: true });
