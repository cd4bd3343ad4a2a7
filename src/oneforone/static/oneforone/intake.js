// Intake form on a hub phone.
// 1. The phone's location, taken on request or when the page opens, goes into the hidden
//    latitude, longitude and accuracy fields. Without it (refused, no GPS) the record is saved
//    without a place; the server never guesses one.
// 2. Each filled form carries a UUID made here, so the same record sent twice is recorded once.
// 3. Offline, a submitted record is kept on this phone (localStorage, without its photos) and
//    sent when the connection is back, each with its UUID: sending it again is harmless.
(function () {
  "use strict";
  var form = document.querySelector("form.intake-form");
  if (!form) { return; }
  var QUEUE = "oneforone.intake.queue";
  var KEPT = ["phones", "net_weight_kg", "batteries_removed", "battery_weight_kg", "imeis",
              "note", "payment_reference", "client_uuid", "collected_time"];
  var field = function (name) { return form.querySelector("[name=" + name + "]"); };
  var queueStatus = document.querySelector("[data-queue-status]");
  // The language's catalogue comes from /jsi18n/; without it (a page kept offline) English.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  };

  function newUuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }
  if (!field("client_uuid").value) { field("client_uuid").value = newUuid(); }

  // --- location ---
  var gpsStatus = form.querySelector("[data-gps-status]");
  function say(text) { gpsStatus.firstChild.nodeValue = text + " "; }
  function takeLocation() {
    if (!("geolocation" in navigator)) { say(gettext("Location: this phone cannot give one.")); return; }
    say(gettext("Location: taking…"));
    navigator.geolocation.getCurrentPosition(function (position) {
      var c = position.coords;
      field("latitude").value = c.latitude.toFixed(6);
      field("longitude").value = c.longitude.toFixed(6);
      field("gps_accuracy_m").value = Math.round(c.accuracy);
      say(interpolate(gettext("Location: taken, within %(metres)s m."),
                      { metres: Math.round(c.accuracy) }, true));
    }, function (error) {
      say(interpolate(gettext("Location: not taken (%(reason)s); the record is saved without it."),
                      { reason: error.message }, true));
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  form.querySelector("[data-gps-take]").addEventListener("click", takeLocation);
  if (!field("latitude").value) { takeLocation(); }

  // --- offline queue ---
  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(QUEUE, JSON.stringify(queue)); showQueue(queue); }
  function showQueue(queue) {
    if (!queueStatus) { return; }
    var waiting = queue.filter(function (r) { return !r.refused; }).length;
    var refused = queue.length - waiting;
    var text = [];
    if (waiting) {
      text.push(interpolate(ngettext(
        "%(count)s record kept on this phone, sent when the connection is back.",
        "%(count)s records kept on this phone, sent when the connection is back.",
        waiting), { count: waiting }, true));
    }
    if (refused) {
      text.push(interpolate(ngettext(
        "%(count)s kept record was refused by the server: enter it again by hand.",
        "%(count)s kept records were refused by the server: enter them again by hand.",
        refused), { count: refused }, true));
    }
    queueStatus.textContent = text.join(" ");
    queueStatus.hidden = text.length === 0;
  }

  form.addEventListener("submit", function (event) {
    if (navigator.onLine) { return; }
    event.preventDefault();
    var entries = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "csrfmiddlewaretoken") { entries.push([name, value]); }
    });
    var queue = load();
    queue.push({ entries: entries, refused: false });
    save(queue);
    KEPT.forEach(function (name) { if (field(name)) { field(name).value = ""; } });
    field("batteries_removed").value = "0";
    field("client_uuid").value = newUuid();
    window.scrollTo(0, 0);
  });

  var sending = false;
  function send() {
    var queue = load();
    var next = queue.findIndex(function (r) { return !r.refused; });
    if (sending || next < 0 || !navigator.onLine) { showQueue(queue); return; }
    sending = true;
    var body = new FormData();
    queue[next].entries.forEach(function (pair) { body.append(pair[0], pair[1]); });
    var token = field("csrfmiddlewaretoken").value;
    body.append("csrfmiddlewaretoken", token);
    fetch(window.location.pathname + window.location.search, {
      method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token }
    }).then(function (response) {
      var current = load();
      // Recorded (or recorded before): the page redirects. Otherwise the form came back refused.
      if (response.redirected) { current.splice(next, 1); } else { current[next].refused = true; }
      save(current);
      sending = false;
      send();
    }, function () { sending = false; showQueue(load()); });
  }
  window.addEventListener("online", send);
  send();
}());
