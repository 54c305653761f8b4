/**
 * jest for the sidebar's components. They import only React and the project's own modules, so no
 * JupyterLab (ESM) package is loaded and nothing needs transforming in node_modules.
 */
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.test.ts?(x)'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }]
  },
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js']
};
