// Unit tests of the page's logic that needs no browser, importing the
// page's modules as the browser does: the calibration capture (what it
// keeps, when it refuses, what it leaned to, where it is kept), the photo's
// size check, the state store, the countdown of a mood set by hand and the
// player's next song. localStorage is a stand-in set per test. The browser
// tests (tests/e2e) drive the same modules through the page.
//
//   node --test web/tests/
import { test } from "node:test";
import assert from "node:assert/strict";

import * as Calibration from "../calibration.js";
import * as Photo from "../photo.js";
import { EMOTIONS } from "../emotions.js";
import { Store, initialState, withMood, largestFace, analysingOnDevice, calibrationInUse } from "../state.js";
import { manualText } from "../view/steering.js";
import { clock } from "../view/playlist.js";
import { matchingGainDb, moodMoved, plannedNext, spotifyIdOk, stepBack, upNext, withPlayed } from "../player/queue.js";
import { embedUrl, readEmbedMessage, reachedEnd } from "../player/spotify.js";
import { keptSettings } from "../player/player.js";
import { csvCell, historyCsv, keepPlays, keptPlays, listCsv, m3u8, playOf, playsFromServer, PLAYS_KEPT, PLAYS_KEY, spotifyLink, withPlay } from "../player/history.js";
import { keptByTarget, shortcut } from "../view/keys.js";
import { chosenSource } from "../source.js";
import { folderSong, snapshotJson, titleFromName } from "../music/folder.js";
import { folderText } from "../view/folder.js";

/** Puts `storage` where the page's modules find localStorage. */
function useStorage(storage) {
  globalThis.localStorage = storage;
}

/** localStorage as the browser has it (strings in, strings out). */
function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

/** localStorage in a browser that refuses it (private mode, storage off). */
const refusingStorage = {
  getItem() { throw new Error("SecurityError"); },
  setItem() { throw new Error("QuotaExceededError"); },
  removeItem() { throw new Error("SecurityError"); },
};

function reading(leaning, share = 0.7) {
  const probabilities = {};
  for (const e of EMOTIONS) probabilities[e] = e === leaning ? share : (1 - share) / (EMOTIONS.length - 1);
  return probabilities;
}

const oneFace = (probabilities) => ({ faces: [{ probabilities }] });
const noFace = { faces: [] };
const twoFaces = { faces: [{ probabilities: reading("happy") }, { probabilities: reading("sad") }] };

test("a capture keeps readings as the model gave them, undoing the calibration in use", () => {
  useStorage(memoryStorage());
  const inUse = { sad: -1.5, neutral: 0.8 };
  const raw = reading("sad", 0.5);
  // The analyzer's correction: each probability times e^offset, renormalised.
  const corrected = {};
  let sum = 0;
  for (const e of EMOTIONS) sum += (corrected[e] = raw[e] * Math.exp(inUse[e] || 0));
  for (const e of EMOTIONS) corrected[e] /= sum;
  assert.ok(corrected.sad < raw.sad, "the stand-in correction lowers sad");

  const capture = new Calibration.Capture(inUse);
  capture.add(oneFace(corrected));
  assert.equal(capture.readings.length, 1);
  for (const e of EMOTIONS) assert.ok(Math.abs(capture.readings[0][e] - raw[e]) < 1e-12, e);
  // Without a calibration in use, readings are kept as they came.
  const plain = new Calibration.Capture(null);
  plain.add(oneFace(raw));
  assert.deepEqual({ ...plain.readings[0] }, raw);
});

test("a capture is refused with several faces, or with the face seen too rarely", () => {
  useStorage(memoryStorage());
  const capture = () => new Calibration.Capture(null);

  const enough = capture();
  for (let i = 0; i < 6; i++) enough.add(oneFace(reading("neutral")));
  assert.equal(enough.refusal(), null);

  const crowded = capture();
  for (let i = 0; i < 6; i++) crowded.add(oneFace(reading("neutral")));
  crowded.add(twoFaces);
  assert.match(crowded.refusal(), /several faces/);

  const fewReadings = capture();
  for (let i = 0; i < 4; i++) fewReadings.add(oneFace(reading("neutral")));
  assert.match(fewReadings.refusal(), /not seen/);

  const mostlyAway = capture(); // 6 readings in 13 frames: under half
  for (let i = 0; i < 6; i++) mostlyAway.add(oneFace(reading("neutral")));
  for (let i = 0; i < 7; i++) mostlyAway.add(noFace);
  assert.match(mostlyAway.refusal(), /not seen/);

  const halfAway = capture(); // 6 of 12: exactly half is enough
  for (let i = 0; i < 6; i++) halfAway.add(oneFace(reading("neutral")));
  for (let i = 0; i < 6; i++) halfAway.add(noFace);
  assert.equal(halfAway.refusal(), null);
});

