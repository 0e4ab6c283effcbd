// The desktop window's native side (pywebview's JS API), when there is one. In a browser every
// function here is absent and the UI falls back to the browser's own file inputs and downloads.

export function native() {
  return window.pywebview?.api || null;
}

/** Wait (briefly) for pywebview to inject its API: it arrives after the page starts. */
export function whenReady(timeout = 1500) {
  if (native() || !navigator.userAgent.includes("QtWebEngine")) return Promise.resolve(native());
  return new Promise((resolve) => {
    const done = () => resolve(native());
    window.addEventListener("pywebviewready", done, {once: true});
    setTimeout(done, timeout);
  });
}

/** Poll a background job of the native side until it ends; onProgress(job) on each change. */
export async function followJob(id, onProgress) {
  const api = native();
  for (;;) {
    const job = await api.job(id);
    onProgress?.(job);
    if (job.state !== "running") return job;
    await new Promise((r) => setTimeout(r, 150));
  }
}
