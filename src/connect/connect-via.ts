/**
 * Starting a context through another one (a connection method's `via`): the
 * CONNECT message asks that context's broker to start it, and its reply
 * carries the result (or the error) back.
 */
import type { ConnectResult, ConnectSpec } from '../threads/bootstrap-types.js';
import type { ContextView, RouterView } from '../runtime/context-view.js';
import { CONNECT } from '../wire/handles.js';
import { Message } from '../wire/message.js';
import { unwrap } from '../wire/outcome.js';
import type { Outcome } from '../wire/outcome.js';

export function connectVia(router: RouterView, via: ContextView, spec: ConnectSpec): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const handle = router.addHandler((msg) => {
      router.broker.release();
      try {
        resolve(unwrap(msg.decode() as Outcome<ConnectResult, Error>));
      } catch (e) {
        reject(e);
      }
    }, { persist: false, respondent: via });
    router.broker.hold();
    router.route(Message.encoded(spec, { dstId: via.contextId, handle: CONNECT, replyTo: handle }));
  });
}