test("a capture leans to the emotion with the largest summed share", () => {
  useStorage(memoryStorage());
  const capture = new Calibration.Capture(null);
  capture.add(oneFace(reading("happy", 0.9)));
  capture.add(oneFace(reading("sad", 0.6)));
  capture.add(oneFace(reading("sad", 0.6)));
  assert.equal(capture.leading(), "sad"); // 1.2 + 0.02 against 0.9 + 0.13
});

test("a calibration is kept in, read from and forgotten by localStorage", () => {
  const storage = memoryStorage();
  useStorage(storage);
  assert.equal(Calibration.load(), null);
  const calibration = { sad: -1.25, neutral: 0.5 };
  assert.equal(Calibration.save(calibration), true);
  assert.deepEqual({ ...Calibration.load() }, calibration);
  Calibration.forget();
  assert.equal(Calibration.load(), null);

  storage.setItem("melodora.calibration", "{not json");
  assert.equal(Calibration.load(), null, "a damaged entry reads as not calibrated");
});

test("storage that refuses leaves the page uncalibrated, without throwing", () => {
  useStorage(refusingStorage);
  assert.equal(Calibration.load(), null);
  assert.equal(Calibration.save({ sad: -1 }), false);
  assert.doesNotThrow(() => Calibration.forget());
});

test("a photo over 20 MB is refused before it is read, with its size", () => {
  assert.equal(Photo.refusal({ size: 20 * 1024 * 1024 }), null);
  assert.equal(Photo.refusal({ size: 0 }), null);
  assert.match(Photo.refusal({ size: 20 * 1024 * 1024 + 1 }), /too large \(20\.0 MB; at most 20 MB\)/);
  assert.match(Photo.refusal({ size: 31.5 * 1024 * 1024 }), /31\.5 MB/);
});

test("the store tells subscribers of each change, and a watch redraws only for its part", () => {
  const store = new Store(initialState());
  const seen = [];
  store.subscribe((state, previous) => seen.push([previous.paused, state.paused]));
  const moods = [];
  store.watch((s) => [s.mood], (s) => moods.push(s.mood && s.mood.emotion));
  store.update({ paused: true });
  store.update((s) => ({ paused: !s.paused }));
  assert.deepEqual(seen, [[false, false], [false, true], [true, false]]);
  assert.deepEqual(moods, [null], "the mood watch ran once, at mounting");
  store.update({ mood: { emotion: "sad", confidence: 0.9 } });
  store.update({ notice: null });
  assert.deepEqual(moods, [null, "sad"]);
  const before = store.state;
  store.update({ paused: true });
  assert.equal(before.paused, false, "an update makes a new state; the old one is left as it was");
});

test("a mood joins the history only when it changes, and the history keeps its newest entries", () => {
  let state = initialState();
  const apply = (emotion, t, limit) => { state = { ...state, ...withMood(state, { emotion, confidence: 0.8 }, t, limit) }; };
  apply("happy", 1);
  apply("happy", 2);
  apply("sad", 3);
  assert.deepEqual(state.history, [{ t: 1, emotion: "happy" }, { t: 3, emotion: "sad" }]);
  assert.equal(state.mood.emotion, "sad");
  apply("fear", 4, 2);
  assert.deepEqual(state.history.map((m) => m.emotion), ["sad", "fear"]);
});

test("the largest face leads, and where frames are read decides the calibration in use", () => {
  const face = (w, h, emotion) => ({ x: 0, y: 0, w, h, emotion });
  assert.equal(largestFace({ faces: [] }), null);
  assert.equal(largestFace({ faces: [face(10, 10, "sad"), face(30, 20, "happy"), face(20, 20, "fear")] }).emotion, "happy");
  const calibrations = { deviceCalibration: { sad: -1 }, serverCalibration: { happy: 1 } };
  const onDevice = { ...initialState(), ...calibrations, capture: "browser", analysis: "device" };
  assert.ok(analysingOnDevice(onDevice));
  assert.deepEqual(calibrationInUse(onDevice), { sad: -1 });
  for (const elsewhere of [{ analysis: "server" }, { deviceFailed: "no WebAssembly" }, { capture: "server" }]) {
    const state = { ...onDevice, ...elsewhere };
    assert.ok(!analysingOnDevice(state), JSON.stringify(elsewhere));
    assert.deepEqual(calibrationInUse(state), { happy: 1 });
  }
});

