// The REST client of the UI: same-origin fetch with the session cookie and its CSRF header;
// Label Studio's error envelope turned into one readable message.

let csrfToken = "";

export function setCsrf(token) { csrfToken = token || ""; }

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
  }
}

function describe(status, body) {
  if (body && typeof body === "object") {
    const errors = body.validation_errors || (body.detail === undefined ? body : null);
    if (errors && typeof errors === "object") {
      const lines = [];
      for (const [field, messages] of Object.entries(errors)) {
        const text = [].concat(messages).join(" ");
        lines.push(field === "non_field_errors" ? text : `${field}: ${text}`);
      }
      if (lines.length) return lines.join("\n");
    }
    if (body.detail) return String(body.detail);
  }
  if (status === 0) return "LabelDesk is not answering. Is it still running?";
  return `The server answered ${status}.`;
}

function headers(extra, unsafe) {
  const h = {...extra};
  if (unsafe && csrfToken) h["X-CSRFToken"] = csrfToken;
  return h;
}

/** `token`: sent as `Authorization: Token …`, for what a session alone is never given (the API
 *  token, personal access tokens, switching the token check off); a wrong one is an error here,
 *  not a sign-out. */
export async function request(method, path, {json, body, query, raw, token} = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      for (const item of [].concat(v)) params.append(k, item);
    }
    const text = params.toString();
    if (text) url += (url.includes("?") ? "&" : "?") + text;
  }
  const options = {method, credentials: "same-origin",
                   headers: headers({Accept: "application/json"}, method !== "GET")};
  if (token) options.headers.Authorization = `Token ${token}`;
  if (json !== undefined) {
    options.body = JSON.stringify(json);
    options.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    options.body = body;
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (e) {
    throw new ApiError(0, null);
  }
  if (raw) return response;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (response.status === 401 && !token && !path.startsWith("/api/ui/session")) {
    location.replace("/");  // signed out (or auth was just switched on): back to sign-in
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path, query) => request("GET", path, {query});
export const post = (path, json, query) => request("POST", path, {json, query});
export const patch = (path, json) => request("PATCH", path, {json});
export const del = (path, json) => request("DELETE", path, {json});

/** POST a FormData with upload progress (fetch has none): resolves to the parsed JSON. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    if (csrfToken) xhr.setRequestHeader("X-CSRFToken", csrfToken);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress && onProgress(e.loaded, e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = xhr.responseText; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.send(form);
  });
}
