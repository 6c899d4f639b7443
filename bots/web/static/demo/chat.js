// The chat simulator's page: polls the chat as JSON and draws it like a Telegram app; sends what the visitor
// does (text, buttons, a contact, a recording) as forms to the server, which turns them into Telegram updates.
"use strict";
(function () {
  var root = document.getElementById("chat");
  if (!root) return;
  var form = document.getElementById("compose");
  var log = document.getElementById("log");
  var empty = document.getElementById("empty");
  var errorLine = document.getElementById("error");
  var keyboardBox = document.getElementById("keyboard");
  var replying = document.getElementById("replying");
  var textInput = document.getElementById("text");
  var phoneInput = document.getElementById("phone");
  var recordButton = document.getElementById("record");
  var upload = document.getElementById("upload");
  var commands = document.getElementById("commands");
  var commandList = document.getElementById("command-list");
  var note = document.getElementById("placeholder-note");
  // The page's words in the visitor's language, from data-word-* attributes.
  var words = {
    edited: root.dataset.wordEdited,
    share: root.dataset.wordShare,
    unreachable: root.dataset.wordUnreachable,
    noRecorder: root.dataset.wordNoRecorder,
    recording: root.dataset.wordRecording,
    noMicrophone: root.dataset.wordNoMicrophone
  };
  var version = -1;
  var drawn = {}; // message id → the JSON it was drawn from, so an unchanged message (a playing voice note) stays
  var keyboardDrawn = "";
  var URL_PATTERN = /https?:\/\/[^\s<>"]+/g;

  function fields(kind) {
    var data = new FormData();
    form.querySelectorAll("input[type=hidden]").forEach(function (input) {
      data.set(input.name, input.value);
    });
    data.set("kind", kind);
    return data;
  }

  function showError(text, info) {
    errorLine.textContent = text || "";
    errorLine.hidden = !text;
    errorLine.classList.toggle("chat-info", Boolean(info));
  }

  function send(data) {
    showError("");
    return fetch(root.dataset.send, { method: "POST", body: data, headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return { error: words.unreachable + " (" + response.status + ")" }; });
      })
      .then(function (answer) {
        if (answer.error) showError(answer.error);
        else if (answer.note) showError(answer.note, true);
        poll();
      })
      .catch(function () { showError(words.unreachable); });
  }

  function sendText(text) {
    var data = fields("text");
    data.set("text", text);
    return send(data);
  }

  function withLinks(element, text) {
    var at = 0;
    text.replace(URL_PATTERN, function (url, index) {
      element.appendChild(document.createTextNode(text.slice(at, index)));
      var link = document.createElement("a");
      link.href = url;
      link.textContent = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      element.appendChild(link);
      at = index + url.length;
      return url;
    });
    element.appendChild(document.createTextNode(text.slice(at)));
  }

  var ENTITY_TAGS = {
    bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", spoiler: "span"
  };

  function entityElement(entity) {
    if (entity.type === "text_link" && /^https?:\/\//.test(entity.url || "")) {
      var link = document.createElement("a");
      link.href = entity.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    var element = document.createElement(ENTITY_TAGS[entity.type] || "span");
    element.className = "chat-entity-" + entity.type;
    return element;
  }

  // Telegram's entities (offsets in UTF-16 units, as JavaScript indexes strings), nested ones inside others.
  function formatted(parent, text, entities, from, to) {
    var at = from;
    var i = 0;
    while (i < entities.length) {
      var entity = entities[i];
      var start = Math.max(entity.offset, at);
      var end = Math.min(entity.offset + entity.length, to);
      var inner = [];
      for (i += 1; i < entities.length && entities[i].offset < entity.offset + entity.length; i += 1) {
        inner.push(entities[i]);
      }
      if (end <= start) continue;
      if (start > at) withLinks(parent, text.slice(at, start));
      var node = entityElement(entity);
      formatted(node, text, inner, start, end);
      parent.appendChild(node);
      at = end;
    }
    if (to > at) withLinks(parent, text.slice(at, to));
  }

  function drawButton(message, button) {
    var element;
    if (button.url) {
      element = document.createElement("a");
      element.href = button.url;
      element.target = "_blank";
      element.rel = "noopener noreferrer";
    } else {
      element = document.createElement("button");
      element.type = "button";
    }
    element.className = "chat-button";
    element.textContent = button.text;
    if (button.data !== undefined) {
      element.addEventListener("click", function () {
        var data = fields("button");
        data.set("message_id", String(message.id));
        data.set("data", button.data);
        element.disabled = true;
        send(data).then(function () { element.disabled = false; });
      });
    } else if (button.share) {
      element.title = words.share;
      element.addEventListener("click", function () {
        showError(words.share, true);
      });
    }
    return element;
  }

  function drawMessage(message) {
    var item = document.createElement("li");
    item.className = "chat-message " + (message.mine ? "mine" : "theirs");
    item.dataset.id = String(message.id);
    var bubble = document.createElement("div");
    bubble.className = "chat-bubble";
    if (!message.mine && !message.from_bot) {
      var who = document.createElement("p");
      who.className = "chat-sender";
      who.textContent = message.sender;
      bubble.appendChild(who);
    }
    if (message.reply_to !== undefined) {
      var quote = document.createElement("p");
      quote.className = "chat-quote";
      quote.textContent = message.reply_to;
      bubble.appendChild(quote);
    }
    if (message.photo) {
      var image = document.createElement("img");
      image.className = "chat-photo";
      image.alt = "";
      image.src = message.photo;
      bubble.appendChild(image);
    }
    if (message.audio) {
      var audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "metadata";
      audio.src = message.audio;
      bubble.appendChild(audio);
      if (message.placeholder && note) {
        var honest = document.createElement("p");
        honest.className = "chat-placeholder";
        honest.textContent = note.textContent;
        bubble.appendChild(honest);
      }
    }
    if (message.contact) {
      var contact = document.createElement("p");
      contact.className = "chat-contact";
      contact.textContent = "📱 " + message.contact;
      bubble.appendChild(contact);
    }
    if (message.text) {
      var text = document.createElement("p");
      text.className = "chat-text";
      var entities = (message.entities || []).slice().sort(function (a, b) {
        return a.offset - b.offset || b.length - a.length;
      });
      formatted(text, message.text, entities, 0, message.text.length);
      bubble.appendChild(text);
    }
    var meta = document.createElement("p");
    meta.className = "chat-meta";
    meta.textContent = (message.edited ? words.edited + " " : "") + message.time;
    bubble.appendChild(meta);
    item.appendChild(bubble);
    if (message.buttons.length) {
      var rows = document.createElement("div");
      rows.className = "chat-buttons";
      message.buttons.forEach(function (row) {
        var line = document.createElement("div");
        line.className = "chat-buttons-row";
        row.forEach(function (button) { line.appendChild(drawButton(message, button)); });
        rows.appendChild(line);
      });
      item.appendChild(rows);
    }
    return item;
  }

  function drawKeyboard(rows) {
    var key = JSON.stringify(rows);
    if (key === keyboardDrawn) return;
    keyboardDrawn = key;
    keyboardBox.textContent = "";
    keyboardBox.hidden = !rows;
    (rows || []).forEach(function (row) {
      var line = document.createElement("div");
      line.className = "chat-keyboard-row";
      row.forEach(function (button) {
        var element = document.createElement("button");
        element.type = "button";
        element.textContent = button.text;
        element.addEventListener("click", function () {
          if (button.contact) {
            var data = fields("contact");
            data.set("phone", phoneInput.value);
            send(data);
          } else {
            sendText(button.text);
          }
        });
        line.appendChild(element);
      });
      keyboardBox.appendChild(line);
    });
  }

  function draw(chat) {
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    var seen = {};
    var previous = empty;
    chat.messages.forEach(function (message) {
      var id = String(message.id);
      var json = JSON.stringify(message);
      seen[id] = true;
      var existing = log.querySelector('li[data-id="' + id + '"]');
      if (!existing || drawn[id] !== json) {
        var fresh = drawMessage(message);
        if (existing) log.replaceChild(fresh, existing);
        else previous.after(fresh);
        existing = fresh;
        drawn[id] = json;
      }
      previous = existing;
    });
    log.querySelectorAll("li[data-id]").forEach(function (item) {
      if (!seen[item.dataset.id]) {
        delete drawn[item.dataset.id];
        item.remove();
      }
    });
    empty.hidden = chat.messages.length > 0;
    drawKeyboard(chat.keyboard);
    replying.hidden = !chat.force_reply;
    if (atBottom || version < 0) log.scrollTop = log.scrollHeight;
  }

  var polling = false;
  function poll() {
    if (polling) return;
    polling = true;
    fetch(root.dataset.updates + "&v=" + version, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (chat) {
        if (!chat.unchanged && chat.messages) {
          draw(chat);
          version = chat.version;
        }
      })
      .catch(function () {})
      .then(function () { polling = false; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textInput.value;
    if (!text.trim()) return;
    textInput.value = "";
    sendText(text);
  });

  // Telegram's START button of a chat never used: the first thing a newcomer presses.
  var startButton = document.getElementById("start");
  if (startButton) startButton.addEventListener("click", function () { sendText("/start"); });

  commands.addEventListener("click", function () {
    commandList.hidden = !commandList.hidden;
    commands.setAttribute("aria-expanded", String(!commandList.hidden));
  });
  commandList.querySelectorAll("button[data-command]").forEach(function (button) {
    button.addEventListener("click", function () {
      commandList.hidden = true;
      commands.setAttribute("aria-expanded", "false");
      sendText(button.dataset.command);
    });
  });

  function sendRecording(blob, name) {
    var data = fields("voice");
    data.set("recording", blob, name);
    return send(data);
  }

  upload.addEventListener("change", function () {
    if (upload.files && upload.files[0]) {
      sendRecording(upload.files[0], upload.files[0].name).then(function () { upload.value = ""; });
    }
  });

  // The microphone: press to record, press again to send. Telegram's apps record Ogg/Opus; Chromium's
  // MediaRecorder records WebM/Opus, which the bot converts like any other recording.
  var recorder = null;
  recordButton.addEventListener("click", function () {
    if (recorder) {
      recorder.stop();
      return;
    }
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      showError(words.noRecorder);
      return;
    }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm"].filter(function (t) {
        return MediaRecorder.isTypeSupported(t);
      })[0];
      var chunks = [];
      recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
      recorder.addEventListener("dataavailable", function (event) { chunks.push(event.data); });
      recorder.addEventListener("stop", function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        var blob = new Blob(chunks, { type: recorder.mimeType });
        showError("");
        recorder = null;
        recordButton.classList.remove("recording");
        sendRecording(blob, blob.type.indexOf("ogg") >= 0 ? "voice.ogg" : "voice.webm");
      });
      recorder.start();
      recordButton.classList.add("recording");
      showError(words.recording, true);
    }).catch(function () {
      showError(words.noMicrophone);
    });
  });

  poll();
  setInterval(poll, 1000);
})();
