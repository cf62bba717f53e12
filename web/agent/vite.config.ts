import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The local gateway serves the API, /config.json, /auth and /ws on :8080; `npm run dev` proxies to it.
const gateway = process.env.CASELINE_GATEWAY ?? 'http://127.0.0.1:8080';
const apiRoots = ['/agents', '/cases', '/customers', '/me', '/merges', '/queues', '/saved-views', '/teams', '/views',
  '/auth', '/config.json', '/health'];

export default defineConfig({
  plugins: [react()],
  build: {
    manifest: true,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      ...Object.fromEntries(apiRoots.map((root) => [root, { target: gateway }])),
      '/ws': { target: gateway.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./test/setup.ts'],
    css: false,
  },
});
