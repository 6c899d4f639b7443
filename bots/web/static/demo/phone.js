// The phone simulator page: polls the carrier simulator's state, rings, plays each <Play> in order, sends keys.
"use strict";
(function () {
  const root = document.getElementById("phone");
  if (!root) return;
  const speaker = document.getElementById("speaker");
  const $ = (id) => document.getElementById(id);
  let calls = [];
  let selected = null; // the sid on the handset
  let chosenByHand = false;
  const seen = new Set();
  let audio = { sid: null, next: 0, playing: false, plays: [] };
  let logShown = { sid: null, count: -1 };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  async function act(action) {
    if (!selected) return;
    const body = new FormData();
    body.append("csrf", root.dataset.csrf);
    body.append("sid", selected);
    body.append("action", action);
    const response = await fetch(root.dataset.act, { method: "POST", body: body, credentials: "same-origin" });
    const answer = await response.json().catch(() => ({}));
    if (response.ok && action !== "answer" && action !== "reject" && audio.sid === selected) {
      // A key (or hanging up) stops the prompts being played; the answer's prompts start after them.
      speaker.pause();
      audio.playing = false;
      markSkipped(answer.skip_to || 0);
      audio.next = Math.max(audio.next, answer.skip_to || 0);
    }
    poll();
  }

  function markSkipped(upTo) {
    const items = $("plays").children;
    for (let i = audio.next; i < Math.min(upTo, items.length); i++) items[i].className = "skipped";
  }

  function playNext() {
    const items = $("plays").children;
    if (audio.playing || audio.next >= audio.plays.length) return;
    const index = audio.next;
    audio.playing = true;
    if (items[index]) items[index].className = "playing";
    $("now-playing").textContent = "Playing " + audio.plays[index].split("/").pop();
    speaker.src = audio.plays[index];
    const done = (how) => {
      if (audio.next !== index) return; // skipped by a key meanwhile
      if (items[index]) items[index].className = how;
      audio.next = index + 1;
      audio.playing = false;
      $("now-playing").textContent = "";
      playNext();
    };
    speaker.onended = () => done("played");
    speaker.onerror = () => done("failed");
    speaker.play().catch(() => done("failed"));
  }

  function showPlays(call) {
    if (audio.sid !== call.sid) {
      speaker.pause();
      audio = { sid: call.sid, next: 0, playing: false, plays: [] };
      $("plays").replaceChildren();
    }
    for (let i = audio.plays.length; i < call.plays.length; i++) {
      audio.plays.push(call.plays[i]);
      $("plays").appendChild(el("li", call.plays[i].split("/").pop(), "queued"));
    }
    playNext();
  }

  function showLog(call) {
    if (logShown.sid === call.sid && logShown.count === call.log.length) return;
    logShown = { sid: call.sid, count: call.log.length };
    const log = $("log");
    log.replaceChildren();
    call.log.forEach((entry) => {
      const item = el("div", undefined, "entry");
      item.appendChild(el("p", entry.at + "  " + entry.request + "  → " + entry.status, "request"));
      const params = Object.keys(entry.params).map((k) => k + "=" + entry.params[k]).join("\n");
      item.appendChild(el("pre", params, "params"));
      item.appendChild(el("pre", entry.answer, "answer"));
      log.appendChild(item);
    });
  }

  const STATUS = {
    queued: "Calling…", initiated: "Calling…", ringing: "Ringing…", "in-progress": "On the call",
    completed: "Call ended", busy: "Rejected (the carrier reports busy)", "no-answer": "Rang out, not answered",
    canceled: "Canceled by the caller", failed: "Failed",
  };

  function showHandset() {
    const call = calls.find((c) => c.sid === selected);
    $("handset").hidden = !call;
    if (!call) return;
    $("call-to").textContent = call.to;
    $("call-status").textContent = STATUS[call.status] || call.status;
    const ringing = !call.over && call.status === "ringing";
    const talking = !call.over && call.status === "in-progress";
    $("ringing-buttons").hidden = !ringing;
    $("handset").classList.toggle("is-ringing", ringing);
    $("keypad").hidden = !talking;
    $("hangup").hidden = !talking;
    showPlays(call);
    showLog(call);
  }

  function showPhones(phones) {
    const list = $("phones");
    list.replaceChildren();
    phones.forEach((phone) => {
      const latest = calls.filter((c) => c.to === phone.number).pop();
      const item = el("li");
      const button = el("button", phone.number + (phone.name ? " · " + phone.name : ""), "phone-line");
      button.type = "button";
      if (latest && !latest.over) {
        const state = latest.status === "in-progress" ? "on a call" : "ringing";
        button.appendChild(el("span", state, "badge " + state.replace(/ /g, "-")));
      }
      if (latest) {
        button.onclick = () => {
          selected = latest.sid;
          chosenByHand = true;
          showHandset();
          $("handset").scrollIntoView({ block: "nearest" });
        };
      } else {
        button.disabled = true;
      }
      if (latest && latest.sid === selected) button.setAttribute("aria-current", "true");
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  async function poll() {
    let state;
    try {
      const response = await fetch("/demo/phone/state.json", { cache: "no-store" });
      state = await response.json();
    } catch (e) {
      return;
    }
    calls = state.calls;
    // A call that starts ringing takes the handset, unless the person is on another call (or chose one by
    // hand): then its phone in the list says it rings, and a click takes it.
    const current = calls.find((c) => c.sid === selected);
    const busy = current && !current.over && (current.status === "in-progress" || chosenByHand);
    let rings = false;
    calls.forEach((call) => {
      if (seen.has(call.sid)) return;
      seen.add(call.sid);
      if (!call.over && !busy) {
        selected = call.sid;
        chosenByHand = false;
        rings = true;
      }
    });
    if (!selected && calls.length) selected = calls[calls.length - 1].sid;
    showPhones(state.phones);
    showHandset();
    // The handset is below the list of phones: a call that takes it is brought into sight, Answer and all.
    if (rings) $("handset").scrollIntoView({ block: "nearest" });
  }

  $("answer").onclick = () => { speaker.play().catch(() => {}); act("answer"); };
  $("reject").onclick = () => act("reject");
  $("hangup").onclick = () => act("hangup");
  document.querySelectorAll("#keypad .key").forEach((key) => { key.onclick = () => act(key.dataset.key); });
  poll();
  setInterval(poll, 700);
})();
