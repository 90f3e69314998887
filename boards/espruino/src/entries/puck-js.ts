/** Puck.js bundle: BLE NUS and RYLR LoRa (on D28/D29), native AES. */
import { PUCK_JS } from '../../boards.js';
import { bleFactory, rylrFactory } from '../drivers.js';
import { makeStart } from '../start.js';

export const start = makeStart(PUCK_JS, { 'ble-nus': bleFactory, 'lora-rylr': rylrFactory(() => Serial1) });
