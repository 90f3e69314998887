/** nRF52 boards without AES in the firmware (Pixl.js, MDBT42Q): BLE NUS and RYLR, pure-JS AES. */
import { GENERIC } from '../../boards.js';
import { useJsAesFallback } from '../aes.js';
import { bleFactory, rylrFactory } from '../drivers.js';
import { makeStart } from '../start.js';

useJsAesFallback();
export const start = makeStart(GENERIC, { 'ble-nus': bleFactory, 'lora-rylr': rylrFactory(() => Serial1) });
