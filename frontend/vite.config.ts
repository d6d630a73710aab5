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
        // Vendor chunks. Each group also captures its dependencies, so the group a shared library
        // (react) must land in has the higher priority.
        codeSplitting: {
          groups: [
            {
              name: 'react',
              test: /node_modules[\\/](react|react-dom|scheduler|react-router|react-router-dom|@tanstack|i18next|react-i18next|@ant-design[\\/]v5-patch-for-react-19)[\\/]/,
              priority: 50,
            },
            { name: 'antd-icons', test: /node_modules[\\/]@ant-design[\\/](icons|icons-svg)[\\/]/, priority: 45 },
            {
              name: 'antd-base',
              test: /node_modules[\\/](rc-[^\\/]+|@rc-component|@ant-design[\\/](cssinjs|cssinjs-utils|colors|fast-color|react-slick)|@babel[\\/]runtime|@emotion|dayjs|stylis|classnames|resize-observer-polyfill|throttle-debounce|copy-to-clipboard|scroll-into-view-if-needed|compute-scroll-into-view|json2mq|string-convert|toggle-selection)[\\/]/,
              priority: 40,
            },
            // antd's pickers and other form-heavy components, apart, so neither antd chunk passes the size limit
            {
              name: 'antd-pickers',
              test: /node_modules[\\/]antd[\\/]es[\\/](date-picker|time-picker|calendar|tree-select|tree|transfer|cascader|upload|color-picker|qr-code|tour|carousel|image|statistic|timeline|segmented|affix|anchor)[\\/]/,
              priority: 35,
            },
            { name: 'antd', test: /node_modules[\\/]antd[\\/]/, priority: 30 },
            // ECharts' renderer apart, so the echarts chunk stays under the limit with the map series in it
            { name: 'zrender', test: /node_modules[\\/]zrender[\\/]/, priority: 25 },
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|echarts-for-react|tslib|size-sensor|fast-deep-equal)[\\/]/, priority: 20 },
          ],
        },
      },
    },
  },
})