test("a mood set by hand counts down to following the face again", () => {
  const now = 1_000_000;
  const state = { ...initialState(), now, manual: { emotion: "sad", until: now + 9 * 60_000 + 58_500, from: "set by hand" } };
  assert.equal(manualText(state), "Playlist for sad, set by hand; following your face again in 9:59.");
  assert.equal(manualText({ ...state, now: state.manual.until + 5 }), "Playlist for sad, set by hand; following your face again in 0:00.");
  assert.equal(manualText({ ...state, manual: null }), "");
});

test("Next plays the next song of the list that has a player, and passes over what played", () => {
  const song = (id, spotify_id) => ({ id, spotify_id, title: `song ${id}` });
  const songs = [song(1, "4uLU6hMCjMI75M1A2tKUQC"), song(2, null), song(3, "not an id"), song(4, "7zNT9GE070fYjnhx6TFWnQ")];
  assert.equal(upNext(songs, null, []).id, 1);
  assert.equal(upNext(songs, songs[0], [songs[0]]).id, 4, "songs without a well-formed id are passed over");
  assert.equal(upNext(songs, songs[3], [songs[0], songs[3]]).id, 1, "when all have played the list goes round");
  assert.equal(upNext([songs[0]], songs[0], [songs[0]]), null, "a list of one has no next");
  assert.ok(spotifyIdOk("7zNT9GE070fYjnhx6TFWnQ"));
  for (const bad of ["7zNT9GE070fYjnhx6TFWn", "7zNT9GE070fYjnhx6TFWnQ/", "../../evil0000000000000", 42, null]) {
    assert.ok(!spotifyIdOk(bad), String(bad));
  }
});

test("the queue follows the list as it is now: a new mood's list re-plans what comes next", () => {
  const heard = { duration_s: 187.4, valence: -0.4, arousal: -0.3, quadrant: "Q3", media_type: "audio/ogg" };
  const mine = (id) => ({ id, spotify_id: null, title: `mine ${id}`, library: heard });
  const sadList = [mine(1), mine(2), mine(3)];
  const happyList = [mine(7), mine(2), mine(8)];
  const played = [sadList[0]];
  assert.equal(upNext(sadList, sadList[0], played).id, 2);
  // The mood moved while song 1 plays: it plays on, and the new list decides what follows.
  assert.equal(upNext(happyList, sadList[0], played).id, 7);
  assert.equal(upNext(happyList, happyList[0], [...played, happyList[0]]).id, 2);
  assert.ok(moodMoved("sad", "happy"));
  assert.ok(!moodMoved("sad", "sad"));
  assert.ok(!moodMoved(null, "happy"), "a song started before any mood offers no switch");
});

test("on its own the queue goes on through library and Spotify songs, and passes over Spotify's once its embed stayed silent", () => {
  const heard = { duration_s: 187.4, valence: -0.4, arousal: -0.3, quadrant: "Q3", media_type: "audio/ogg" };
  const songs = [
    { id: 1, spotify_id: null, title: "catalog, no player" },
    { id: 2, spotify_id: null, title: "mine", library: heard },
    { id: 3, spotify_id: "7zNT9GE070fYjnhx6TFWnQ", title: "spotify" },
    { id: 4, spotify_id: null, title: "mine too", library: heard },
  ];
  assert.equal(upNext(songs, null, []).id, 2, "a library song needs no Spotify id");
  assert.equal(upNext(songs, songs[1], [songs[1]]).id, 3, "Next goes to Spotify's song");
  const answering = (song) => !!song.library || spotifyIdOk(song.spotify_id);
  const silent = (song) => !!song.library;
  assert.equal(plannedNext(songs, songs[1], [songs[1]], answering).id, 3, "while the embed answers, a Spotify song follows on");
  assert.equal(plannedNext(songs, songs[2], [songs[1], songs[2]], answering).id, 4, "and a library song follows it");
  assert.equal(plannedNext(songs, songs[1], [songs[1]], silent).id, 4, "a silent embed: the queue passes over it");
  assert.equal(plannedNext(songs, songs[2], [songs[1], songs[2]], silent).id, 4, "after a song played by a click, the next with a player");
  assert.equal(plannedNext(songs, null, [], answering), null, "nothing playing plans nothing");
  assert.equal(clock(187.4), "3:07");
  assert.equal(clock(59.6), "1:00");
  assert.equal(clock(0), "0:00");
});

