// The Raspberry Pi app bundle: dist/raspberry-pi/app.js (ESM, Node ≥ 20). Native and optional
// packages stay external and are installed with the package on the Pi.
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const external = [/^node:/, 'serialport', /^@serialport\//, 'mqtt', 'ws', 'better-sqlite3', 'pg', 'ioredis', '@stoprocent/noble', 'johnny-five', /^@noble\//];

export default [
  {
    input: 'boards/raspberry-pi/main.ts',
    external,
    output: { file: 'dist/raspberry-pi/app.js', format: 'es', sourcemap: false, inlineDynamicImports: true },
    plugins: [
      nodeResolve({ extensions: ['.ts', '.js'], preferBuiltins: true }),
      typescript({ tsconfig: './tsconfig.json', declaration: false, declarationMap: false, outDir: 'dist/raspberry-pi', rootDir: '.', noEmitOnError: false, include: ['src/**/*.ts', 'transports/**/*.ts', 'boards/raspberry-pi/**/*.ts'] }),
    ],
    onwarn(w, warn) {
      if (w.code === 'CIRCULAR_DEPENDENCY' || w.code === 'THIS_IS_UNDEFINED') return;
      warn(w);
    },
  },
];
