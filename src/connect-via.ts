/**
 * Starting a context through another one (a connection method's `via`): the
 * CONNECT message asks that context's broker to start it, and its reply
 * carries the result (or the error) back.
 */
import type { ConnectResult, ConnectSpec } from './bootstrap-types.js';
import type { ContextView, RouterView } from './context-view.js';
import { CONNECT } from './handles.js';
import { Message } from './message.js';

export function connectVia(router: RouterView, via: ContextView, spec: ConnectSpec): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const handle = router.addHandler((msg) => {
      router.broker.release();
      try {
        const [ok, value] = msg.decode() as [boolean, ConnectResult | Error];
        if (ok) resolve(value as ConnectResult);
        else reject(value);
      } catch (e) {
        reject(e);
      }
    }, { persist: false, respondent: via });
    router.broker.hold();
    router.route(Message.encoded(spec, { dstId: via.contextId, handle: CONNECT, replyTo: handle }));
  });
}