test("Spotify's embed: its messages are read by shape, in seconds, and a song ends at its duration", () => {
  assert.equal(embedUrl("7zNT9GE070fYjnhx6TFWnQ"), "https://open.spotify.com/embed/track/7zNT9GE070fYjnhx6TFWnQ");
  assert.deepEqual(readEmbedMessage({ type: "ready", payload: {} }), { kind: "ready" });
  assert.deepEqual(readEmbedMessage(JSON.stringify({ type: "ready" })), { kind: "ready" }, "a message sent as text");
  assert.deepEqual(readEmbedMessage({ type: "playback_update", payload: { isPaused: false, isBuffering: false, position: 1500, duration: 30000 } }),
    { kind: "playback", playback: { paused: false, position: 1.5, duration: 30 } });
  const unknownLength = readEmbedMessage({ type: "playback_update", payload: { isPaused: true, position: 0, duration: 0 } });
  assert.ok(unknownLength?.kind === "playback" && Number.isNaN(unknownLength.playback.duration));
  for (const junk of [null, 7, "{", "[]", { type: "playback_update" }, { type: "playback_update", payload: { position: "1", duration: 2 } },
    { type: "playback_update", payload: { position: -1, duration: 2 } }, { type: "playback_update", payload: { position: 1, duration: Infinity } },
    { type: "load_complete_ack" }, { command: "play" }]) {
    assert.equal(readEmbedMessage(junk), null, JSON.stringify(junk));
  }
  const at = (position, duration = 30, paused = false) => ({ paused, position, duration });
  assert.ok(!reachedEnd(null, at(0)));
  assert.ok(!reachedEnd(at(28), at(29)));
  assert.ok(!reachedEnd(at(29.2), at(29.6)), "the last moment of a song still plays");
  assert.ok(reachedEnd(at(29.6), at(29.97)), "its end, give or take the embed's rounding");
  assert.ok(reachedEnd(at(29), at(30, 30, true)), "at the end, paused");
  assert.ok(reachedEnd(at(28.9), at(0, 30, true)), "stopped and rewound just after being at the end");
  assert.ok(!reachedEnd(at(12), at(0, 30, true)), "paused and sought back in the middle is no end");
  assert.ok(!reachedEnd(at(28.9, 30, true), at(0, 30, true)), "rewound while paused is no end");
  assert.ok(!reachedEnd(null, at(0, NaN)), "no end before the length is known");
});

test("Previous steps back through what played, not back and forth", () => {
  const s = (id) => ({ id, title: `song ${id}` });
  const [a, b, c] = [s(1), s(2), s(3)];
  let step = stepBack([a, b, c], c);
  assert.equal(step.song.id, 2);
  assert.deepEqual(step.played.map((x) => x.id), [1, 2]);
  step = stepBack(step.played, step.song);
  assert.equal(step.song.id, 1);
  assert.equal(stepBack([a], a).song, null, "nothing before the first song");
  assert.equal(withPlayed(Array.from({ length: 200 }, (_, i) => s(i)), a).length, 200, "what played is kept to the newest 200");
});

test("library songs are matched in loudness, and never pushed past the boost limit", () => {
  assert.equal(matchingGainDb(-10, -16, 6), -6, "a loud master is turned down");
  assert.equal(matchingGainDb(-19, -16, 6), 3);
  assert.equal(matchingGainDb(-40, -16, 6), 6, "a quiet one is raised at most 6 dB");
  for (const unmeasured of [undefined, null, NaN, -70.5]) assert.equal(matchingGainDb(unmeasured, -16, 6), 0);
});

test("the player's volume and crossfade are kept, and nonsense kept falls back to the defaults", () => {
  const storage = memoryStorage();
  useStorage(storage);
  assert.deepEqual(keptSettings(), { volume: 1, crossfadeS: 3 });
  storage.setItem("melodora.player", JSON.stringify({ volume: 0.4, crossfadeS: 0 }));
  assert.deepEqual(keptSettings(), { volume: 0.4, crossfadeS: 0 });
  storage.setItem("melodora.player", JSON.stringify({ volume: 7, crossfadeS: -2 }));
  assert.deepEqual(keptSettings(), { volume: 1, crossfadeS: 3 });
  storage.setItem("melodora.player", "{not json");
  assert.deepEqual(keptSettings(), { volume: 1, crossfadeS: 3 });
});

