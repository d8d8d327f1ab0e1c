// Passkeys (WebAuthn): a form marked data-passkey="create" or "get" carries the options the server
// made (data-passkey-options, JSON with base64url bytes); its button asks the browser's
// authenticator, puts the answer in the form's "credential" field as JSON and submits the form.
// Without WebAuthn in the browser the forms stay hidden.
(function () {
  "use strict";

  function toBytes(base64url) {
    var text = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function answer(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || null,
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return JSON.stringify(json);
  }

  function ceremony(form) {
    var mode = form.getAttribute("data-passkey");
    var options = JSON.parse(form.getAttribute("data-passkey-options"));
    var status = form.querySelector("[data-passkey-status]");
    var asked = mode === "create"
      ? navigator.credentials.create({ publicKey: creationOptions(options) })
      : navigator.credentials.get({ publicKey: requestOptions(options) });
    asked.then(function (credential) {
      form.querySelector("input[name=credential]").value = answer(credential);
      form.submit();
    }).catch(function () {
      if (status) { status.hidden = false; }
    });
  }

  function start() {
    if (!window.PublicKeyCredential || !navigator.credentials) { return; }
    document.querySelectorAll("form[data-passkey]").forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        ceremony(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
