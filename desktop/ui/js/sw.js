// The service worker Label Studio's web app registers at /sw.js. Label Studio's caches signed
// cloud-storage URLs; LabelDesk has none worth caching, so this one does nothing and caches
// nothing (every request goes to the network, i.e. this machine's server, as before).
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