test("keyboard shortcuts: the keys, and keys left to fields and buttons", () => {
  assert.equal(shortcut(" "), "toggle");
  assert.equal(shortcut("N"), "next");
  assert.equal(shortcut("p"), "previous");
  assert.equal(shortcut("l"), "like");
  assert.equal(shortcut("S"), "skip");
  assert.equal(shortcut("?"), "help");
  assert.equal(shortcut("x"), null);
  assert.equal(keptByTarget(null, "n"), false);
  // An element stands in: `closest` answers for the selectors it is inside.
  const inside = (...selectors) => ({ closest: (query) => (selectors.some((s) => query.includes(s)) ? {} : null) });
  assert.equal(keptByTarget(inside("body"), "n"), false, "on the page, N is a shortcut");
  assert.equal(keptByTarget(inside("input"), "n"), true, "typed into a field, it is a letter");
  assert.equal(keptByTarget(inside("button"), " "), true, "space on a button presses it");
  assert.equal(keptByTarget(inside("button"), "n"), false, "but N on a button is still a shortcut");
});

test("what played is kept, bounded, and read back only when well-formed", () => {
  const storage = memoryStorage();
  useStorage(storage);
  assert.deepEqual(keptPlays(), []);
  const song = { id: 5, title: "Elf land", artist: "Wesnoth", album: "", reason: "sounds calm", spotify_id: null, library: { duration_s: 61.2 } };
  const play = playOf(song, "sad", 1_000);
  assert.deepEqual(play, { t: 1_000, id: 5, title: "Elf land", artist: "Wesnoth", album: "", mood: "sad", reason: "sounds calm", spotify_id: null, duration_s: 61.2 });
  let plays = [];
  for (let i = 0; i < PLAYS_KEPT + 3; i++) plays = withPlay(plays, { ...play, t: i });
  assert.equal(plays.length, PLAYS_KEPT);
  assert.equal(plays[0].t, 3, "the oldest go first");
  assert.ok(keepPlays(plays));
  assert.equal(keptPlays().length, PLAYS_KEPT);
  storage.setItem(PLAYS_KEY, JSON.stringify([play, { t: "x" }, null, 7, { ...play, title: 3 }]));
  assert.deepEqual(keptPlays(), [play], "entries that are not plays are dropped");
  storage.setItem(PLAYS_KEY, "{oops");
  assert.deepEqual(keptPlays(), []);
});

test("a server's plays (newest first) become the page's (oldest first), malformed ones left out", () => {
  const served = [
    { at_ms: 2000, song_id: 7, title: "B", artist: "b", mood: "happy", reason: "why", spotify_id: "7zNT9GE070fYjnhx6TFWnQ" },
    { at_ms: 1000, song_id: 3, title: "A", artist: "a", mood: null, reason: "" },
    { at_ms: "soon", song_id: 4, title: "C", artist: "c" }, null, 5, { at_ms: 3, song_id: 9, title: "D", artist: "d", mood: "bored" },
  ];
  const plays = playsFromServer(served);
  assert.deepEqual(plays.map((p) => p.id), [9, 3, 7]);
  assert.equal(plays[0].mood, null, "an unknown mood is none");
  assert.deepEqual(plays[2], { t: 2000, id: 7, title: "B", artist: "b", album: "", mood: "happy", reason: "why", spotify_id: "7zNT9GE070fYjnhx6TFWnQ", duration_s: null });
  const many = Array.from({ length: PLAYS_KEPT + 5 }, (_, i) => ({ at_ms: 10000 - i, song_id: i, title: "t", artist: "a" }));
  assert.equal(playsFromServer(many).length, PLAYS_KEPT);
});

