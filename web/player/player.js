// The player: one queue (the playlist) that plays song after song and
// follows the mood, the controls every player has (play and pause,
// previous, next, seek, volume), like and skip from the player, and the
// Media Session. Library songs (the listener's files, from the server, a
// static site or a folder in this browser) play through the Engine, with
// crossfades and matched loudness; Spotify songs play in Spotify's embed,
// driven by its own messages (spotify.js), so that after the first press of
// Play the queue goes on through both kinds by itself.
//
// The state says what plays (`playing`, `played`, `playingMood`) and where
// it is (`playback`); this module owns the sound and keeps the listener's
// volume and crossfade in the browser.

import * as kept from "../kept.js";
import { moodFollowed, notice } from "../state.js";
import { Engine } from "./engine.js";
import { keepPlays, playOf, withPlay } from "./history.js";
import * as mediaSession from "./media-session.js";
import { matchingGainDb, plannedNext, spotifyIdOk, stepBack, upNext, withPlayed } from "./queue.js";
import { SpotifyEmbed } from "./spotify.js";

/** @typedef {import("../state.js").Store} Store */
/** @typedef {import("../state.js").State} State */
/** @typedef {import("../state.js").Song} Song */
/** @typedef {import("../state.js").Verdict} Verdict */
/** @typedef {import("../transport/transport.js").LibraryUrls} LibraryUrls */

/** Where the volume and the crossfade are kept. */
export const SETTINGS_KEY = "melodora.player";
/** Seconds two songs overlap by default (0 turns crossfades off). */
export const DEFAULT_CROSSFADE_S = 3;
/** The longest crossfade offered. */
export const MAX_CROSSFADE_S = 12;
/** Every library song is brought to this loudness (LUFS)... */
export const TARGET_LUFS = -16;
/** ...but a quiet one is raised by no more than this (dB). */
export const MAX_BOOST_DB = 6;
/** Previous this far into a song starts it again; earlier, it goes back a song. */
const RESTART_AFTER_S = 3;

/**
 * The volume (0 to 1) and crossfade (seconds) kept in this browser, or the
 * defaults for anything missing or out of range.
 * @returns {{volume: number, crossfadeS: number}}
 */
export function keptSettings() {
  const saved = /** @type {{volume?: unknown, crossfadeS?: unknown} | null} */ (kept.readJson(SETTINGS_KEY));
  const volume = typeof saved?.volume === "number" && saved.volume >= 0 && saved.volume <= 1 ? saved.volume : 1;
  const crossfadeS = typeof saved?.crossfadeS === "number" && saved.crossfadeS >= 0 && saved.crossfadeS <= MAX_CROSSFADE_S
    ? saved.crossfadeS : DEFAULT_CROSSFADE_S;
  return { volume, crossfadeS };
}

/**
 * What the player asks of the rest of the page.
 * @typedef {object} PlayerHooks
 * @property {(song: Song) => LibraryUrls | null} libraryUrls  where a library song's file and cover are
 * @property {(songId: number, verdict: Verdict) => void} feedback  a like or skip from the player
 * @property {(play: import("./history.js").Play) => void} played   a song started (for the profile's history)
 */

export class Player {
  /**
   * @param {Store} store
   * @param {PlayerHooks} hooks
   * @param {HTMLAudioElement[]} elements  the two elements library songs play in
   * @param {HTMLElement} spotifyBox         where Spotify's embed goes
   */
  constructor(store, hooks, elements, spotifyBox) {
    this.store = store;
    this.libraryUrls = hooks.libraryUrls;
    this.feedback = hooks.feedback;
    this.played = hooks.played;
    /** What sounds the song playing: the engine, Spotify's embed, or nothing. */
    this.output = /** @type {"library" | "spotify" | null} */ (null);
    this.engine = new Engine(elements);
    this.engine.setVolume(store.state.volume);
    this.engine.nearEndS = store.state.crossfadeS;
    /** How the next song starts: its fade-in, seconds (0: a cut). */
    this.fadeNext = 0;
    this.engine.onNearEnd = () => { if (this.output === "library") this.next(true); };
    this.engine.onEnded = () => { if (this.output === "library") this.next(true); };
    this.engine.onTime = (playback) => { if (this.output === "library") this.tell(playback); };
    this.engine.onError = () => {
      if (this.output !== "library") return;
      store.update(notice("This song's file could not be played (moved or deleted? run melodora library scan)."));
      this.next(true);
    };
    this.spotify = new SpotifyEmbed(spotifyBox);
    this.spotify.onPlayback = (playback) => this.tell(playback);
    this.spotify.onEnded = () => this.next(true);
    this.spotify.onSilent = () => store.update(notice(
      "Spotify's player did not answer (offline?): press play in it to hear this song; the queue now moves on only between your own songs."));
    store.watch((s) => [s.playing], (s) => this.sound(s.playing));
    // What follows is loaded ahead, so that it starts at once.
    store.watch((s) => [s.songs, s.playing, s.played], (s) => {
      if (!s.playing || !this.libraryUrls(s.playing)) return;
      const next = upNext(s.songs, s.playing, s.played, this.followsOn);
      this.engine.preload(next ? this.libraryUrls(next)?.audio ?? null : null);
    });
    mediaSession.connect({
      play: () => this.resume(),
      pause: () => this.pause(),
      next: () => this.next(false),
      previous: () => this.previous(),
      seekTo: (seconds) => this.seek(seconds),
      seekBy: (by) => this.seek(this.store.state.playback.position + by),
    });
  }

