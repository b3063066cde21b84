/* tslint:disable */
/* eslint-disable */

/**
 * The in-page analyzer: detector, classifier, tracker and mood tracker.
 */
export class Analyzer {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Analyses a still image (RGBA, as [`Analyzer::analyze_rgba`] takes a
     * frame) on its own, leaving the camera's tracked faces and mood as
     * they are; answers a [`FrameReport`] whose `mood` is `null`.
     */
    analyzeImageRgba(width: number, height: number, rgba: Uint8Array | number[]): string;
    /**
     * Analyses one RGBA frame (`width * height * 4` bytes, as `ImageData`
     * holds it) taken at `now_ms` (the page's clock, milliseconds) and
     * answers with a [`FrameReport`] as JSON text.
     */
    analyzeRgba(width: number, height: number, rgba: Uint8Array | number[], now_ms: number): string;
    /**
     * Calibrates on readings of a resting face (JSON: an array of the
     * `probabilities` maps of uncalibrated frames, one face each) and
     * corrects every later frame by it; answers the calibration as JSON
     * (a map of offsets by emotion, for the page to keep). Refused, and
     * the old calibration kept, when the readings are too few or invalid.
     */
    calibrate(readings_json: string): string;
    /**
     * Takes a server's analysis settings (the `analysis` of its `hello`,
     * as JSON): whose face the mood follows, smoothing, dwell and
     * tracking, as `melodora serve` was started with. Forgets the faces
     * and the mood so far. Refused when the settings name a detector
     * other than the one in use: the page loads its model and calls
     * [`Analyzer::use_detector`] first.
     */
    configure(settings_json: string): void;
    /**
     * Loads the OpenCV cascade (XML text) and the ONNX model (bytes; its
     * embedded description is used unless `description_json` is given),
     * with `melodora serve`'s defaults: scale factor 1.1, 5 neighbours,
     * tracking on, mood smoothing with a 250 ms half-life and 700 ms dwell.
     */
    constructor(cascade_xml: string, model: Uint8Array | number[], description_json?: string | null);
    /**
     * Forgets the faces being tracked and the mood (a new camera, say).
     */
    reset(): void;
    /**
     * Uses a calibration made before (the JSON [`Analyzer::calibrate`]
     * answered), or none (`undefined`): frames are then read uncorrected.
     */
    setCalibration(calibration_json?: string | null): void;
    /**
     * Turns tracking on (faces searched near where they were, a full scan
     * every 15 frames unless [`Analyzer::configure`] said otherwise) or off
     * (every frame scanned whole).
     */
    setTracking(on: boolean): void;
    /**
     * Finds faces with the detector named `name` (`haar`, `blazeface` or
     * `blazeface-full`, as `--detector` names them); a BlazeFace detector
     * needs its TFLite model's bytes (`models/face_detection_*.tflite`).
     * Forgets the faces being tracked.
     */
    useDetector(name: string, model?: Uint8Array | number[] | null): void;
}

/**
 * The recommender and one listening session.
 */
export class Playlists {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Imports catalog CSVs chosen by the listener, as `melodora catalog
     * import` would: `names[i]` (e.g. `sad.csv`, which files its rows under
     * sad) is `sizes[i]` bytes of `bytes`, the files one after another.
     * Answers with the report as JSON ([`SnapshotImport`]); the catalog
     * is unchanged when nothing could be imported.
     */
    importFiles(names: string[], sizes: Uint32Array | number[], bytes: Uint8Array | number[]): string;
    /**
     * Library songs in the catalog (a site written with `--library`).
     */
    librarySongCount(): number;
    /**
     * Loads a catalog file (JSON text, as `melodora site` writes it) and
     * starts a session whose tie-breaking follows `seed`.
     */
    constructor(catalog_json: string, seed: number);
    /**
     * A list for `emotion` (a FER name or the original's) in `mode`
     * (`match` or `uplift`), at most `limit` songs, following `feedback`
     * (JSON: `[[song_id, "like" | "skip"], ...]`); as JSON, the
     * recommendations the server's `songs` message carries.
     */
    recommend(emotion: string, mode: string, limit: number, feedback_json: string): string;
    /**
     * Continues a session the page kept ([`Playlists::session_json`]).
     */
    restoreSession(json: string): void;
    /**
     * The session as JSON ([`SessionState`]), for the page to keep.
     */
    sessionJson(): string;
    /**
     * Which songs later lists hold: `all`, `library` or `catalog`.
     */
    setSource(source: string): void;
    /**
     * The catalog as JSON, for the page to keep an imported one.
     */
    snapshotJson(): string;
    /**
     * Songs in the catalog.
     */
    songCount(): number;
}

/**
 * The server's default list length, for the page.
 */
export function defaultLimit(): number;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_analyzer_free: (a: number, b: number) => void;
    readonly __wbg_playlists_free: (a: number, b: number) => void;
    readonly analyzer_analyzeImageRgba: (a: number, b: number, c: number, d: number, e: number) => [number, number, number, number];
    readonly analyzer_analyzeRgba: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number, number];
    readonly analyzer_calibrate: (a: number, b: number, c: number) => [number, number, number, number];
    readonly analyzer_configure: (a: number, b: number, c: number) => [number, number];
    readonly analyzer_new: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number];
    readonly analyzer_reset: (a: number) => void;
    readonly analyzer_setCalibration: (a: number, b: number, c: number) => [number, number];
    readonly analyzer_setTracking: (a: number, b: number) => void;
    readonly analyzer_useDetector: (a: number, b: number, c: number, d: number, e: number) => [number, number];
    readonly defaultLimit: () => number;
    readonly playlists_importFiles: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => [number, number, number, number];
    readonly playlists_librarySongCount: (a: number) => number;
    readonly playlists_new: (a: number, b: number, c: number) => [number, number, number];
    readonly playlists_recommend: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number) => [number, number, number, number];
    readonly playlists_restoreSession: (a: number, b: number, c: number) => [number, number];
    readonly playlists_sessionJson: (a: number) => [number, number];
    readonly playlists_setSource: (a: number, b: number, c: number) => [number, number];
    readonly playlists_snapshotJson: (a: number) => [number, number];
    readonly playlists_songCount: (a: number) => number;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __externref_drop_slice: (a: number, b: number) => void;
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
