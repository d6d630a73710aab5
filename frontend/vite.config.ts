import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const backend = process.env.SCRM_BACKEND ?? 'http://127.0.0.1:8000'

// The console is served by the Python package (scrm.web), so the build lands in its static folder.
export default defineConfig({
  base: '/',
  plugins: [react()],
  server: {
    proxy: {
      '/api': backend,
      '/healthz': backend,
      '/readyz': backend,
      '/metrics': backend,
    },
  },
  preview: {
    proxy: {
      '/api': backend,
      '/healthz': backend,
      '/readyz': backend,
      '/metrics': backend,
    },
  },
  build: {
    outDir: '../src/scrm/web/dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|echarts-for-react)[\\/]/, priority: 40 },
            { name: 'pro-components', test: /node_modules[\\/]@ant-design[\\/]pro-/, priority: 35 },
            { name: 'antd-icons', test: /node_modules[\\/]@ant-design[\\/]icons/, priority: 32 },
            {
              name: 'antd',
              test: /node_modules[\\/](antd|@ant-design|@rc-component|rc-[^\\/]+|@emotion|dayjs|stylis)[\\/]/,
              priority: 30,
              // antd alone minifies to ~1.1 MB: let rolldown cut it into pieces of at most ~500 kB
              maxSize: 500_000,
            },
            {
              name: 'react',
              test: /node_modules[\\/](react|react-dom|scheduler|react-router|react-router-dom|@tanstack|i18next|react-i18next)[\\/]/,
              priority: 20,
            },
          ],
        },
      },
    },
  },
})
