// The sign-in page: trades the window's one-time secret for a session, or asks for the token.
const secret = new URLSearchParams(location.hash.slice(1)).get("secret");
const form = document.getElementById("login-form");

async function exchange() {
  // the secret is single-use: drop it from the address; stay on this page (the app at /, or
  // LabelDesk's own pages at /desktop)
  history.replaceState(null, "", location.pathname);
  document.getElementById("opening").hidden = false;
  try {
    const response = await fetch("/api/ui/session", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({secret}),
    });
    if (response.ok) { location.replace(location.pathname); return; }
  } catch (e) { /* fall through to the form */ }
  document.getElementById("opening").hidden = true;
  form.hidden = false;
}

if (secret) exchange();
else {
  form.hidden = false;
  if (new URLSearchParams(location.search).get("error")) {
    document.getElementById("login-error").hidden = false;
  }
  document.getElementById("token").focus();
}
