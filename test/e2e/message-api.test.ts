/** Message.dead()/isDead and Receiver.asObservable(), as the README lists them, over a real child. */
import test from 'ava';
import { ChannelError, currentRouter, Message, Receiver } from '../../src/index.js';
import type { Sender } from '../../src/index.js';
import { routerFor } from '../helpers.js';

test('Message.dead(): isDead, its reason, and decode() throwing ChannelError unless asked not to', (t) => {
  const dead = Message.dead('the far end went away', { dstId: 3, handle: 1234 });
  t.true(dead.isDead);
  t.is(dead.deadReason(), 'the far end went away');
  t.throws(() => dead.decode(), { instanceOf: ChannelError, message: 'the far end went away' });
  t.is(dead.decode({ throwDead: false }), 'the far end went away');
  t.like(dead, { dstId: 3, handle: 1234 });
  t.is(Message.dead().deadReason(), ChannelError.remoteMsg, 'the default reason is Mitogen\'s');
  const live = Message.encoded('hello', { handle: 1234 });
  t.false(live.isDead);
  t.is(live.decode(), 'hello');
});

test('a dead message sent by a child ends the Receiver it reaches with ChannelError naming the reason', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const rx = new Receiver(router);
  await ctx.call((handle: number) => { currentRouter()!.contextFor(0).send(Message.dead('closed by the child', { handle })); }, rx.handle);
  const err = await t.throwsAsync(rx.get({ timeout: 30 }), { instanceOf: ChannelError });
  t.is(err!.message, 'closed by the child');
});

test('rx.asObservable(): what was queued, then each message as it comes, then an error when the sender closes', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const rx = new Receiver(router);
  // Two messages arrive before anyone subscribes: they are queued, and the observable gets them first.
  await ctx.call((s: Sender) => { s.send('queued 1'); s.send('queued 2'); }, rx.toSender());
  const got: unknown[] = [];
  const ended = new Promise<unknown>((resolve) => {
    rx.asObservable().subscribe({ next: (m) => got.push(m.decode()), error: resolve, complete: () => resolve('completed') });
  });
  ctx.callNoReply((s: Sender) => { for (let i = 0; i < 3; i++) s.send(i); s.close(); }, rx.toSender());
  const end = await ended;
  t.deepEqual(got, ['queued 1', 'queued 2', 0, 1, 2]);
  t.true(end instanceof ChannelError, String(end));
});
