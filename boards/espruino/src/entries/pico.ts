/** Espruino Pico bundle: RYLR LoRa on Serial1 (B6/B7), native AES. */
import { PICO } from '../../boards.js';
import { rylrFactory } from '../drivers.js';
import { makeStart } from '../start.js';

export const start = makeStart(PICO, { 'lora-rylr': rylrFactory(() => Serial1) });
