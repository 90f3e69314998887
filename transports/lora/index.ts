/**
 * The LoRa part of the link layer: airtime and duty cycle (Semtech AN1200.13, ETSI sub-bands),
 * the radio channel simulator, modem drivers (REYAX RYLR, Microchip RN2483, RAK3172, Ebyte E22/E32)
 * and their emulators. See README.md in this directory.
 */
export * from './airtime.js';
export * from './duty-cycle.js';
export * from './channel.js';
export * from './link-base.js';
export * from './at-modem.js';
export * from './rylr.js';
export * from './rn2483.js';
export * from './rak3172.js';
export * from './transparent.js';
export * from './simulated.js';
export { ModemEmulator, AtModemEmulator, type ModemEmulatorOptions, type EmulatorStats } from './emulators/emulator-base.js';
export { RylrEmulator, type RylrEmulatorOptions } from './emulators/rylr.js';
export { Rn2483Emulator, type Rn2483EmulatorOptions } from './emulators/rn2483.js';
export { Rak3172Emulator, type Rak3172EmulatorOptions } from './emulators/rak3172.js';
export { EbyteEmulator, EBYTE_DEFAULTS, type EbyteEmulatorOptions, type EbyteModel } from './emulators/ebyte.js';
