/** ESP32 bundle: RYLR LoRa on Serial2 (D16/D17), native AES. E.hwRand() is rand() here: unused for keys. */
import { ESP32 } from '../../boards.js';
import { rylrFactory } from '../drivers.js';
import { makeStart } from '../start.js';

export const start = makeStart(ESP32, { 'lora-rylr': rylrFactory(() => Serial2) });
