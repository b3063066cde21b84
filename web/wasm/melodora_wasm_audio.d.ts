/* tslint:disable */
/* eslint-disable */

/**
 * What a file with this extension is to Melodora: `"decoded"` (audio it
 * hears), `"other"` (not audio: passed over without a word) or the reason
 * it is audio Melodora cannot decode (listed as skipped).
 */
export function fileKind(extension: string): string;

/**
 * Hears one file's bytes (`extension`, e.g. `"mp3"`, helps find its
 * format); the answer as JSON ([`HeardSong`]), or an error saying why the
 * file cannot be heard (not audio, damaged, unsupported, too short).
 */
export function hear(bytes: Uint8Array | number[], extension: string): string;

/**
 * The embedded cover's bytes, when the file has one whose bytes are a
 * picture (JPEG, PNG, GIF or WebP, whatever its tag claims).
 */
export function readCover(bytes: Uint8Array | number[], extension: string): Uint8Array | undefined;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly fileKind: (a: number, b: number) => [number, number];
    readonly hear: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly readCover: (a: number, b: number, c: number, d: number) => [number, number];
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
