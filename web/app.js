// Melodora's page: camera → faces, mood → songs.
// Every song field is inserted with .text(), never as HTML.
//
// The server's first message says where frames come from: "browser" (this
// page's webcam) or "server" (the server's own camera or video file, shown
// from /video_feed with the boxes already drawn on it). With the browser's
// webcam, frames are analysed on this device by default (a Web Worker
// running Melodora's analyzer in WebAssembly, see device-analysis.js) and
// only the stable mood goes to the server; "on the server" sends the frames
// instead, as JPEG over the WebSocket. The choice is kept in localStorage.
//
// A static site (`melodora site`, <html data-melodora="static">) has no
// server: the page analyses on the device, makes playlists itself
// (static-site.js) and keeps likes, skips, mode and history in the browser.
"use strict";

(function () {
  const EMOTIONS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"];
  const COLORS = {
    angry: "#dc3545", disgust: "#6f42c1", fear: "#fd7e14", happy: "#ffc107",
    neutral: "#6c757d", sad: "#0d6efd", surprise: "#20c997",
  };
  const FRAME_WIDTH = 480;      // frames are downscaled to this width before sending
  const JPEG_QUALITY = 0.8;
  const ANALYSIS_KEY = "melodora.analysis";
  const MANUAL_MS = 10 * 60 * 1000; // a mood set by hand holds this long
  const PROFILE_KEY = "melodora.profile";
  const Calibration = window.MelodoraCalibration;
  const Photo = window.MelodoraPhoto;

  const video = document.getElementById("video");
  const overlay = document.getElementById("overlay");
  const timeline = document.getElementById("timeline");
  const capture = document.createElement("canvas");
  let socket = null;
  let captureMode = null;         // "browser" or "server", from the server's hello
  let camera = null;              // promise of the webcam starting (true when it did)
  let analysis = storedAnalysis(); // "device" or "server": where webcam frames are analysed
  let device = null;              // the on-device analyzer, once asked for
  let deviceFailed = null;        // why on-device analysis is unavailable, if it is
  let deviceMood = null;          // the stable mood found on this device, last sent
  let analysisSettings = null;    // the server's analysis options (its hello)
  let inFlight = false;
  let paused = false;
  let lastFrame = null;           // {width, height, faces} of the latest answer
  let pendingSongs = null;        // a list that arrived while the server camera was paused
  let noticeTimer = null;
  const moods = [];               // [{t, emotion}] of the session
  let startedAt = Date.now();
  const staticSite = document.documentElement.dataset.melodora === "static";
  let site = null;                // the static site's playlists and kept state
  let manual = null;              // {emotion, until}: the mood set by hand, if any
  let manualTimer = null;
  let cameraWorks = false;        // the browser's camera started (browser capture)
  let deviceCalibration = Calibration.load(); // on-device analysis: kept in this browser
  let serverCalibration = null;   // server analysis: the profile's, kept by the server
  let calibrating = null;         // {capture, capturing, sent, timer}: a calibration being made
  let photoShown = false;         // a photo is on the stage instead of the camera
  let profile = null;             // whose likes and calibration the server keeps (made on connecting)

  function status(text, kind) {
    $("#status").text(text).attr("class", "badge text-bg-" + (kind || "secondary"));
  }

  /** Shows a message under the playlist for a few seconds. */
  function notice(text) {
    $("#notice").text(text).removeClass("d-none");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => $("#notice").addClass("d-none"), 6000);
  }

  function showCameraMessage(text) {
    $("#camera-message").text(text).removeClass("d-none");
  }

  /** This browser's listener profile on the server: made once, at random,
   *  and kept in localStorage, so that people sharing a server keep their
   *  own likes, skips and calibration (without storage: one per visit). */
  function browserProfile() {
    try {
      const kept = localStorage.getItem(PROFILE_KEY);
      if (kept && /^browser-[0-9a-f]{32}$/.test(kept)) return kept;
    } catch (error) { /* not kept: a profile for this visit */ }
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const made = "browser-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    try { localStorage.setItem(PROFILE_KEY, made); } catch (error) { /* this visit only */ }
    return made;
  }

  // ---- where frames are analysed ----------------------------------------
  /** The remembered choice; on-device unless the user chose the server. */
  function storedAnalysis() {
    try {
      return localStorage.getItem(ANALYSIS_KEY) === "server" ? "server" : "device";
    } catch (error) {
      return "device";          // storage disabled: the default, not remembered
    }
  }

  function rememberAnalysis(where) {
    try { localStorage.setItem(ANALYSIS_KEY, where); } catch (error) { /* not remembered */ }
  }

  function showAnalysisChoice() {
    $("#analysis-device").prop("checked", analysis === "device").prop("disabled", !!deviceFailed);
    $("#analysis-server").prop("checked", analysis === "server");
  }

  /** Starts loading the on-device analyzer; on failure falls back to the server. */
  function loadDevice(modelDescription) {
    if (device || deviceFailed) return;
    device = new window.MelodoraDevice.DeviceAnalyzer();
    device.onCalibrationRefused = (why) => {
      deviceCalibration = null;
      Calibration.forget();
      $("#calibration-info").text("Your calibration could not be used (" + why + ") and was reset; calibrate again.");
      showCalibration();
    };
    device.load(modelDescription).then((ms) => {
      console.info(`melodora: on-device analyzer ready in ${Math.round(ms)} ms`);
      if (analysisSettings) device.configure(analysisSettings);
      if (deviceCalibration && device) device.setCalibration(deviceCalibration);
      showCalibration();
    }, (error) => {
      deviceFailed = error.message;
      device = null;
      $("#analysis-message").text(staticSite
        ? "This browser cannot run Melodora's analyzer (" + deviceFailed + "), so the camera cannot be read here."
        : "Analysing on this device is not possible here (" + deviceFailed +
          "), so camera frames are sent to the Melodora server instead.").removeClass("d-none");
      if (staticSite) status("analyzer failed", "danger");
      if (analysis === "device") analysis = "server";
      $("#analysis-info").text("");
      showAnalysisChoice();
      inFlight = false;
      scheduleFrame();
    });
  }

  function chooseAnalysis(where) {
    if (calibrating) calibrationRefused("the analysis moved; calibrate again");
    analysis = where;
    rememberAnalysis(where);
    if (where === "device") {
      loadDevice();
      if (device) device.reset();
    } else {
      deviceMood = null;
    }
    $("#analysis-info").text("");
    showCalibration();
    scheduleFrame();
  }

  // ---- bars -------------------------------------------------------------
  function buildBars() {
    const bars = $("#bars");
    for (const e of EMOTIONS) {
      const row = $('<div class="d-flex align-items-center gap-2 mb-1"></div>');
      row.append($('<span class="bar-label small"></span>').text(e));
      const progress = $('<div class="progress flex-grow-1" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"></div>')
        .attr({ id: "progress-" + e, "aria-label": e });
      const bar = $('<div class="progress-bar"></div>').attr("id", "bar-" + e);
      bar.css({ width: "0%", backgroundColor: COLORS[e] });
      progress.append(bar);
      row.append(progress);
      bars.append(row);
    }
  }

  function showProbabilities(face) {
    for (const e of EMOTIONS) {
      const p = face ? face.probabilities[e] || 0 : 0;
      $("#bar-" + e).css("width", (p * 100).toFixed(1) + "%");
      $("#progress-" + e).attr("aria-valuenow", Math.round(p * 100));
    }
  }

  // ---- overlay ----------------------------------------------------------
  function drawOverlay() {
    const rect = overlay.getBoundingClientRect();
    overlay.width = rect.width;
    overlay.height = rect.height;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (!lastFrame || !lastFrame.width) return;
    // The frame is shown with object-fit: contain; map frame pixels to it.
    const scale = Math.min(rect.width / lastFrame.width, rect.height / lastFrame.height);
    const dx = (rect.width - lastFrame.width * scale) / 2;
    const dy = (rect.height - lastFrame.height * scale) / 2;
    ctx.lineWidth = 3;
    ctx.font = "16px system-ui, sans-serif";
    for (const face of lastFrame.faces) {
      const color = COLORS[face.emotion] || "#fff";
      const x = dx + face.x * scale, y = dy + face.y * scale;
      ctx.strokeStyle = color;
      ctx.strokeRect(x, y, face.w * scale, face.h * scale);
      const label = face.emotion + " " + Math.round(face.confidence * 100) + "%";
      const width = ctx.measureText(label).width + 8;
      ctx.fillStyle = color;
      ctx.fillRect(x, Math.max(0, y - 22), width, 22);
      ctx.fillStyle = "#000";
      ctx.fillText(label, x + 4, Math.max(16, y - 6));
    }
  }

  /** The frame's largest face, or null. */
  function largestFace(frame) {
    return frame.faces.reduce((a, f) => (!a || f.w * f.h > a.w * a.h ? f : a), null);
  }

  /** One analysed frame, from the server or this device: boxes on the
   *  overlay (unless the frame already carries them), the largest face's
   *  bars, the mood and the status. */
  function showFrame(frame, drawBoxes) {
    if (photoShown) { showMood(frame.mood); return; }
    lastFrame = drawBoxes ? frame : null;
    drawOverlay();
    const largest = largestFace(frame);
    showProbabilities(largest);
    showMood(frame.mood);
    if (calibrating && calibrating.capturing) calibrating.capture.add(frame);
    if (!paused) status(frame.faces.length ? "detecting" : "no face", frame.faces.length ? "success" : "warning");
  }

  // ---- mood and timeline ------------------------------------------------
  function showMood(mood) {
    if (!mood) return;
    $("#mood").text(mood.emotion);
    $("#mood-confidence").text(Math.round(mood.confidence * 100) + "%");
    const last = moods[moods.length - 1];
    if (!last || last.emotion !== mood.emotion) {
      const t = Date.now();
      moods.push({ t, emotion: mood.emotion });
      if (site) site.remember(t, mood.emotion);
    }
    drawTimeline();
  }

  function drawTimeline() {
    const rect = timeline.getBoundingClientRect();
    timeline.width = rect.width;
    const ctx = timeline.getContext("2d");
    ctx.clearRect(0, 0, timeline.width, timeline.height);
    const now = Date.now();
    const span = Math.max(now - startedAt, 1);
    moods.forEach((m, i) => {
      const end = i + 1 < moods.length ? moods[i + 1].t : now;
      ctx.fillStyle = COLORS[m.emotion];
      const x = ((m.t - startedAt) / span) * timeline.width;
      ctx.fillRect(x, 0, Math.max(1, ((end - m.t) / span) * timeline.width), timeline.height);
    });
  }

  // ---- songs ------------------------------------------------------------
  function showSongs(songs) {
    pendingSongs = null;
    const body = $("#songs").empty();
    $("#songs-empty").toggleClass("d-none", songs.length > 0);
    for (const song of songs) {
      const row = $('<tr data-testid="song"></tr>');
      const link = $('<a target="_blank" rel="noopener noreferrer"></a>').attr("href", song.link).text(song.title);
      // Why the recommender chose it, under the title (as text only).
      const reason = $('<div class="small text-body-secondary" data-testid="reason"></div>').text(song.reason || "");
      row.append($('<td class="title"></td>').append(link, reason));
      row.append($('<td class="album"></td>').text(song.album));
      row.append($('<td class="artist"></td>').text(song.artist));
      const buttons = $('<td class="actions text-end text-nowrap"></td>');
      // Play in the page: only songs with a well-formed Spotify id.
      if (spotifyIdOk(song.spotify_id)) {
        row.attr("data-spotify-id", song.spotify_id);
        const playButton = $('<button type="button" class="btn btn-sm btn-outline-success" data-testid="play"></button>')
          .text("Play").attr({ title: "Play here with Spotify's player", "aria-label": "Play " + song.title })
          .on("click", () => play(song));
        buttons.append(playButton, " ");
      }
      buttons.append(feedbackButton(song.id, "like", "Like"), " ", feedbackButton(song.id, "skip", "Skip"));
      row.attr("data-song-id", song.id).append(buttons);
      body.append(row);
    }
    if (site) {
      for (const song of songs) {
        const verdict = site.verdictOf(song.id);
        if (verdict) markVerdict(song.id, verdict);
      }
    }
  }

  // ---- in-page player ------------------------------------------------------
  // Nothing from Spotify loads until the user presses Play: the embed frame
  // is made then, one at a time (the CSP allows only this frame origin).
  let playing = null;             // the song in the player

  function spotifyIdOk(id) {
    return typeof id === "string" && /^[0-9A-Za-z]{22}$/.test(id);
  }

  function play(song) {
    playing = song;
    const frame = $('<iframe data-testid="player-frame" width="100%" height="80" allow="encrypted-media" loading="lazy"></iframe>')
      .attr({ src: "https://open.spotify.com/embed/track/" + song.spotify_id, title: "Spotify player: " + song.title });
    $("#player-frame").empty().append(frame);
    $("#player-title").text(song.title + " · " + song.artist);
    $("#player").removeClass("d-none");
    $("#songs tr").removeClass("table-active");
    $("#songs tr").filter(function () { return $(this).attr("data-song-id") === String(song.id); }).addClass("table-active");
  }

  /** The next playable song down the list after the one playing. */
  function playNext() {
    const rows = $("#songs tr").toArray();
    const at = rows.findIndex((row) => row.getAttribute("data-song-id") === String(playing && playing.id));
    for (const row of rows.slice(at + 1)) {
      const button = row.querySelector("[data-testid=play]");
      if (button) { button.click(); return; }
    }
    notice("That was the last song of the list with a player.");
  }

  function closePlayer() {
    playing = null;
    $("#player-frame").empty();
    $("#player").addClass("d-none");
    $("#songs tr").removeClass("table-active");
  }

  function feedbackButton(id, verdict, label) {
    return $('<button type="button" class="btn btn-sm btn-outline-secondary" aria-pressed="false"></button>')
      .text(label)
      .attr({ title: verdict === "like" ? "More like this" : "Less like this", "data-verdict": verdict })
      .on("click", () => {
        if (site) {
          if (!site.judge(id, verdict)) showStorageMessage();
          markVerdict(id, verdict);
        } else if (!send({ type: "feedback", song_id: id, verdict: verdict })) {
          notice("Not connected; try again in a moment.");
        }
      });
  }

  /** Marks a song the server recorded a verdict for; the list itself stays. */
  function markVerdict(songId, verdict) {
    const row = $("#songs tr").filter(function () { return $(this).attr("data-song-id") === String(songId); });
    row.find("button").each(function () {
      const chosen = $(this).attr("data-verdict") === verdict;
      $(this).toggleClass("btn-success", chosen && verdict === "like")
        .toggleClass("btn-secondary", chosen && verdict === "skip")
        .toggleClass("btn-outline-secondary", !chosen)
        .attr("aria-pressed", String(chosen));
    });
    row.toggleClass("opacity-50", verdict === "skip").attr("data-marked", verdict);
  }

  // ---- socket -----------------------------------------------------------
  /** Sends a command; false when the socket is not open. */
  function send(command) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(command));
    return true;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    profile = profile || browserProfile();
    socket = new WebSocket(scheme + location.host + "/ws?profile=" + encodeURIComponent(profile));
    socket.binaryType = "arraybuffer";
    socket.onclose = (event) => {
      inFlight = false;
      if (event.code === 1013) {
        // The server is at its connection limit: say so and wait longer.
        status("server busy (" + (event.reason || "too many connections") + "), retrying…", "warning");
        setTimeout(connect, 5000);
      } else {
        status("disconnected, retrying…", "danger");
        setTimeout(connect, 1000);
      }
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "hello") {
        // A new connection is a new viewer on the server: tell it the mode
        // this page shows (the server starts every viewer in "match").
        const mode = $("input[name=mode]:checked").val();
        if (mode && mode !== "match") send({ type: "mode", mode: mode });
        // ...and the mood this device found, if it found one.
        if (deviceMood && analysis === "device") sendMood(deviceMood);
        // ...and the mood set by hand, which holds the list.
        if (manual) send({ type: "manual", emotion: manual.emotion });
        serverCalibration = message.calibration || null;
        start(message);
        showCalibration();
      } else if (message.type === "frame") {
        if (captureMode === "server" && paused) {
          // Lists come only with mood changes: keep the latest for Resume.
          if (message.songs) pendingSongs = message.songs;
          return;
        }
        inFlight = false;
        // Server frames arrive with their boxes drawn; the overlay is for ours.
        showFrame(message, captureMode === "browser");
        if (message.songs) showSongs(message.songs);
        scheduleFrame();
      } else if (message.type === "dropped") {
        // The server was busy: offer the next frame a little later.
        inFlight = false;
        setTimeout(scheduleFrame, 100);
      } else if (message.type === "songs") {
        if (message.songs) showSongs(message.songs);
      } else if (message.type === "feedback") {
        markVerdict(message.song_id, message.verdict);
      } else if (message.type === "calibration") {
        serverCalibration = message.calibration || null;
        if (calibrating && calibrating.sent) calibrationMade(serverCalibration);
        showCalibration();
      } else if (message.type === "error") {
        console.warn("melodora:", message.message);
        if (message.about === "command") {
          if (calibrating && calibrating.sent) calibrationRefused(message.message); else notice(message.message);
        } else {
          // A frame the server could not use still counts as answered.
          inFlight = false;
          scheduleFrame();
        }
      }
    };
  }

  // ---- capture ----------------------------------------------------------
  /** Starts showing frames from wherever the server says they come from. */
  function start(hello) {
    captureMode = hello.capture;
    $("#analysis-switch").toggleClass("d-none", captureMode !== "browser" || staticSite);
    if (captureMode === "server") {
      $("#analysis-info").text("");
      $("#video").addClass("d-none");
      // Always reload: after a server restart the old stream has ended.
      $("#feed").removeClass("d-none").attr("src", hello.video_feed + "?since=" + Date.now());
      if (!paused) status("detecting", "success");
    } else {
      $("#feed").addClass("d-none").removeAttr("src");
      $("#video").removeClass("d-none");
      analysisSettings = hello.analysis || null;
      if (device && analysisSettings) device.configure(analysisSettings);
      showAnalysisChoice();
      // A reconnect says hello again: the camera is started once.
      if (!camera) camera = startCamera();
      camera.then((ok) => { if (ok) { status("detecting", "success"); scheduleFrame(); } });
    }
  }

  function scheduleFrame() {
    if (captureMode === "browser" && !paused && !inFlight && !photoShown) requestAnimationFrame(nextFrame);
  }

  function nextFrame() {
    if (analysis === "device" && device) analyseOnDevice(); else if (!staticSite) sendFrame();
  }

  /** The current frame to the worker; its answer drawn as the server's would be. */
  function analyseOnDevice() {
    if (paused || inFlight) return;
    if (!video.videoWidth || video.readyState < 2) { setTimeout(scheduleFrame, 100); return; }
    inFlight = true;
    const capturedAt = performance.now();
    const analyser = device;
    analyser.analyze(video, capturedAt).then(({ frame, analyzeMs }) => {
      inFlight = false;
      if (analysis !== "device" || analyser !== device) { scheduleFrame(); return; }
      showFrame(frame, true);
      if (frame.mood && (frame.mood_changed || !deviceMood)) sendMood(frame.mood);
      $("#analysis-info").text("on this device · " + Math.round(performance.now() - capturedAt) + " ms/frame (" +
        Math.round(analyzeMs) + " ms analysis)");
      scheduleFrame();
    }, (error) => {
      // A frame the analyzer refused (or a camera hiccup): try the next one.
      inFlight = false;
      if (!deviceFailed) console.warn("melodora: on-device analysis:", error.message);
      setTimeout(scheduleFrame, 100);
    });
  }

  /** Tells the server the stable mood (it answers with songs), or, on a
   *  static site, makes the list here. */
  function sendMood(mood) {
    deviceMood = mood;
    if (site) {
      if (!manual) showSiteList(mood);
    } else {
      // The server keeps hearing the camera's mood while one is set by
      // hand (it holds the list): following the face again is then current.
      send({ type: "mood", emotion: mood.emotion, confidence: mood.confidence });
    }
  }

  // ---- the static site ------------------------------------------------------
  /** Loads the site's settings, catalog and kept state, then the camera. */
  async function startStatic() {
    analysis = "device";          // there is no server to analyse on
    status("loading", "secondary");
    try {
      site = await window.MelodoraSite.Site.load();
    } catch (error) {
      showCameraMessage("Melodora could not load its files (" + error.message + "). Reload to try again.");
      status("failed", "danger");
      return;
    }
    if (!site.storageWorks) showStorageMessage();
    $("#forget, #import").removeClass("d-none");
    $("input[name=mode][value=" + site.state.mode + "]").prop("checked", true);
    for (const m of site.state.history) moods.push(m);
    if (moods.length) startedAt = moods[0].t;
    if (site.state.mood) { deviceMood = site.state.mood; showMood(site.state.mood); }
    if (site.state.list.length) showSongs(site.state.list);
    loadDevice(site.settings.model_description);
    start({ capture: "browser", analysis: site.settings.analysis });
  }

  function showSiteList(mood) {
    try {
      showSongs(site.recommend(mood));
    } catch (error) {
      notice("No playlist: " + error.message);
    }
    if (!site.storageWorks) showStorageMessage();
  }

  function showStorageMessage() {
    $("#storage-message").text("This browser does not let Melodora keep anything (storage is full or turned off): " +
      "it still works, but likes, skips and your history will not be kept.").removeClass("d-none");
  }

  async function importSongs(files) {
    $("#import-report").empty().removeClass("d-none");
    try {
      const report = await site.importFiles(files);
      const lines = [`Imported ${report.songs_added} new songs (${report.songs_known} already known)` +
        (report.replaced_default ? ", which replace the site's catalog" : "") +
        (report.kept ? "." : "; this browser cannot keep them, so they last until the page is closed.")];
      if (report.problems.length) {
        lines.push(`${report.problems.length} rows were skipped:`);
        for (const problem of report.problems.slice(0, 20)) lines.push("• " + problem);
        if (report.problems.length > 20) lines.push(`… and ${report.problems.length - 20} more.`);
      }
      for (const line of lines) $("#import-report").append($("<div></div>").text(line));
      if (site.state.mood) showSiteList(site.state.mood);
    } catch (error) {
      $("#import-report").append($('<div class="text-danger"></div>').text("Nothing imported: " + error.message));
    }
  }

  async function forgetMe() {
    await site.forget();
    $("#import-report").empty().addClass("d-none");
    moods.length = 0;
    startedAt = Date.now();
    deviceMood = null;
    deviceCalibration = null;
    Calibration.forget();
    if (device) { device.reset(); device.setCalibration(null); }
    showCalibration();
    $("#mood").text("—");
    $("#mood-confidence").text("");
    $("#songs").empty();
    $("#songs-empty").removeClass("d-none");
    $("input[name=mode][value=match]").prop("checked", true);
    drawTimeline();
    notice("Forgotten: likes, skips, mode, history, calibration and the last playlist are cleared from this browser.");
  }

  function sendFrame() {
    if (paused || inFlight || !socket || socket.readyState !== WebSocket.OPEN) return;
    if (!video.videoWidth) { setTimeout(scheduleFrame, 100); return; }
    const scale = Math.min(1, FRAME_WIDTH / video.videoWidth);
    capture.width = Math.round(video.videoWidth * scale);
    capture.height = Math.round(video.videoHeight * scale);
    capture.getContext("2d").drawImage(video, 0, 0, capture.width, capture.height);
    inFlight = true;
    capture.toBlob((blob) => {
      if (!blob || socket.readyState !== WebSocket.OPEN) { inFlight = false; return; }
      blob.arrayBuffer().then((buffer) => socket.send(buffer));
    }, "image/jpeg", JPEG_QUALITY);
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showCameraMessage("This browser cannot use a camera here (a camera needs https or localhost). Set your mood by hand with the buttons under the video.");
      status("no camera", "danger");
      return false;
    }
    status("waiting for camera", "secondary");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
      video.srcObject = stream;
      cameraWorks = true;
      for (const track of stream.getVideoTracks()) {
        track.addEventListener("ended", () => {
          showCameraMessage("The camera stopped (unplugged, or taken by another app). Reload the page to start it again.");
          status("camera stopped", "danger");
          lastFrame = null;
          drawOverlay();
        });
      }
      return true;
    } catch (error) {
      const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      showCameraMessage((denied
        ? "Camera access was denied. Allow the camera for this page and reload"
        : "No camera was found. Connect one and reload") + ", or set your mood by hand with the buttons under the video.");
      status(denied ? "camera denied" : "no camera", "danger");
      return false;
    }
  }

  // ---- mood set by hand ----------------------------------------------------
  /** The listener's mood, chosen with a chip: the list follows it, and the
   *  camera's reading is still shown but changes nothing, until "Follow my
   *  face" or MANUAL_MS later (the countdown is on the page). */
  function setManual(emotion, from) {
    manual = { emotion, until: Date.now() + MANUAL_MS, from: from || "set by hand" };
    if (site) {
      showSiteList({ emotion, confidence: 1 });
    } else if (!send({ type: "manual", emotion })) {
      notice("Not connected; the mood is sent when the page reconnects.");
    }
    showManual();
    clearInterval(manualTimer);
    manualTimer = setInterval(() => {
      if (manual && Date.now() >= manual.until) followFace(); else showManual();
    }, 1000);
  }

  /** Hands the mood back to the camera. */
  function followFace() {
    manual = null;
    clearInterval(manualTimer);
    hidePhoto();
    if (site) {
      if (deviceMood) showSiteList(deviceMood);
    } else {
      send({ type: "manual", emotion: null });
    }
    showManual();
  }

  function showManual() {
    $("#mood-chips button[data-emotion]").each(function () {
      const chosen = !!manual && manual.emotion === this.dataset.emotion;
      $(this).toggleClass("btn-secondary", chosen).toggleClass("btn-outline-secondary", !chosen)
        .attr("aria-pressed", String(chosen));
    });
    $("#follow-face").toggleClass("d-none", !manual);
    if (manual) {
      const left = Math.max(0, Math.ceil((manual.until - Date.now()) / 1000));
      const clock = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      $("#manual-info").text("Playlist for " + manual.emotion + ", " + manual.from + "; following your face again in " + clock + ".")
        .removeClass("d-none");
    } else {
      $("#manual-info").addClass("d-none").text("");
    }
  }

  // ---- personal calibration -----------------------------------------------
  // The listener holds a relaxed face for 3 s; their face's readings in
  // those frames make a per-emotion correction (calibration.js, and
  // docs/CALIBRATION.md). On this device the analyzer makes it and the
  // browser keeps it; with the server analysing, the server makes it and
  // keeps it for the profile.

  /** Whether this page's frames are read by the analyzer in the page. */
  function analysingOnDevice() {
    return staticSite || (captureMode === "browser" && analysis === "device" && !!device);
  }

  function calibrationInUse() {
    return analysingOnDevice() ? deviceCalibration : serverCalibration;
  }

  function showCalibration() {
    const calibrated = !!calibrationInUse();
    $("#calibrated").toggleClass("d-none", !calibrated);
    $("#calibration-reset").toggleClass("d-none", !calibrated);
    $("#calibrate").prop("disabled", !!calibrating).text(calibrated ? "Calibrate again" : "Calibrate");
  }

  function startCalibration() {
    if (calibrating) return;
    if (paused) { $("#calibration-info").text("Resume first: calibration needs the camera running."); return; }
    if (photoShown) { $("#calibration-info").text("Follow my face first: calibration needs the camera, not a photo."); return; }
    if (captureMode === "browser" && !cameraWorks) {
      $("#calibration-info").text("Calibration needs a camera; set your mood by hand instead.");
      return;
    }
    const connected = socket && socket.readyState === WebSocket.OPEN;
    if (!captureMode || (!analysingOnDevice() && !connected)) {
      $("#calibration-info").text("Not connected; try again in a moment.");
      return;
    }
    calibrating = { capture: new Calibration.Capture(calibrationInUse()), capturing: true, sent: false };
    const ends = Date.now() + Calibration.CAPTURE_MS;
    const tick = () => {
      const left = Math.ceil((ends - Date.now()) / 1000);
      $("#calibration-info").text("Hold a relaxed face, looking at the camera… " + left);
    };
    tick();
    calibrating.timer = setInterval(() => {
      if (Date.now() >= ends) finishCalibration(); else tick();
    }, 250);
    showCalibration();
  }

  function finishCalibration() {
    clearInterval(calibrating.timer);
    calibrating.capturing = false;
    const capture = calibrating.capture;
    const refusal = capture.refusal();
    if (refusal) { calibrationRefused(refusal); return; }
    $("#calibration-info").text("Calibrating…");
    if (analysingOnDevice() && device) {
      device.calibrate(capture.readings).then((calibration) => {
        deviceCalibration = calibration;
        if (!Calibration.save(calibration)) {
          notice("This browser does not let Melodora keep the calibration: it lasts until the page is closed.");
        }
        calibrationMade(calibration);
      }, (error) => calibrationRefused(error.message));
    } else {
      calibrating.sent = true;
      if (!send({ type: "calibrate", resting: capture.readings })) calibrationRefused("not connected; try again in a moment");
    }
  }

  function calibrationMade(calibration) {
    const read = calibrating ? calibrating.capture.leading() : null;
    calibrating = null;
    const changed = calibration && Object.values(calibration).some((offset) => offset !== 0);
    $("#calibration-info").text(changed
      ? "Calibrated: your relaxed face read " + read + " and now reads neutral."
      : "Calibrated: your relaxed face already reads neutral, so nothing needs correcting.");
    showCalibration();
  }

  function calibrationRefused(why) {
    if (calibrating) clearInterval(calibrating.timer);
    calibrating = null;
    $("#calibration-info").text("Not calibrated: " + why + ".");
    showCalibration();
  }

  function resetCalibration() {
    if (analysingOnDevice()) {
      deviceCalibration = null;
      Calibration.forget();
      if (device) device.setCalibration(null);
    } else if (!send({ type: "uncalibrate" })) {
      notice("Not connected; try again in a moment.");
      return;
    }
    $("#calibration-info").text("Calibration reset: your faces are read as the model sees them.");
    showCalibration();
  }

  // ---- a photo instead of the camera ----------------------------------------
  // The photo (photo.js) is analysed where camera frames are: by the
  // analyzer in this page, or by the server's /api/analyze. The largest
  // face's emotion sets the mood as a chip would. Whatever goes wrong, the
  // playlist stays as it was.

  async function usePhoto(file) {
    const refuse = (why) => { $("#photo-info").text("That photo " + why + "; the playlist stays as it was."); };
    const refusal = Photo.refusal(file);
    if (refusal) { refuse(refusal); return; }
    $("#photo-info").text("Reading the photo…");
    let canvas;
    try {
      canvas = await Photo.decode(file);
    } catch (error) {
      refuse("is not an image this browser can read");
      return;
    }
    let frame;
    try {
      frame = await analysePhoto(canvas);
    } catch (error) {
      refuse("could not be analysed (" + error.message + ")");
      return;
    }
    const largest = largestFace(frame);
    if (!largest) {
      refuse("has no face Melodora can find");
      return;
    }
    showPhoto(canvas, frame, largest);
    setManual(largest.emotion, "from your photo");
    const faces = frame.faces.length === 1 ? "one face" : frame.faces.length + " faces, the largest";
    $("#photo-info").text("Your photo: " + faces + " reads " + largest.emotion + " (" +
      Math.round(largest.confidence * 100) + "%). Follow my face returns to the camera.");
  }

  /** The photo's faces, from the analyzer in this page or from the server
   *  (read through the profile's calibration when it has one). */
  async function analysePhoto(canvas) {
    if (analysingOnDevice() && device) {
      await device.ready;
      return device.analyzePhoto(await createImageBitmap(canvas));
    }
    if (staticSite) throw new Error("this browser cannot run Melodora's analyzer");
    return Photo.analyseOnServer(canvas, serverCalibration ? profile : null);
  }

  function showPhoto(canvas, frame, largest) {
    photoShown = true;
    $("#photo").attr("src", canvas.toDataURL("image/jpeg", 0.9)).removeClass("d-none");
    $("#video, #feed").addClass("d-none");
    lastFrame = frame;
    drawOverlay();
    showProbabilities(largest);
  }

  function hidePhoto() {
    if (!photoShown) return;
    photoShown = false;
    $("#photo").addClass("d-none").removeAttr("src");
    $(captureMode === "server" ? "#feed" : "#video").removeClass("d-none");
    lastFrame = null;
    drawOverlay();
    scheduleFrame();
  }

  // ---- controls ---------------------------------------------------------
  // While disconnected the change waits: the hello of the next connection sends it.
  $("input[name=mode]").on("change", function () {
    if (site) {
      site.setMode(this.value);
      if (site.state.mood) showSiteList(site.state.mood);
    } else {
      send({ type: "mode", mode: this.value });
    }
  });
  $("#forget").on("click", () => { if (site) forgetMe(); });
  $("#mood-chips button[data-emotion]").on("click", function () { setManual(this.dataset.emotion); });
  $("#photo-pick").on("click", () => $("#photo-input").trigger("click"));
  $("#photo-input").on("change", function () {
    if (this.files.length) usePhoto(this.files[0]).finally(() => { this.value = ""; });
  });
  $("#stage").on("dragover", (event) => { event.preventDefault(); })
    .on("drop", (event) => {
      event.preventDefault();
      const files = event.originalEvent.dataTransfer && event.originalEvent.dataTransfer.files;
      if (files && files.length) usePhoto(files[0]);
    });
  $("#follow-face").on("click", followFace);
  $("#calibrate").on("click", startCalibration);
  $("#calibration-reset").on("click", () => { if (!calibrating) resetCalibration(); });
  $("#player-next").on("click", playNext);
  $("#player-close").on("click", closePlayer);
  $("#import-pick").on("click", () => $("#import-files").trigger("click"));
  $("#import-files").on("change", function () {
    if (site && this.files.length) importSongs(this.files).finally(() => { this.value = ""; });
  });
  $("input[name=analysis]").on("change", function () { chooseAnalysis(this.value); });
  $("#pause").on("click", function () {
    paused = !paused;
    if (!paused && pendingSongs) { showSongs(pendingSongs); pendingSongs = null; }
    $(this).text(paused ? "Resume" : "Pause");
    status(paused ? "paused" : "detecting", paused ? "secondary" : "success");
    scheduleFrame();
  });
  $(window).on("resize", () => { drawOverlay(); drawTimeline(); });

  buildBars();
  status("connecting", "secondary");
  // The analyzer loads while the page connects: the first frame is
  // analysed as soon as the camera runs.
  if (staticSite) {
    startStatic();
  } else {
    if (analysis === "device") loadDevice();
    connect();
  }
})();
