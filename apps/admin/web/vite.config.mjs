// The operators' dashboard: built into dist/admin-web, served by the admin app at /.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  plugins: [react()],
  build: { outDir: path.resolve(here, '../../../dist/admin-web'), emptyOutDir: true },
  server: { proxy: { '/admin/api': 'http://127.0.0.1:3001' } },
});