  /** What may follow a song on its own: a library song, or a Spotify song
   *  while Spotify's embed answers the page (one that does not needs a click
   *  per song, so the queue then passes over them). @param {Song} song */
  followsOn = (song) => !!this.libraryUrls(song) || (this.spotify.answering !== false && spotifyIdOk(song.spotify_id));

  /** Where the song is, for the player bar and the system. @param {import("./engine.js").Playback} playback */
  tell(playback) {
    this.store.update({ playback });
    mediaSession.position(playback);
  }

  /** Plays `song` now. @param {Song} song */
  play(song) {
    const state = this.store.state;
    this.start(song, withPlayed(state.played, song));
  }

  /** Starts `song`, with `played` as what has played, and remembers it. @param {Song} song @param {Song[]} played */
  start(song, played) {
    const state = this.store.state;
    const mood = moodFollowed(state);
    const play = playOf(song, mood, Date.now());
    const plays = withPlay(state.plays, play);
    keepPlays(plays);
    this.store.update({ playing: song, playingMood: mood, played, plays });
    this.played(play);
  }

  /**
   * The next song of the queue: `auto` when the song playing ends (or its
   * crossfade begins), which fades and passes over what needs a click.
   * @param {boolean} auto
   */
  next(auto) {
    const state = this.store.state;
    const next = upNext(state.songs, state.playing, state.played, auto ? this.followsOn : undefined);
    if (!next) {
      if (auto) this.store.update({ playing: null, ...notice("That was the last song of the list; press Play for more.") });
      else this.store.update(notice("There is nothing else to play in this list."));
      return;
    }
    // A library song still sounding fades out as the next fades in.
    this.fadeNext = auto && this.output === "library" && !this.engine.playingElement.ended ? state.crossfadeS : 0;
    this.play(next);
  }

  /** The song before (or this one from its start, a few seconds in). */
  previous() {
    const state = this.store.state;
    if (state.playing && state.playback.position > RESTART_AFTER_S) {
      this.seek(0);
      return;
    }
    const back = stepBack(state.played, state.playing);
    if (back.song) this.start(back.song, back.played);
    else this.seek(0);
  }

  /** Cuts over to the list made for the mood now: to the song "Up next" names. */
  switchNow() {
    const state = this.store.state;
    const next = plannedNext(state.songs, state.playing, state.played, this.followsOn);
    if (next) this.play(next);
  }

  togglePlay() {
    if (this.store.state.playback.paused) this.resume(); else this.pause();
  }

  pause() {
    if (this.output === "spotify") this.spotify.pause(); else this.engine.pause();
  }

  resume() {
    const state = this.store.state;
    if (!state.playing) {
      const first = upNext(state.songs, null, [], this.followsOn);
      if (first) this.play(first);
      return;
    }
    if (this.output === "spotify") this.spotify.resume(); else this.engine.resume();
  }

  /** @param {number} seconds */
  seek(seconds) {
    if (this.output === "spotify") this.spotify.seek(seconds); else this.engine.seek(seconds);
  }

  /** @param {number} volume 0 to 1 */
  setVolume(volume) {
    this.engine.setVolume(volume);
    this.store.update({ volume: this.engine.volume });
    this.keep();
  }

  /** @param {number} seconds 0 to MAX_CROSSFADE_S */
  setCrossfade(seconds) {
    const crossfadeS = Math.max(0, Math.min(MAX_CROSSFADE_S, seconds));
    this.engine.nearEndS = crossfadeS;
    this.store.update({ crossfadeS });
    this.keep();
  }

  /** Like (or skip, which also moves on) the song playing. @param {Verdict} verdict */
  judge(verdict) {
    const playing = this.store.state.playing;
    if (!playing) return;
    this.feedback(playing.id, verdict);
    if (verdict === "skip") this.next(false);
  }

  close() {
    this.store.update({ playing: null });
  }

  keep() {
    const { volume, crossfadeS } = this.store.state;
    kept.write(SETTINGS_KEY, JSON.stringify({ volume, crossfadeS }));
  }

  /** Makes the sound follow what plays. @param {Song | null} playing */
  sound(playing) {
    const urls = playing ? this.libraryUrls(playing) : null;
    const fade = this.fadeNext;
    this.fadeNext = 0;
    const spotifyId = playing && !urls && spotifyIdOk(playing.spotify_id) ? playing.spotify_id : null;
    this.output = urls ? "library" : spotifyId ? "spotify" : null;
    if (playing && urls) {
      this.spotify.stop();
      this.engine.start(urls.audio, matchingGainDb(playing.library?.loudness_lufs, TARGET_LUFS, MAX_BOOST_DB), fade);
    } else if (playing && spotifyId) {
      this.engine.fadeOut(fade);
      this.spotify.load(spotifyId, playing.title);
      this.tell({ paused: false, position: 0, duration: NaN });
    } else {
      this.spotify.stop();
      this.engine.stop();
    }
    mediaSession.show(playing, urls?.cover ?? null);
  }
}
