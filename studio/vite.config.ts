// Vite builds studio/dist (static files the front door serves at /).
//
// `vite preview` can stand in for the front door while developing or testing
// without nginx: with COT_POSTGREST_URL set, it proxies /rest/v1/ to
// PostgREST and forces Accept-Profile/Content-Profile to the tenant of the
// Host (`acme.localhost:4173` → acme), as gateway/nginx.conf.template does.
import { defineConfig, type ProxyOptions } from 'vite';
import react from '@vitejs/plugin-react';

const postgrest = process.env.COT_POSTGREST_URL;

function restProxy(target: string): Record<string, ProxyOptions> {
  return {
    '/rest/v1': {
      target,
      rewrite: (path) => path.replace(/^\/rest\/v1/, '') || '/',
      configure: (proxy) => {
        proxy.on('proxyReq', (proxyReq, req) => {
          const host = (req.headers.host ?? '').split(':')[0] ?? '';
          const m = /^([a-z][a-z0-9_]*)\.localhost$/.exec(host);
          proxyReq.removeHeader('accept-profile');
          proxyReq.removeHeader('content-profile');
          if (m?.[1]) {
            proxyReq.setHeader('Accept-Profile', m[1]);
            proxyReq.setHeader('Content-Profile', m[1]);
          }
        });
      },
    },
  };
}

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  preview: {
    host: '127.0.0.1',
    strictPort: true,
    allowedHosts: ['.localhost'],
    proxy: postgrest ? restProxy(postgrest) : undefined,
  },
  server: {
    allowedHosts: ['.localhost'],
    proxy: postgrest ? restProxy(postgrest) : undefined,
  },
});
