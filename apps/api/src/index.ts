export { createApp, type AppOptions } from './app.js';
export { createServices, type Services } from './services.js';
export { listen } from './listen.js';
export { drainServer } from './shutdown.js';
export * from './auth/index.js';
