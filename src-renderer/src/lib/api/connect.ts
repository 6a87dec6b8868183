/**
 * Picks the transport: the preload bridge inside Electron, a same-origin WebSocket in web mode (the server put the
 * token in an HttpOnly cookie, which the browser sends with the upgrade). Both give the same PullbackApi; web mode's
 * also gives its connection, which reconnects on its own after a drop (the page shows a banner meanwhile).
 */
import { IpcClient } from '../../../../src-main/shared/ipc-client';
import { WsClient, type WebSocketLike } from '../../../../src-main/shared/ws-client';
import { PRELOAD_KEY, type PreloadBridge } from '../../../../src-main/shared/ipc';
import { WS_PATH } from '../../../../src-main/shared/ws';
import type { PullbackApi } from '../../../../src-main/shared/api';
import type { ConnectionSource } from '../state/connection.svelte';

export async function connectApi(): Promise<{ api: PullbackApi; connection?: ConnectionSource }> {
  const bridge = (window as unknown as Record<string, PreloadBridge | undefined>)[PRELOAD_KEY];
  if (bridge) return { api: new IpcClient(bridge) };
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = new WsClient(() => new WebSocket(`${scheme}//${location.host}${WS_PATH}`) as unknown as WebSocketLike);
  await client.ready();
  return { api: client, connection: client };
}
