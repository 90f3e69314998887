import { defineConfig } from 'vitest/config';

// One suite for the whole project. Services (MQTT_URL, REDIS_URL, DATABASE_URL) are used when set;
// otherwise tests use embedded defaults. Long property/fuzz runs live in `npm run fuzz`, not here.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