test("M3U8 lists the library files, CSV every song, and hostile text stays data", () => {
  const songs = [
    { title: "Elf land", artist: "Wesnoth", duration_s: 61.4 },
    { title: "A Spotify song", artist: "Someone", duration_s: null },
    { title: "Two\nlines", artist: "Evil\r\n#EXTINF:0,injected", duration_s: 10 },
  ];
  const where = ["http://127.0.0.1:5000/api/library/tracks/1/audio", null, "http://127.0.0.1:5000/api/library/tracks/3/audio"];
  assert.equal(m3u8(songs, (i) => where[i]),
    "#EXTM3U\n#EXTINF:61,Wesnoth - Elf land\nhttp://127.0.0.1:5000/api/library/tracks/1/audio\n"
    + "#EXTINF:10,Evil #EXTINF:0,injected - Two lines\nhttp://127.0.0.1:5000/api/library/tracks/3/audio\n");
  assert.equal(csvCell("plain"), "plain");
  assert.equal(csvCell('say "hi", twice'), '"say ""hi"", twice"');
  assert.equal(csvCell("=HYPERLINK(\"http://evil\")"), '"\'=HYPERLINK(""http://evil"")"', "a formula is defused");
  assert.equal(csvCell("-1"), "'-1");
  assert.equal(csvCell(null), "");
  const list = listCsv([{ title: "T", artist: "A", spotify_id: "7zNT9GE070fYjnhx6TFWnQ", reason: "close to sad" },
    { title: "U", artist: "B", spotify_id: "not an id", reason: "" }], "sad");
  assert.equal(list, "title,artist,spotify_link,mood,reason\r\nT,A,https://open.spotify.com/track/7zNT9GE070fYjnhx6TFWnQ,sad,close to sad\r\nU,B,,sad,\r\n");
  const history = historyCsv([{ t: Date.UTC(2026, 11, 7, 5, 0, 0), id: 1, title: "T", artist: "A", album: "", mood: null, reason: "r", spotify_id: null, duration_s: 3 }]);
  assert.equal(history, "played_at,title,artist,spotify_link,mood,reason\r\n2026-12-07T05:00:00.000Z,T,A,,,r\r\n");
  assert.equal(spotifyLink("../../x"), "");
});

test("lists come from the listener's music when there is some, unless chosen otherwise", () => {
  assert.equal(chosenSource(0), "all");
  assert.equal(chosenSource(41), "library");
});

test("a folder's files become songs the recommender in WebAssembly lists, named from tags or the file", async () => {
  const { readFileSync } = await import("node:fs");
  const { initSync, Playlists } = await import("../wasm/melodora_wasm.js");
  initSync({ module: readFileSync(new URL("../wasm/melodora_wasm_bg.wasm", import.meta.url)) });
  const file = (path) => ({ name: path.split("/").pop(), webkitRelativePath: path, type: "audio/ogg" });
  const heard = (valence, arousal, tags = {}) => ({ duration_s: 60, valence, arousal, quadrant: "Q3", ...tags });
  const songs = [
    folderSong(-3, file("Music/Some Band/Low_Song.ogg"), heard(-0.6, -0.6), "blob:a", null),
    folderSong(-2, file("Music/Some Band/high.ogg"), heard(0.7, 0.7, { title: "High\u001b[31m", artist: "Them" }), "blob:b", null),
    folderSong(-1, file("Music/x.ogg"), heard(0.6, -0.6, { cover_type: "image/png" }), "blob:c", "blob:c-cover"),
  ];
  assert.equal(songs[0].title, "Low Song", "the file's name, underscores as spaces");
  assert.equal(songs[0].artist, "Some Band", "the folder names an untagged artist");
  assert.equal(songs[1].title, "High[31m", "control characters are dropped");
  assert.equal(songs[1].artist, "Them");
  assert.equal(songs[2].library.cover_file, "blob:c-cover");
  assert.equal(titleFromName("a/b/Track.Name.flac"), "Track.Name");
  const playlists = new Playlists(snapshotJson(songs), 7);
  const sad = JSON.parse(playlists.recommend("sad", "match", 15, "[]"));
  assert.equal(sad.length, 3, "every folder song, the nearest first");
  assert.equal(sad[0].id, -3);
  assert.equal(sad[0].library.file, "blob:a");
  assert.match(sad[0].reason, /^sounds calm and low \(valence -0\.6, arousal -0\.6, from its audio\)/);
  assert.equal(folderText({ busy: false, total: 4, done: 4, heard: 2, reused: 1, skipped: ["x.mp3: not audio"], songs: 3, seconds: 1.25 }),
    "3 songs from your folder (2 heard now, 1 known from before, 1 could not be heard; 1.3 s), heard in this browser: nothing was uploaded.");
});
