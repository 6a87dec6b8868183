/** The WebSocket wire format of PullbackApi (web mode). Requests are JSON text; replies and events binary frames. */
import { z } from 'zod';
import { COMMANDS } from './api';
import { ApiErrorSchema } from './errors';

export const WS_PATH = '/api';
/** The web-mode cookie: holds a browser session's secret (never the connection token itself). */
export const TOKEN_COOKIE = 'pullback_token';
/** Largest request we accept: project saves carry their images (base64), up to a few MiB for the bundled sizes. */
export const WS_MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/**
 * Project requests (open, save, …) one connection may have in progress at once; more are answered 'busy'. Opening
 * holds the file and its images in memory, so this bounds what one client can make the server hold; every other
 * request is answered at once and needs no limit (jobs have their own, per client, in ApiService).
 */
export const WS_MAX_PROJECT_REQUESTS = 4;

export const WsRequestSchema = z.object({
  id: z.number().int().nonnegative(),
  method: z.enum(COMMANDS),
  args: z.array(z.unknown()).max(4),
});
export type WsRequest = z.infer<typeof WsRequestSchema>;

export const WsReplySchema = z.union([
  z.object({ id: z.number(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number(), ok: z.literal(false), error: ApiErrorSchema }),
  z.object({ event: z.unknown() }),
]);
export type WsReply = z.infer<typeof WsReplySchema>;
