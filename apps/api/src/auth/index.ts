export { createAuth, CONFIG_ADMIN_NAME, type AuthSystem } from './system.js';
export { ApiKeyService, toKeyView, type ApiKeyView } from './key-service.js';
export { ApiKeyStore, type Principal } from './key-store.js';
export { authGate, tokenOf, INTERNAL_ACTOR, ANONYMOUS_ACTOR } from './middleware.js';
export { authRoutes } from './routes.js';
export { ROUTE_RULES, UNLISTED_ACCESS, accessFor, rulesFor, servedInternally, renderRouteTable, DOC_BEGIN, DOC_END, type RouteRule, type Listener, type Access, type Method } from './route-roles.js';
export { listRoutes, type MountedRoute } from './router-routes.js';
export { ensureZeroSetupAdminToken } from './zero-setup.js';
export { generateToken, hashToken } from './tokens.js';
