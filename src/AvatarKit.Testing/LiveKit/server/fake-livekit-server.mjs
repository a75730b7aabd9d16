// A fake LiveKit server for AvatarKit tests: LiveKit's signaling protocol (protobuf over a
// WebSocket at /rtc) and a tiny forwarding unit over real WebRTC (werift), enough for LiveKit's
// unmodified client SDKs to join rooms, publish audio/video/data and receive each other's.
//
// Environment: FAKE_LIVEKIT_PORT (0 = any), FAKE_LIVEKIT_API_KEY, FAKE_LIVEKIT_API_SECRET,
// FAKE_LIVEKIT_RESUME_GRACE_MS (how long a participant whose signal socket closed without a leave
// keeps its peer connections, waiting for a resume; default 15000).
// Prints "listening <port>" once ready. Admin endpoints (loopback only, for tests):
//   GET  /admin/rooms/<room>                                         -> JSON state of the room
//   POST /admin/rooms/<room>/participants/<identity>/remove          -> server-initiated disconnect
//   POST /admin/rooms/<room>/participants/<identity>/drop-signal     -> cut the signal socket (no leave);
//        ?resume=refuse makes the server refuse the resume, so the client does a full reconnect
//   POST /admin/rooms/<room>/participants/<identity>/quality?value=poor|good|excellent|lost
//        -> the connection quality reported for the participant (every 2 s; excellent by default)
//   POST /admin/rooms/<room>/participants/<identity>/cut-media       -> cut the media path: every datagram
//        to or from the participant's peer connections is dropped (no signal message, no DTLS or SCTP
//        close), as when the network path dies; the signal socket stays up. The client sees its peer
//        connections fail and resumes; the resume's ICE restarts (new ICE credentials) find a new path.
//        ?recover=reconnect refuses the resume, so the client reconnects from scratch with a new join;
//        ?recover=refuse: the server gives the session up 5 s after the cut, before the client notices
//        (leave { DISCONNECT, MEDIA_FAILURE } on the signal socket, participant removed)
import http from 'node:http';
import { createHmac, timingSafeEqual, randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import * as lk from '@livekit/protocol';
import { RTCPeerConnection, MediaStreamTrack, MediaStream, RtpPacket } from 'werift';

const {
  SignalRequest, SignalResponse, JoinResponse, Room, ParticipantInfo, ParticipantInfo_State, SessionDescription,
  TrickleRequest, SignalTarget, DataPacket, TrackInfo, TrackType, ParticipantUpdate, LeaveRequest, LeaveRequest_Action,
  DisconnectReason, ClientConfiguration, ReconnectResponse, ConnectionQuality, ConnectionQualityUpdate, ConnectionQualityInfo,
} = lk;

const apiKey = process.env.FAKE_LIVEKIT_API_KEY ?? 'devkey';
const apiSecret = process.env.FAKE_LIVEKIT_API_SECRET ?? 'secret';
const port = Number(process.env.FAKE_LIVEKIT_PORT ?? 7880);
const resumeGraceMs = Number(process.env.FAKE_LIVEKIT_RESUME_GRACE_MS ?? 15000);
const verbose = process.env.FAKE_LIVEKIT_VERBOSE === '1';
const log = (...args) => { if (verbose) console.error(new Date().toISOString().slice(11, 23), ...args); };
const id = (prefix) => prefix + randomBytes(6).toString('hex');
const rooms = new Map();
const peerConfig = { iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'] };

// --- access tokens: HS256 JWTs signed with the API secret, grants checked ---------------------
// The token comes in an Authorization: Bearer header (native SDKs) or, as LiveKit also accepts it,
// in the access_token query parameter (livekit-client: browsers cannot set WebSocket headers).
function verifyToken(req, url) {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('access_token');
  if (!token) return { error: 'no access token (expected an Authorization: Bearer header or an access_token parameter)' };
  const parts = token.split('.');
  if (parts.length !== 3) return { error: 'malformed access token' };
  let head, claims;
  try {
    head = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  } catch { return { error: 'malformed access token' }; }
  if (head.alg !== 'HS256') return { error: `unsupported token algorithm ${head.alg}` };
  const expected = createHmac('sha256', apiSecret).update(`${parts[0]}.${parts[1]}`).digest();
  const actual = Buffer.from(parts[2], 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { error: 'invalid token signature' };
  if (claims.iss !== apiKey) return { error: 'unknown API key' };
  const now = Date.now() / 1000;
  if (typeof claims.exp === 'number' && now > claims.exp) return { error: 'token expired' };
  if (typeof claims.nbf === 'number' && now < claims.nbf) return { error: 'token not valid yet' };
  const grant = claims.video ?? {};
  if (!grant.roomJoin || !grant.room) return { error: 'token has no roomJoin grant' };
  if (!claims.sub) return { error: 'token has no identity' };
  return {
    identity: claims.sub, name: claims.name ?? '', metadata: claims.metadata ?? '', room: grant.room,
    canPublish: grant.canPublish !== false, canSubscribe: grant.canSubscribe !== false, canPublishData: grant.canPublishData !== false,
  };
}

// --- rooms and participants ---------------------------------------------------------------------
function roomFor(name) {
  let room = rooms.get(name);
  if (!room) { room = { name, sid: id('RM_'), participants: new Map() }; rooms.set(name, room); }
  return room;
}

function infoOf(p, state = ParticipantInfo_State.ACTIVE) {
  return new ParticipantInfo({
    sid: p.sid, identity: p.identity, name: p.name, metadata: p.metadata, state, isPublisher: p.published.size > 0,
    tracks: [...p.published.values()].map(t => t.info), joinedAt: BigInt(Math.floor(p.joinedAt / 1000)), version: ++p.version,
  });
}

function send(p, message) {
  if (p.ws.readyState === 1) p.ws.send(Buffer.from(new SignalResponse({ message }).toBinary()));
}

function broadcastUpdate(room, from, state) {
  const update = new ParticipantUpdate({ participants: [infoOf(from, state)] });
  for (const other of room.participants.values()) if (other !== from) send(other, { case: 'update', value: update });
}

async function negotiate(p) {
  // One subscriber offer at a time; changes made meanwhile are offered after the answer.
  if (p.offering) { p.renegotiate = true; return; }
  p.offering = true;
  p.renegotiate = false;
  const iceRestart = p.iceRestartPending === true;
  p.iceRestartPending = false;
  if (iceRestart) p.iceRestarts++;
  const offer = await p.sub.createOffer({ iceRestart });
  await p.sub.setLocalDescription(offer);
  send(p, { case: 'offer', value: new SessionDescription({ type: 'offer', sdp: p.sub.localDescription.sdp, id: ++p.offerId }) });
}

// Sends a publisher's track to a subscriber: a new sendonly track on the subscriber connection
// whose stream id is "<participant sid>|<track sid>", as LiveKit clients expect.
function forward(track, publisher, subscriber) {
  if (!subscriber.canSubscribe || track.forwards.has(subscriber.identity)) return;
  const out = new MediaStreamTrack({ kind: track.kind });
  const sender = subscriber.sub.addTrack(out, new MediaStream({ id: `${publisher.sid}|${track.info.sid}` }));
  track.forwards.set(subscriber.identity, { out, sender, subscriber });
  // Relay the subscriber's keyframe requests (after loss, e.g. a cut media path) to the publisher, as an SFU does.
  if (track.kind === 'video') {
    sender.onPictureLossIndication.subscribe(() => {
      log('keyframe request from', subscriber.identity, 'for', publisher.identity);
      track.receiver?.sendRtcpPLI(track.ssrc).catch(() => {});
    });
  }
  requestKeyFrames(track);
}

function requestKeyFrames(track) {
  if (track.kind !== 'video' || !track.receiver) return;
  for (const delay of [200, 700, 1500, 3000]) setTimeout(() => track.receiver.sendRtcpPLI(track.ssrc).catch(() => {}), delay);
}

function onMediaTrack(p, event) {
  const kind = event.track.kind;
  const track = [...p.published.values()].find(t => t.kind === kind && !t.receiver);
  if (!track) { log('unexpected track', kind, 'from', p.identity); return; }
  track.receiver = event.receiver;
  track.ssrc = event.track.ssrc;
  event.track.onReceiveRtp.subscribe(rtp => {
    track.packets++;
    for (const f of track.forwards.values()) {
      const pt = f.sender.codec?.payloadType;
      if (!pt) continue;
      const copy = RtpPacket.deSerialize(rtp.serialize());
      copy.header.payloadType = pt;
      f.out.writeRtp(copy);
    }
  });
  for (const other of p.room.participants.values()) {
    if (other !== p) { forward(track, p, other); negotiate(other).catch(e => log('negotiate', e.message)); }
  }
  log('media', kind, 'from', p.identity);
}

function onClientData(p, channel, bytes) {
  if (!p.canPublishData) return;
  const packet = DataPacket.fromBinary(new Uint8Array(bytes));
  p.dataReceived++;
  packet.participantIdentity = p.identity;
  if (packet.value.case === 'user') packet.value.value.participantIdentity = p.identity;
  const destinations = packet.destinationIdentities.length ? packet.destinationIdentities
    : packet.value.case === 'user' ? packet.value.value.destinationIdentities : [];
  const payload = Buffer.from(packet.toBinary());
  if (packet.value.case === 'user') {
    p.room.data.push({ from: p.identity, topic: packet.value.value.topic ?? null, payload: Buffer.from(packet.value.value.payload).toString('base64'), destinations });
    if (p.room.data.length > 100) p.room.data.shift();
  }
  for (const other of p.room.participants.values()) {
    if (other === p || (destinations.length && !destinations.includes(other.identity))) continue;
    const target = channel === '_lossy' ? other.lossy : other.reliable;
    if (target.readyState === 'open') target.send(payload); else other.pendingData.push([target, payload]);
  }
}

// The media fault hook: every datagram of the participant's current ICE sessions is dropped, both
// ways, at its UDP sockets, with no signal message and no DTLS or SCTP close, as when the network
// path dies. werift keeps the sockets across an ICE restart, so the cut is keyed to the ICE
// generation: a restart (new credentials, as a resume brings) is the new path, and it works.
function cutMedia(p) {
  p.mediaCuts++;
  for (const pc of [p.pub, p.sub]) {
    for (const connection of pc.iceTransports.map(t => t.connection)) {
      connection.cutGeneration = connection.generation;
      for (const udp of connection.protocols.map(protocol => protocol.transport)) {
        if (!udp || udp.cut) continue;
        udp.cut = () => connection.cutGeneration === connection.generation;
        const onData = udp.onData;
        const send = udp.send;
        udp.onData = (data, addr) => { if (!udp.cut()) onData(data, addr); };
        udp.send = (data, addr) => udp.cut() ? Promise.resolve() : send(data, addr);
      }
    }
  }
  log('media cut', p.identity);
}

// How long the server takes to give up a participant whose media path was cut with recover=refuse:
// well before the client's own ICE gives up (about 15 s), so the server's leave comes first.
const mediaGiveUpMs = 5000;

// Server-initiated disconnect: a leave the client must not reconnect after, then the participant goes.
function disconnect(p, reason, why) {
  send(p, { case: 'leave', value: new LeaveRequest({ reason, action: LeaveRequest_Action.DISCONNECT }) });
  leave(p, why);
  setTimeout(() => p.ws.close(), 200);
}

function leave(p, reason) {
  const room = p.room;
  if (room.participants.get(p.identity) !== p) return;
  clearTimeout(p.graceTimer);
  room.participants.delete(p.identity);
  for (const other of room.participants.values()) {
    for (const t of other.published.values()) t.forwards.delete(p.identity);
  }
  broadcastUpdate(room, p, ParticipantInfo_State.DISCONNECTED);
  p.sub.close().catch(() => {});
  p.pub.close().catch(() => {});
  log('left', p.identity, reason);
}

function onConnection(ws, grant) {
  const room = roomFor(grant.room);
  const previous = room.participants.get(grant.identity);
  if (previous) {
    send(previous, { case: 'leave', value: new LeaveRequest({ reason: DisconnectReason.DUPLICATE_IDENTITY, action: LeaveRequest_Action.DISCONNECT }) });
    leave(previous, 'duplicate identity');
    previous.ws.close();
  }
  const p = {
    ws, room, sid: id('PA_'), identity: grant.identity, name: grant.name, metadata: grant.metadata, joinedAt: Date.now(), version: 0,
    canPublish: grant.canPublish, canSubscribe: grant.canSubscribe, canPublishData: grant.canPublishData,
    sub: new RTCPeerConnection(peerConfig), pub: new RTCPeerConnection(peerConfig), published: new Map(), pendingTracks: new Map(),
    offering: false, renegotiate: false, offerId: 0, pendingData: [], dataReceived: 0, resumes: 0, syncStates: 0, publisherOffers: 0,
    graceTimer: undefined, refuseResume: false, quality: ConnectionQuality.EXCELLENT,
    iceRestartPending: false, iceRestarts: 0, mediaCuts: 0,
  };
  room.data ??= [];
  p.reliable = p.sub.createDataChannel('_reliable', { ordered: true });
  p.lossy = p.sub.createDataChannel('_lossy', { ordered: false, maxRetransmits: 0 });
  for (const channel of [p.reliable, p.lossy]) {
    channel.stateChanged.subscribe(state => {
      if (state !== 'open') return;
      for (const [target, payload] of p.pendingData.filter(([t]) => t === channel)) target.send(payload);
      p.pendingData = p.pendingData.filter(([t]) => t !== channel);
    });
  }
  for (const [pc, target] of [[p.sub, SignalTarget.SUBSCRIBER], [p.pub, SignalTarget.PUBLISHER]]) {
    pc.onicecandidate = e => {
      if (e.candidate) send(p, { case: 'trickle', value: new TrickleRequest({ candidateInit: JSON.stringify(e.candidate.toJSON()), target }) });
    };
  }
  p.pub.ontrack = event => onMediaTrack(p, event);
  p.pub.onDataChannel.subscribe(channel => channel.onMessage.subscribe(m => onClientData(p, channel.label, m)));

  const others = [...room.participants.values()];
  room.participants.set(p.identity, p);
  for (const other of others) for (const t of other.published.values()) if (t.receiver) forward(t, other, p);
  send(p, { case: 'join', value: new JoinResponse({
    room: new Room({ sid: room.sid, name: room.name, creationTime: BigInt(Math.floor(Date.now() / 1000)) }),
    participant: infoOf(p), otherParticipants: others.map(o => infoOf(o)), serverVersion: '1.9.0',
    subscriberPrimary: true, pingInterval: 5, pingTimeout: 15, clientConfiguration: new ClientConfiguration({}),
  }) });
  broadcastUpdate(room, p, ParticipantInfo_State.ACTIVE);
  negotiate(p).catch(e => log('negotiate', e.message));

  attachSocket(p, ws);
  log('joined', p.identity, 'room', room.name);
}

function attachSocket(p, ws) {
  const room = p.room;
  ws.on('message', async data => {
    let m;
    try { m = SignalRequest.fromBinary(new Uint8Array(data)).message; } catch (e) { log('bad signal', e.message); return; }
    try {
      switch (m.case) {
        case 'answer':
          await p.sub.setRemoteDescription({ type: 'answer', sdp: m.value.sdp });
          p.offering = false;
          if (p.renegotiate) await negotiate(p);
          break;
        case 'offer': {
          p.publisherOffers++;
          await p.pub.setRemoteDescription({ type: 'offer', sdp: m.value.sdp });
          await p.pub.setLocalDescription(await p.pub.createAnswer());
          send(p, { case: 'answer', value: new SessionDescription({ type: 'answer', sdp: p.pub.localDescription.sdp, id: m.value.id }) });
          break;
        }
        case 'trickle': {
          const candidate = JSON.parse(m.value.candidateInit);
          await (m.value.target === SignalTarget.SUBSCRIBER ? p.sub : p.pub).addIceCandidate(candidate).catch(e => log('candidate', e.message));
          break;
        }
        case 'addTrack': {
          if (!p.canPublish) { log('publish denied', p.identity); break; }
          const req = m.value;
          const info = new TrackInfo({
            sid: id('TR_'), type: req.type, name: req.name, source: req.source, width: req.width, height: req.height,
            mimeType: req.type === TrackType.VIDEO ? 'video/VP8' : 'audio/opus', muted: req.muted,
          });
          p.published.set(info.sid, { info, kind: req.type === TrackType.VIDEO ? 'video' : 'audio', forwards: new Map(), packets: 0 });
          send(p, { case: 'trackPublished', value: { cid: req.cid, track: info } });
          broadcastUpdate(room, p, ParticipantInfo_State.ACTIVE);
          break;
        }
        case 'leave':
          leave(p, 'client leave');
          break;
        case 'ping':
          send(p, { case: 'pong', value: m.value });
          break;
        case 'pingReq':
          send(p, { case: 'pongResp', value: { lastPingTimestamp: m.value.timestamp, timestamp: BigInt(Date.now()) } });
          break;
        case 'syncState':
          p.syncStates++;
          break;
        default:
          break;
      }
    } catch (e) { log('signal', m.case, e.message); }
  });
  // A socket that closes without a leave may come back with a resume (as LiveKit's SDKs do when
  // the signal connection drops): keep the peer connections for a grace period.
  ws.on('close', () => {
    if (p.ws !== ws || p.room.participants.get(p.identity) !== p) return;
    log('signal lost', p.identity);
    p.graceTimer = setTimeout(() => leave(p, 'signal lost, no resume'), resumeGraceMs);
  });
}

// Resume (LiveKit's signal reconnect): /rtc?reconnect=1&sid=<participant sid> on a new socket.
// The peer connections live on; the server answers ReconnectResponse, then the client sends
// SyncState and, if it publishes, an ICE-restart offer for its publisher connection.
function onResume(ws, grant, sid) {
  const p = rooms.get(grant.room)?.participants.get(grant.identity);
  if (!p || p.sid !== sid || p.refuseResume) {
    // What LiveKit answers when it cannot resume: reconnect from scratch with a new join.
    const why = !p ? 'unknown participant' : p.sid !== sid ? 'unknown session' : 'resume refused (fault hook)';
    log('resume refused', grant.identity, why);
    ws.send(Buffer.from(new SignalResponse({ message: { case: 'leave', value: new LeaveRequest({ reason: DisconnectReason.STATE_MISMATCH, action: LeaveRequest_Action.RECONNECT }) } }).toBinary()));
    setTimeout(() => ws.close(), 100);
    if (p) p.refuseResume = false;
    return;
  }
  clearTimeout(p.graceTimer);
  const old = p.ws;
  p.ws = ws;
  if (old.readyState <= 1) old.terminate();
  p.resumes++;
  attachSocket(p, ws);
  send(p, { case: 'reconnect', value: new ReconnectResponse({ clientConfiguration: new ClientConfiguration({}) }) });
  // The post-resume snapshot: the SDK treats anyone missing from it as having left meanwhile.
  const others = [...p.room.participants.values()].filter(o => o !== p);
  if (others.length) send(p, { case: 'update', value: new ParticipantUpdate({ participants: others.map(o => infoOf(o)) }) });
  // As LiveKit does on every resume: restart the subscriber connection's ICE (an offer with new
  // credentials), which finds a new path when the old one was lost.
  p.iceRestartPending = true;
  negotiate(p).catch(e => log('negotiate', e.message));
  log('resumed', p.identity);
}

// Connection quality as LiveKit reports it: every participant's, to everyone, periodically. The
// fake does not measure loss or jitter; a participant's quality is what a test set (excellent by default).
function sendQuality(room) {
  const updates = [...room.participants.values()].map(o => new ConnectionQualityInfo({ participantSid: o.sid, quality: o.quality, score: o.quality === ConnectionQuality.EXCELLENT ? 5 : 2 }));
  for (const p of room.participants.values()) send(p, { case: 'connectionQuality', value: new ConnectionQualityUpdate({ updates }) });
}
setInterval(() => { for (const room of rooms.values()) sendQuality(room); }, 2000).unref();

// Diagnostics: a timer that fires seconds late means this process was starved or blocked, which
// clients see as ping timeouts and failed peer connections.
let lastTick = Date.now();
setInterval(() => {
  const lag = Date.now() - lastTick - 1000;
  if (lag > 2000) log('event loop late by', lag, 'ms');
  lastTick = Date.now();
}, 1000).unref();

// --- HTTP: signaling upgrade, validate, admin ---------------------------------------------------
function roomState(room) {
  return {
    name: room.name, sid: room.sid, data: room.data ?? [],
    participants: [...room.participants.values()].map(p => ({
      identity: p.identity, sid: p.sid, dataReceived: p.dataReceived, resumes: p.resumes, syncStates: p.syncStates, publisherOffers: p.publisherOffers,
      subscriberIceRestarts: p.iceRestarts, mediaCuts: p.mediaCuts,
      signalConnected: p.ws.readyState === 1,
      tracks: [...p.published.values()].map(t => ({ sid: t.info.sid, name: t.info.name, kind: t.kind, packets: t.packets, subscribers: [...t.forwards.keys()] })),
    })),
  };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const reply = (status, body) => { res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' }); res.end(typeof body === 'string' ? body : JSON.stringify(body)); };
  if (url.pathname === '/rtc/validate') {
    const grant = verifyToken(req, url);
    return grant.error ? reply(401, grant.error) : reply(200, 'success');
  }
  const admin = /^\/admin\/rooms\/([^/]+)(?:\/participants\/([^/]+)\/(remove|drop-signal|cut-media|quality))?$/.exec(url.pathname);
  if (admin) {
    const room = rooms.get(decodeURIComponent(admin[1]));
    if (!admin[2]) return reply(200, room ? roomState(room) : { name: decodeURIComponent(admin[1]), participants: [], data: [] });
    const p = room?.participants.get(decodeURIComponent(admin[2]));
    if (!p) return reply(404, 'no such participant');
    if (admin[3] === 'quality') {
      const quality = ConnectionQuality[(url.searchParams.get('value') ?? '').toUpperCase()];
      if (typeof quality !== 'number') return reply(400, 'value must be poor, good, excellent or lost');
      p.quality = quality;
      sendQuality(room);
      return reply(200, 'set');
    }
    if (admin[3] === 'cut-media') {
      const recover = url.searchParams.get('recover') ?? 'resume';
      if (!['resume', 'reconnect', 'refuse'].includes(recover)) return reply(400, 'recover must be resume, reconnect or refuse');
      p.refuseResume = recover === 'reconnect';
      cutMedia(p);
      if (recover === 'refuse') {
        setTimeout(() => { if (room.participants.get(p.identity) === p) disconnect(p, DisconnectReason.MEDIA_FAILURE, 'media failure (fault hook)'); }, mediaGiveUpMs);
      }
      return reply(200, 'cut');
    }
    if (admin[3] === 'drop-signal') {
      p.refuseResume = url.searchParams.get('resume') === 'refuse';
      p.ws.terminate(); // no leave and no close frame: what a network cut looks like
      return reply(200, 'dropped');
    }
    disconnect(p, DisconnectReason.PARTICIPANT_REMOVED, 'removed');
    return reply(200, 'removed');
  }
  reply(404, 'not found');
});

const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/rtc') { socket.end('HTTP/1.1 404 Not Found\r\n\r\n'); return; }
  const grant = verifyToken(req, url);
  if (grant.error) { socket.end(`HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\n\r\n${grant.error}`); return; }
  const resume = url.searchParams.get('reconnect') === '1';
  wss.handleUpgrade(req, socket, head, ws => resume ? onResume(ws, grant, url.searchParams.get('sid')) : onConnection(ws, grant));
});

server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.stdin.on('end', () => process.exit(0)); // the parent went away
process.stdin.resume();
