// WebAuthn ceremonies for security keys and passkeys (loaded with <script src>: the
// Content-Security-Policy allows no inline script). A button with
// data-webauthn="register" or "authenticate" and data-options-url asks the server for
// the options, lets the browser talk to the key, puts the answer in the form's hidden
// "credential" field and submits the form; the server verifies everything.
(function () {
  "use strict";
  if (!window.PublicKeyCredential) {
    document.querySelectorAll("[data-webauthn-unsupported]").forEach(function (el) {
      el.hidden = false;
    });
    document.querySelectorAll("[data-webauthn]").forEach(function (el) {
      el.disabled = true;
    });
    return;
  }
  async function fetchOptions(form, url) {
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": token},
    });
    if (!response.ok) {
      throw new Error("options: " + response.status);
    }
    return response.json();
  }
  document.querySelectorAll("[data-webauthn]").forEach(function (button) {
    button.addEventListener("click", async function (event) {
      event.preventDefault();
      const form = button.closest("form");
      const failed = form.querySelector("[data-webauthn-error]");
      if (failed) {
        failed.hidden = true;
      }
      if (!form.reportValidity()) {
        return;
      }
      button.disabled = true;
      try {
        const options = await fetchOptions(form, button.dataset.optionsUrl);
        let credential;
        if (button.dataset.webauthn === "register") {
          credential = await navigator.credentials.create(
            {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)});
        } else {
          credential = await navigator.credentials.get(
            {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
        }
        form.querySelector("input[name=credential]").value = JSON.stringify(credential.toJSON());
        form.submit();
      } catch (error) {
        button.disabled = false;
        if (failed) {
          failed.hidden = false;
        }
      }
    });
  });
})();
