/**
 * Board profiles of the Espruino thin endpoint, the part compiled into each board's bundle:
 * modem UART pins, default BLE payload per packet, reassembly limit, LED pin (embedded.md §1.2
 * JsVars/flash, §2.1 BLE MTU, §3.1 RYLR on a UART). Build-time facts (native AES, drivers,
 * size budget, JsVars) are in boards.json, read by rollup.config.mjs, the CI gate
 * (scripts/espruino-gate.mjs) and the tests, which check that both files list the same boards.
 * The provisioned device config is not compiled in: every device of a board runs the same
 * bundle with its own `didcomm.json`.
 */

export interface BoardProfile {
  name: string;
  /** UART pins for a serial LoRa modem (Espruino pin names; the config may override them). */
  uartPins: { rx: string; tx: string };
  /** Bytes per BLE notification/write (ATT MTU − 3) unless the config says otherwise. */
  bleMtu: number;
  /** Largest message reassembled from fragments (bytes). */
  maxMessage: number;
  /** Pin the `led` command drives ("LED1" = the board's LED1 when it has one). */
  ledPin: string;
}

export const PUCK_JS: BoardProfile = { name: 'puck-js', uartPins: { rx: 'D29', tx: 'D28' }, bleMtu: 20, maxMessage: 512, ledPin: 'LED1' };

export const PICO: BoardProfile = { name: 'pico', uartPins: { rx: 'B7', tx: 'B6' }, bleMtu: 0, maxMessage: 1024, ledPin: 'LED1' };

export const ESP32: BoardProfile = { name: 'esp32', uartPins: { rx: 'D16', tx: 'D17' }, bleMtu: 0, maxMessage: 2048, ledPin: 'D2' };

/** nRF52 boards whose firmware has no AES (Pixl.js, MDBT42Q). */
export const GENERIC: BoardProfile = { name: 'generic', uartPins: { rx: 'D29', tx: 'D28' }, bleMtu: 20, maxMessage: 512, ledPin: 'LED1' };

export const BOARDS: BoardProfile[] = [PUCK_JS, PICO, ESP32, GENERIC];
