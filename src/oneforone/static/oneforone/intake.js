// Intake form: the phone's location, taken once on request or when the page opens, written to
// the form's hidden latitude, longitude and accuracy fields. Without a location (refused, no
// GPS, no script) the record is saved without one; the server never guesses it.
(function () {
  "use strict";
  var form = document.querySelector("form.intake-form");
  if (!form || !("geolocation" in navigator)) { return; }
  var status = form.querySelector("[data-gps-status]");
  var button = form.querySelector("[data-gps-take]");
  var field = function (name) { return form.querySelector("input[name=" + name + "]"); };

  function say(text) {
    status.firstChild.nodeValue = text + " ";
  }

  function take() {
    say("Location: taking…");
    navigator.geolocation.getCurrentPosition(function (position) {
      var c = position.coords;
      field("latitude").value = c.latitude.toFixed(6);
      field("longitude").value = c.longitude.toFixed(6);
      field("gps_accuracy_m").value = Math.round(c.accuracy);
      say("Location: taken, within " + Math.round(c.accuracy) + " m.");
    }, function (error) {
      say("Location: not taken (" + error.message + "); the record is saved without it.");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  button.addEventListener("click", take);
  if (!field("latitude").value) { take(); }
}());
