/**
 * One TCP connection's state machine (the transmission control block of
 * RFC 9293 §3.3.1): sequence spaces, the send and receive queues, the
 * retransmission, persist, delayed-ACK and TIME-WAIT timers, NewReno
 * congestion control, and the options Linux negotiates on its SYNs.
 */
import { type Ipv4Addr, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpOptions, type TcpRepr } from "@kemu/wire";
import type { Errno } from "../errno.ts";
import { SackScoreboard } from "./scoreboard.ts";
import { ByteQueue, Reassembly } from "./segment_queue.ts";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "./seq.ts";
import { DeadlineTimer, RTO_MAX_MS, RtoEstimator } from "./timers.ts";
import type { ListenSocket, Tcp } from "./tcp.ts";

/** Connection states, spelled as `ss` prints them. */
export type TcpState =
  | "CLOSED"
  | "LISTEN"
  | "SYN-SENT"
  | "SYN-RECV"
  | "ESTAB"
  | "FIN-WAIT-1"
  | "FIN-WAIT-2"
  | "CLOSE-WAIT"
  | "CLOSING"
  | "LAST-ACK"
  | "TIME-WAIT";

/** A received segment: its header as a value and a view of its payload. */
export interface TcpSegment {
  readonly repr: TcpRepr;
  readonly payload: Uint8Array;
}

/** Which timer of a connection is running, as `ss -o` names them. */
export type TcpTimerKind = "on" | "persist" | "keepalive" | "timewait" | "off";

/** Delayed ACK timeout (Linux's TCP_DELACK_MIN). */
export const DELACK_MS = 40;
/** How long TIME-WAIT lasts (Linux's TCP_TIMEWAIT_LEN, fixed at 60 s). */
export const TIME_WAIT_MS = 60_000;
/** Linux's initial congestion window, in segments (RFC 6928). */
const INITIAL_CWND = 10;
/** Bytes the timestamps option takes in every segment once negotiated. */
const TS_OVERHEAD = 12;
/** RFC 7323's largest window shift. */
const MAX_WSCALE = 14;
/** tcp_synack_retries' default. */
const SYNACK_RETRIES = 5;

/** Where a connection's four-tuple and first numbers come from. */
export interface TcbInit {
  localAddr: Ipv4Addr;
  localPort: number;
  remoteAddr: Ipv4Addr;
  remotePort: number;
  /** MTU of the route to the peer, for the MSS we advertise (MTU − 40). */
  mtu: number;
  /** The route's device takes super-packets (sk_can_gso): data leaves in TSO-sized packets of several MSS. */
  gso?: boolean;
  /** SO_RCVBUF as the kernel keeps it (already doubled): locks the receive buffer, so it is not autotuned. */
  rcvBuf?: number | undefined;
}

/** The most payload one super-packet carries: an IPv4 total length of 64 KiB with the longest TCP header. */
const GSO_MAX_PAYLOAD = 65535 - 20 - 60;

const EMPTY = new Uint8Array(0);

/** One TCP connection in a namespace; the socket API drives it, segments and timers move it. */
export class Tcb {
  state: TcpState = "CLOSED";
  readonly localAddr: Ipv4Addr;
  readonly localPort: number;
  readonly remoteAddr: Ipv4Addr;
  readonly remotePort: number;
  /** The listener a passive connection came from, until it is accepted. */
  listener: ListenSocket | undefined;

  // Send sequence space (RFC 9293 §3.3.1).
  readonly iss: number;
  sndUna: number;
  sndNxt: number;
  /** The highest sequence number sent (SND.NXT before a go-back-N rewind). */
  sndMax: number;
  /** The peer's window in bytes, scaled. */
  sndWnd = 0;
  #sndWl1 = 0;
  #sndWl2 = 0;
  sndWscale = 0;
  #maxSndWnd = 0;
  /** Bytes written and not yet acknowledged, starting at #sendBase. */
  readonly sendQueue = new ByteQueue();
  #sendBase: number;
  /** Sequence number of our FIN once the application has shut down writing. */
  #finSeq: number | undefined;
  /** How many bytes `write` may queue (SO_SNDBUF). */
  sndBufLimit: number;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  rcvWscale = 0;
  /** Right edge of the window last advertised: it never moves left. */
  #rcvAdvEdge = 0;
  /** RCV.NXT when the last ACK left (Linux's rcv_wup). */
  #lastAckSent = 0;
  /** In-order bytes the application has not read. */
  readonly recvQueue = new ByteQueue();
  readonly #ooo = new Reassembly();
  #oooFin: number | undefined;
  /** The peer's FIN has been received in order: reads end after the queue. */
  finReceived = false;
  /** The most the receive window offers (Linux's rcv_ssthresh / window_clamp): half of #rcvBuf. */
  #rcvSpace: number;
  /** The receive buffer (sk_rcvbuf): tcp_rmem[1] at first, grown by autotuning up to tcp_rmem[2]. */
  #rcvBuf: number;
  /** SO_RCVBUF was set (SOCK_RCVBUF_LOCK): the buffer is the application's, never autotuned. */
  #rcvBufLocked = false;
  /** Bytes the application has read, as a sequence number (Linux's copied_seq). */
  #copiedSeq = 0;
  /** Dynamic right-sizing (rcvq_space): bytes copied in the last measured RTT, and where and when the measure began. */
  #rcvqSpace = 0;
  #rcvqSeq = 0;
  #rcvqTime = 0;
  /** The receiver's RTT estimate, ms (rcv_rtt_est, unscaled); 0 until the first sample. */
  #rcvRtt = 0;
  /** Where the window-based RTT sample ends and when it began (rcv_rtt_est.seq / .time). */
  #rcvRttSeq = 0;
  #rcvRttTime: number | undefined;
  /** The last timestamp echo a receiver RTT sample came from. */
  #rcvRttLastTsecr = 0;
  /** Largest payload seen from the peer, for "two full segments" delayed-ACK accounting. */
  #rcvMss = 536;

  // What the SYNs negotiated.
  /** Largest payload we send: the peer's MSS, our route's, less the timestamps option. */
  mss = 536;
  /** The MSS we advertise (route MTU − 40). */
  readonly advMss: number;
  /** Whether data may leave in super-packets (the route's device has gso). */
  readonly gso: boolean;
  tsOk = false;
  sackOk = false;
  wsOk = false;
  #tsRecent = 0;
  readonly #tsOffset: number;

  // Congestion control (RFC 5681 with RFC 6582 NewReno recovery).
  cwnd = 0;
  ssthresh = 0x7fff_ffff;
  #dupAcks = 0;
  #inRecovery = false;
  #recover: number;
  #cwndLimited = false;
  /** What the peer SACKed above SND.UNA. */
  readonly #sacked = new SackScoreboard();
  /** During recovery, where the search for the next hole to retransmit starts. */
  #rexmitNext = 0;

  // Timers.
  readonly rto = new RtoEstimator();
  readonly #rtx: DeadlineTimer;
  #timerMode: "on" | "persist" = "on";
  /** Retransmissions (or probes) since the last forward progress. */
  retries = 0;
  #probes = 0;
  readonly #delack: DeadlineTimer;
  readonly #linger: DeadlineTimer;
  #rttSeq: number | undefined;
  #rttStart = 0;
  #synSentAt = 0;

  // The application's side.
  /** Why the connection failed, once it has (ECONNREFUSED, ECONNRESET, ETIMEDOUT…). */
  error: Errno | undefined;
  #softError: Errno | undefined;
  /** The application closed the socket: the kernel finishes the close on its own. */
  orphan = false;
  #waiters: Array<() => void> = [];
  /** Segments this connection retransmitted. */
  retransmits = 0;

  constructor(
    readonly tcp: Tcp,
    init: TcbInit,
  ) {
    this.localAddr = init.localAddr;
    this.localPort = init.localPort;
    this.remoteAddr = init.remoteAddr;
    this.remotePort = init.remotePort;
    // ipv4_default_advmss: MTU − 40, at most 65535 − 40.
    this.advMss = Math.max(88, Math.min(init.mtu, 65535) - 40);
    this.gso = init.gso ?? false;
    const rng = tcp.ns.kernel.rng;
    this.iss = rng.nextU32();
    this.#tsOffset = rng.nextU32();
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.#recover = this.iss;
    this.#sendBase = seqAdd(this.iss, 1);
    const [, rmemDefault = 131072, rmemMax = 6291456] = tcp.sysctlTriple("net.ipv4.tcp_rmem");
    const [, wmemDefault = 16384] = tcp.sysctlTriple("net.ipv4.tcp_wmem");
    this.sndBufLimit = wmemDefault;
    // tcp_full_space with tcp_adv_win_scale 1: half the buffer is for data.
    this.#rcvBuf = init.rcvBuf ?? rmemDefault;
    this.#rcvBufLocked = init.rcvBuf !== undefined;
    this.#rcvSpace = Math.floor(this.#rcvBuf / 2);
    if (tcp.ns.sysctl.on("net.ipv4.tcp_window_scaling")) {
      // tcp_select_initial_window: the scale covers the largest the buffer may grow to (rmem[2]), or the locked buffer.
      const space = Math.max(this.#rcvSpace, this.#rcvBufLocked ? 0 : rmemMax);
      this.rcvWscale = Math.max(0, Math.min(MAX_WSCALE, Math.floor(Math.log2(space)) - 15));
    }
    const clock = tcp.ns.kernel.clock;
    this.#rtx = new DeadlineTimer(clock, () => this.#onRtxTimer());
    this.#delack = new DeadlineTimer(clock, () => this.#sendAck());
    this.#linger = new DeadlineTimer(clock, () => this.#done());
  }

  // ---- opening -----------------------------------------------------------

  /** Active open: sends the SYN (connect). */
  openActive(): void {
    this.state = "SYN-SENT";
    // tcp_select_initial_window: the SYN offers the buffer's space in whole MSS, unscaled.
    this.#rcvSpace = roundDown(this.#rcvSpace, this.advMss);
    this.#synSentAt = this.#now();
    this.#sendSyn();
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.#rtx.arm(this.rto.rto);
  }

  /** Passive open: a SYN reached `listener`; answers with a SYN-ACK. */
  openPassive(listener: ListenSocket, syn: TcpSegment): void {
    this.listener = listener;
    this.state = "SYN-RECV";
    this.#acceptSyn(syn);
    this.#rcvSpace = roundDown(this.#rcvSpace, this.advMss - (this.tsOk ? TS_OVERHEAD : 0));
    this.#synSentAt = this.#now();
    this.#sendSynAck();
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.#rtx.arm(this.rto.rto);
  }

  /** Records the peer's SYN: its sequence number and options. */
  #acceptSyn(syn: TcpSegment): void {
    const { repr } = syn;
    const o = repr.options;
    const sysctl = this.tcp.ns.sysctl;
    this.irs = repr.seq;
    this.rcvNxt = seqAdd(repr.seq, 1);
    this.#copiedSeq = this.rcvNxt;
    this.#lastAckSent = this.rcvNxt;
    this.#rcvAdvEdge = this.rcvNxt;
    this.wsOk = o.windowScale !== undefined && sysctl.on("net.ipv4.tcp_window_scaling");
    this.sndWscale = this.wsOk ? Math.min(o.windowScale!, MAX_WSCALE) : 0;
    if (!this.wsOk) this.rcvWscale = 0;
    this.sackOk = o.sackPermitted === true && sysctl.on("net.ipv4.tcp_sack");
    this.tsOk = o.timestamp !== undefined && sysctl.on("net.ipv4.tcp_timestamps");
    if (this.tsOk) this.#tsRecent = o.timestamp!.tsval;
    const peerMss = o.mss ?? 536;
    this.mss = Math.max(48, Math.min(peerMss, this.advMss) - (this.tsOk ? TS_OVERHEAD : 0));
    this.#rcvMss = Math.min(536, this.mss);
    // The window in a SYN is never scaled.
    this.sndWnd = repr.window;
    this.#maxSndWnd = repr.window;
    this.#sndWl1 = repr.seq;
    this.#sndWl2 = repr.ack;
    this.cwnd = INITIAL_CWND * this.mss;
  }

  #sendSyn(): void {
    const sysctl = this.tcp.ns.sysctl;
    const options: TcpOptions = { mss: this.advMss };
    if (sysctl.on("net.ipv4.tcp_sack")) options.sackPermitted = true;
    if (sysctl.on("net.ipv4.tcp_timestamps")) options.timestamp = { tsval: this.#tsval(), tsecr: 0 };
    if (sysctl.on("net.ipv4.tcp_window_scaling")) options.windowScale = this.rcvWscale;
    this.#emit(this.iss, TCP_SYN, 0, options, Math.min(this.#rcvSpace, 65535));
  }

  #sendSynAck(): void {
    const options: TcpOptions = { mss: this.advMss };
    if (this.sackOk) options.sackPermitted = true;
    if (this.tsOk) options.timestamp = { tsval: this.#tsval(), tsecr: this.#tsRecent };
    if (this.wsOk) options.windowScale = this.rcvWscale;
    this.#emit(this.iss, TCP_SYN | TCP_ACK, 0, options, Math.min(this.#rcvSpace, 65535));
  }

  // ---- segment arrival (RFC 9293 §3.10.7) -------------------------------

  /**
   * Processes a segment for this connection. Returns false when the
   * connection let go of it (a new SYN reusing a TIME-WAIT pair), so the
   * caller offers it to a listener.
   */
  input(seg: TcpSegment): boolean {
    switch (this.state) {
      case "CLOSED":
        return false;
      case "SYN-SENT":
        this.#synSentInput(seg);
        return true;
      case "TIME-WAIT":
        return this.#timeWaitInput(seg);
      default:
        break;
    }
    const { repr } = seg;
    const f = repr.flags;
    if (this.state === "SYN-RECV" && (f & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && repr.seq === this.irs) {
      this.#sendSynAck(); // the peer did not get our SYN-ACK
      return true;
    }
    if (!this.#acceptable(seg)) {
      if (!(f & TCP_RST)) this.#sendAck();
      return true;
    }
    if (this.tsOk && repr.options.timestamp && seqLe(repr.seq, this.#lastAckSent)) {
      this.#tsRecent = repr.options.timestamp.tsval;
    }
    if (this.tsOk && repr.options.timestamp && seg.payload.length > 0) this.#rcvRttMeasureTs(repr.options.timestamp.tsecr, seg.payload.length);
    if (f & TCP_RST) {
      // RFC 5961 §3.2: only an exact match resets; the rest earn a challenge ACK.
      if (repr.seq === this.rcvNxt) this.#onReset();
      else this.#sendAck();
      return true;
    }
    if (f & TCP_SYN) {
      this.#sendAck(); // RFC 5961 §4: challenge ACK
      return true;
    }
    if (!(f & TCP_ACK)) return true;
    if (this.state === "SYN-RECV") {
      if (seqLe(repr.ack, this.sndUna) || seqGt(repr.ack, this.sndMax)) {
        this.tcp.sendReset(this.localAddr, this.remoteAddr, seg);
        return true;
      }
      if (!this.#establishPassive(seg)) return true;
    }
    if (!this.#processAck(seg)) return true;
    this.#processData(seg);
    return true;
  }

  #acceptable(seg: TcpSegment): boolean {
    const { repr } = seg;
    const len = seg.payload.length + (repr.flags & TCP_SYN ? 1 : 0) + (repr.flags & TCP_FIN ? 1 : 0);
    const end = seqAdd(repr.seq, len);
    const wnd = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
    // Linux's tcp_sequence: ends at or after RCV.WUP, starts at or before the right edge.
    return !seqLt(end, this.#lastAckSent) && !seqGt(repr.seq, seqAdd(this.rcvNxt, wnd));
  }

  #synSentInput(seg: TcpSegment): void {
    const { repr } = seg;
    const f = repr.flags;
    if (f & TCP_ACK && (seqLe(repr.ack, this.iss) || seqGt(repr.ack, this.sndMax))) {
      if (!(f & TCP_RST)) this.tcp.sendReset(this.localAddr, this.remoteAddr, seg);
      return;
    }
    if (f & TCP_RST) {
      if (f & TCP_ACK) this.#fail("ECONNREFUSED");
      return;
    }
    if (!(f & TCP_SYN)) return;
    this.#acceptSyn(seg);
    if (!(f & TCP_ACK)) {
      // Simultaneous open.
      this.state = "SYN-RECV";
      this.#sendSynAck();
      return;
    }
    if (this.retries === 0) this.rto.sample(this.#now() - this.#synSentAt);
    this.sndUna = repr.ack;
    this.retries = 0;
    this.rto.resetBackoff();
    this.#rtx.cancel();
    this.state = "ESTAB";
    this.#updateSndBuf();
    this.#sendAck();
    this.#initBufferSpace();
    this.#wake();
    this.#output();
  }

  /** The ACK of our SYN-ACK: joins the listener's accept queue, unless it is full (then the ACK is dropped). */
  #establishPassive(seg: TcpSegment): boolean {
    const l = this.listener;
    if (l && l.acceptQueueFull) {
      this.tcp.stats.listenOverflows++;
      this.tcp.stats.listenDrops++;
      return false;
    }
    if (this.retries === 0) this.rto.sample(this.#now() - this.#synSentAt);
    this.retries = 0;
    this.rto.resetBackoff();
    this.state = "ESTAB";
    // Windows in non-SYN segments are scaled.
    this.sndWnd = seg.repr.window * 2 ** this.sndWscale;
    this.#maxSndWnd = Math.max(this.#maxSndWnd, this.sndWnd);
    this.#sndWl1 = seg.repr.seq;
    this.#sndWl2 = seg.repr.ack;
    this.#updateSndBuf();
    this.#initBufferSpace();
    l?.established(this);
    return true;
  }

  #timeWaitInput(seg: TcpSegment): boolean {
    const { repr } = seg;
    const f = repr.flags;
    if (f & TCP_RST) {
      this.#done();
      return true;
    }
    if ((f & (TCP_SYN | TCP_ACK)) === TCP_SYN && seqGt(repr.seq, this.rcvNxt) && this.tcp.hasListener(this.localAddr, this.localPort)) {
      this.#done(); // a new incarnation of the pair (tcp_timewait_state_process's TCP_TW_SYN)
      return false;
    }
    if (f & TCP_FIN) {
      this.#sendAck();
      this.#linger.arm(TIME_WAIT_MS);
      return true;
    }
    if (seg.payload.length > 0 || f & TCP_SYN) this.#sendAck();
    return true;
  }

  #onReset(): void {
    switch (this.state) {
      case "SYN-RECV":
        if (this.listener) this.#done();
        else this.#fail("ECONNREFUSED");
        return;
      case "CLOSE-WAIT":
        this.tcp.stats.estabResets++;
        this.#fail("EPIPE");
        return;
      case "ESTAB":
        this.tcp.stats.estabResets++;
        this.#fail("ECONNRESET");
        return;
      default:
        this.#fail("ECONNRESET");
    }
  }

  /** ACK processing; false when the segment goes no further. */
  #processAck(seg: TcpSegment): boolean {
    const { repr } = seg;
    const ack = repr.ack;
    if (seqGt(ack, this.sndMax)) {
      this.#sendAck(); // it acknowledges something not yet sent
      return false;
    }
    const oldWnd = this.sndWnd;
    if (!seqLt(ack, this.sndUna) && (seqLt(this.#sndWl1, repr.seq) || (this.#sndWl1 === repr.seq && seqLe(this.#sndWl2, ack)))) {
      this.sndWnd = repr.window * 2 ** this.sndWscale;
      this.#sndWl1 = repr.seq;
      this.#sndWl2 = ack;
      if (this.sndWnd > this.#maxSndWnd) {
        this.#maxSndWnd = this.sndWnd;
        this.#updateSndBuf();
      }
    }
    const advanced = seqGt(ack, this.sndUna);
    if (advanced) this.#sacked.advance(ack);
    const blocks = this.sackOk ? repr.options.sack : undefined;
    const newlySacked = blocks !== undefined && this.#sacked.update(blocks, advanced ? ack : this.sndUna, this.sndMax);
    if (advanced) {
      this.#newAck(ack);
    } else if (
      ack === this.sndUna &&
      seg.payload.length === 0 &&
      !(repr.flags & (TCP_SYN | TCP_FIN)) &&
      (this.sndWnd === oldWnd || newlySacked) &&
      this.sndUna !== this.sndMax
    ) {
      this.#dupAck();
    }
    if (this.#timerMode === "persist" && this.sndWnd > 0) {
      this.#rtx.cancel();
      this.#timerMode = "on";
      this.#probes = 0;
    }
    if (this.#finSeq !== undefined && seqGt(this.sndUna, this.#finSeq)) {
      switch (this.state) {
        case "FIN-WAIT-1":
          this.state = "FIN-WAIT-2";
          if (this.orphan) this.#linger.arm(this.tcp.ns.sysctl.num("net.ipv4.tcp_fin_timeout") * 1000);
          this.#wake();
          break;
        case "CLOSING":
          this.#enterTimeWait();
          return false;
        case "LAST-ACK":
          this.#done();
          return false;
        default:
          break;
      }
    }
    this.#output();
    return true;
  }

  #newAck(ack: number): void {
    const acked = seqDiff(ack, this.sndUna);
    const dataAcked = Math.min(Math.max(0, seqDiff(ack, this.#sendBase)), this.sendQueue.length);
    if (dataAcked > 0) {
      this.sendQueue.drop(dataAcked);
      this.#sendBase = seqAdd(this.#sendBase, dataAcked);
    }
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    if (this.#rttSeq !== undefined && seqGe(ack, this.#rttSeq)) {
      this.rto.sample(this.#now() - this.#rttStart);
      this.#rttSeq = undefined;
    }
    this.retries = 0;
    this.rto.resetBackoff();
    this.#softError = undefined;
    const mss = this.mss;
    if (this.#inRecovery) {
      if (seqGe(ack, this.#recover)) {
        this.#inRecovery = false;
        this.cwnd = this.ssthresh;
      } else {
        // A partial ACK: the next hole is lost too (RFC 6582 §3.2 step 5).
        if (seqLt(this.#rexmitNext, ack)) this.#rexmitNext = ack;
        if (!this.#retransmitHole()) this.#retransmitHead();
        this.cwnd = Math.max(this.cwnd - acked + mss, mss);
      }
    } else if (this.#cwndLimited) {
      // tcp_slow_start then tcp_cong_avoid_ai: every acknowledged segment counts, however
      // few ACKs carried them (one ACK may cover a whole GRO super-packet).
      let rest = acked;
      if (this.cwnd < this.ssthresh) {
        const grow = Math.min(rest, this.ssthresh - this.cwnd);
        this.cwnd += grow;
        rest -= grow;
      }
      if (rest > 0) this.cwnd += Math.max(1, Math.floor((rest * mss) / this.cwnd));
    }
    this.#dupAcks = 0;
    if (this.sndUna === this.sndMax) this.#rtx.cancel();
    else this.#armRtx();
    if (dataAcked > 0) this.#wake();
  }

  #dupAck(): void {
    this.#dupAcks++;
    if (this.#inRecovery) {
      this.cwnd += this.mss; // each dup ACK is a segment that left the network
      this.#retransmitHole();
      return;
    }
    // Three duplicate ACKs, or three segments' worth SACKed above the hole (RFC 6675's IsLost).
    const lost = this.#dupAcks >= 3 || this.#sacked.bytes >= 3 * this.mss;
    if (lost && seqGe(this.sndUna, this.#recover)) {
      const flight = seqDiff(this.sndMax, this.sndUna);
      this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
      this.#recover = this.sndMax;
      this.#inRecovery = true;
      this.#rexmitNext = this.sndUna;
      this.#retransmitHead();
      this.#rexmitNext = seqAdd(this.sndUna, this.mss);
      this.cwnd = this.ssthresh + 3 * this.mss;
    }
  }

  /** Retransmits the next hole below the highest SACKed byte not yet resent in this recovery. */
  #retransmitHole(): boolean {
    const high = this.#sacked.highest;
    if (high === undefined) return false;
    let seq = seqLt(this.#rexmitNext, this.sndUna) ? this.sndUna : this.#rexmitNext;
    for (let c = this.#sacked.coveredUntil(seq); c !== undefined; c = this.#sacked.coveredUntil(seq)) seq = c;
    if (!seqLt(seq, high)) return false;
    const dataEnd = seqAdd(this.#sendBase, this.sendQueue.length);
    const next = this.#sacked.nextSacked(seq) ?? high;
    const len = Math.min(this.mss, seqDiff(next, seq), seqDiff(dataEnd, seq));
    if (len <= 0) return false;
    this.#sendData(seq, len, false, seqAdd(seq, len) === dataEnd);
    this.#rexmitNext = seqAdd(seq, len);
    return true;
  }

  #processData(seg: TcpSegment): void {
    const { repr } = seg;
    const fin = (repr.flags & TCP_FIN) !== 0;
    let data = seg.payload;
    if (this.state !== "ESTAB" && this.state !== "FIN-WAIT-1" && this.state !== "FIN-WAIT-2") {
      // The peer's FIN is already in: a retransmission of it, or of data before it.
      if (fin || data.length > 0) this.#sendAck();
      return;
    }
    let seq = repr.seq;
    const finSeq = seqAdd(seq, data.length);
    if (data.length > 0) {
      if (this.orphan && seqGt(finSeq, this.rcvNxt)) {
        // New data for a socket nobody will read: tcp_rcv_state_process resets.
        this.tcp.sendReset(this.localAddr, this.remoteAddr, seg);
        this.#fail("ECONNRESET");
        return;
      }
      if (data.length > this.#rcvMss) this.#rcvMss = Math.min(data.length, this.advMss);
      if (seqLt(seq, this.rcvNxt)) {
        const cut = seqDiff(this.rcvNxt, seq);
        data = cut >= data.length ? EMPTY : data.subarray(cut);
        seq = this.rcvNxt;
      }
      if (data.length === 0) {
        this.#sendAck(); // a duplicate
      } else if (!seqLt(seq, this.#rcvAdvEdge)) {
        this.#sendAck(); // beyond the window we offered
        return;
      } else if (seq === this.rcvNxt) {
        this.#rcvRttMeasure();
        const filled = !this.#ooo.empty;
        this.recvQueue.push(data);
        this.rcvNxt = seqAdd(this.rcvNxt, data.length);
        if (filled) {
          for (const chunk of this.#ooo.take(this.rcvNxt)) {
            this.recvQueue.push(chunk);
            this.rcvNxt = seqAdd(this.rcvNxt, chunk.length);
          }
        }
        this.#wake();
        if (filled) this.#sendAck();
        else this.#ackSoon();
      } else {
        this.#ooo.insert(seq, data);
        if (fin) this.#oooFin = finSeq;
        this.#sendAck(); // a duplicate ACK, with SACK blocks, tells the sender at once
        return;
      }
    }
    const finNow = (fin && finSeq === this.rcvNxt) || (this.#oooFin !== undefined && this.#oooFin === this.rcvNxt);
    if (finNow) {
      this.#oooFin = undefined;
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.finReceived = true;
      this.#ooo.clear();
      switch (this.state) {
        case "ESTAB":
          this.state = "CLOSE-WAIT";
          break;
        case "FIN-WAIT-1":
          this.state = "CLOSING";
          break;
        case "FIN-WAIT-2":
          this.#enterTimeWait();
          break;
        default:
          break;
      }
      this.#sendAck();
      this.#wake();
    } else if (fin && seqGt(finSeq, this.rcvNxt)) {
      this.#oooFin = finSeq;
      this.#sendAck();
    }
  }

  // ---- output ------------------------------------------------------------

  /** Sends what the windows allow: new data, then our FIN once the data is out. */
  #output(): void {
    const s = this.state;
    if (s !== "ESTAB" && s !== "CLOSE-WAIT" && s !== "FIN-WAIT-1" && s !== "CLOSING" && s !== "LAST-ACK") return;
    const mss = this.mss;
    this.#cwndLimited = false;
    for (;;) {
      const dataEnd = seqAdd(this.#sendBase, this.sendQueue.length);
      if (seqLt(this.sndNxt, this.sndMax)) {
        // Going back over sent data after a timeout: what the peer SACKed need not go again.
        const covered = this.#sacked.coveredUntil(this.sndNxt);
        if (covered !== undefined) {
          this.sndNxt = covered;
          continue;
        }
      }
      const unsent = seqDiff(dataEnd, this.sndNxt);
      if (unsent > 0) {
        const inFlight = seqDiff(this.sndNxt, this.sndUna);
        // Limited transmit (RFC 3042): each of the first two duplicate ACKs lets one new segment out.
        const bonus = this.#inRecovery ? 0 : Math.min(this.#dupAcks, 2) * mss;
        const room = Math.min(this.sndWnd, this.cwnd + bonus) - inFlight;
        if (room < Math.min(mss, unsent)) this.#cwndLimited = this.cwnd < this.sndWnd;
        if (room <= 0) break;
        const sackedAhead = seqLt(this.sndNxt, this.sndMax) ? this.#sacked.nextSacked(this.sndNxt) : undefined;
        // With GSO, as many whole MSS as the windows allow go in one super-packet (tcp_mss_split_point);
        // the tail of the queue may end it short.
        const most = this.gso ? Math.max(mss, GSO_MAX_PAYLOAD - (GSO_MAX_PAYLOAD % mss)) : mss;
        let len = Math.min(most, unsent, room, sackedAhead === undefined ? most : seqDiff(sackedAhead, this.sndNxt));
        if (len > mss && len < unsent) len -= len % mss;
        // Sender silly-window avoidance (RFC 9293 §3.8.6.2.1).
        if (len < mss && len < unsent && inFlight > 0 && len < this.#maxSndWnd / 2) break;
        const end = seqAdd(this.sndNxt, len);
        const fin = this.#finSeq !== undefined && end === this.#finSeq;
        this.#sendData(this.sndNxt, len, fin, end === dataEnd);
        this.sndNxt = seqAdd(end, fin ? 1 : 0);
      } else if (unsent === 0 && this.#finSeq !== undefined && this.sndNxt === this.#finSeq) {
        this.#sendData(this.sndNxt, 0, true, false);
        this.sndNxt = seqAdd(this.sndNxt, 1);
      } else {
        break;
      }
      if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      if (!this.#rtx.armed || this.#timerMode === "persist") this.#armRtx();
    }
    const waiting = seqDiff(seqAdd(this.#sendBase, this.sendQueue.length), this.sndNxt) > 0;
    if (waiting && this.sndWnd === 0 && this.sndUna === this.sndMax && !this.#rtx.armed) {
      this.#timerMode = "persist";
      this.#rtx.arm(this.#probeTimeout());
    }
  }

  /** Emits data (and/or FIN) at `seq`; counts a retransmission when it was sent before. */
  #sendData(seq: number, len: number, fin: boolean, push: boolean): void {
    const end = seqAdd(seq, len + (fin ? 1 : 0));
    if (seqLt(seq, this.sndMax)) {
      const segs = len > this.mss ? Math.ceil(len / this.mss) : 1;
      this.retransmits += segs;
      this.tcp.stats.retransSegs += segs;
      if (this.#rttSeq !== undefined && seqLt(seq, this.#rttSeq)) this.#rttSeq = undefined; // Karn
    } else if (this.#rttSeq === undefined) {
      this.#rttSeq = end;
      this.#rttStart = this.#now();
    }
    const flags = TCP_ACK | (fin ? TCP_FIN : 0) | (push && len > 0 ? TCP_PSH : 0);
    this.#emit(seq, flags, len, this.#segmentOptions(), undefined, len > this.mss ? this.mss : undefined);
  }

  /** Retransmits the first unacknowledged segment. */
  #retransmitHead(): void {
    const dataEnd = seqAdd(this.#sendBase, this.sendQueue.length);
    const len = Math.min(this.mss, Math.max(0, seqDiff(dataEnd, this.sndUna)));
    const end = seqAdd(this.sndUna, len);
    const fin = this.#finSeq !== undefined && end === this.#finSeq;
    if (len === 0 && !fin) return;
    this.#sendData(this.sndUna, len, fin, end === dataEnd);
    const next = seqAdd(end, fin ? 1 : 0);
    if (seqLt(this.sndNxt, next)) this.sndNxt = next;
  }

  #sendAck(): void {
    if (this.state === "CLOSED" || this.state === "SYN-SENT") return;
    this.#emit(this.sndNxt, TCP_ACK, 0, this.#segmentOptions(), undefined);
  }

  /** Sends a RST for this connection (abort, close with unread data). */
  #sendRst(): void {
    this.#emit(this.sndNxt, TCP_RST | TCP_ACK, 0, {}, undefined);
    this.tcp.stats.outRsts++;
  }

  /** Builds and sends one segment; every non-SYN segment advertises the current window. */
  #emit(seq: number, flags: number, len: number, options: TcpOptions, synWindow: number | undefined, gsoSize?: number): void {
    const window = synWindow ?? this.#windowField();
    if (synWindow !== undefined && flags & TCP_ACK) this.#rcvAdvEdge = seqAdd(this.rcvNxt, synWindow);
    const repr: TcpRepr = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq,
      ack: flags & TCP_ACK ? this.rcvNxt : 0,
      flags,
      window,
      urgent: 0,
      options,
    };
    const offset = len > 0 ? seqDiff(seq, this.#sendBase) : 0;
    const queue = this.sendQueue;
    this.tcp.transmit(this.localAddr, this.remoteAddr, repr, len, (buf, at) => queue.copyOut(offset, len, buf, at), gsoSize);
    if (flags & TCP_ACK) {
      this.#lastAckSent = this.rcvNxt;
      this.#delack.cancel();
    }
  }

  #segmentOptions(): TcpOptions {
    const o: TcpOptions = {};
    if (this.tsOk) o.timestamp = { tsval: this.#tsval(), tsecr: this.#tsRecent };
    if (this.sackOk && !this.#ooo.empty) o.sack = this.#ooo.sackBlocks(this.tsOk ? 3 : 4);
    return o;
  }

  #tsval(): number {
    return (Math.floor(this.#now()) + this.#tsOffset) >>> 0;
  }

  /** Delayed ACK: at once after two full segments, else within 40 ms. */
  #ackSoon(): void {
    if (seqDiff(this.rcvNxt, this.#lastAckSent) >= 2 * this.#rcvMss) this.#sendAck();
    else if (!this.#delack.armed) this.#delack.arm(DELACK_MS);
  }

  /** The window to offer now (bytes), never shrinking the right edge already offered. */
  #selectWindow(): number {
    const space = this.#rcvSpace;
    const free = Math.max(0, space - this.recvQueue.length - this.#ooo.bytes);
    const mss = Math.max(1, this.advMss - (this.tsOk ? TS_OVERHEAD : 0));
    const unit = 2 ** this.rcvWscale;
    let win: number;
    if (free < Math.min(mss, space / 2)) win = 0; // receiver silly-window avoidance
    else if (unit > 1) win = Math.ceil(free / unit) * unit;
    else win = free > mss ? roundDown(free, mss) : free;
    const offered = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
    return Math.min(Math.max(win, offered), 65535 * unit);
  }

  /** The window field for a segment leaving now; records the new right edge. */
  #windowField(): number {
    const unit = 2 ** this.rcvWscale;
    const field = Math.min(65535, Math.floor(this.#selectWindow() / unit));
    const edge = seqAdd(this.rcvNxt, field * unit);
    if (seqGt(edge, this.#rcvAdvEdge)) this.#rcvAdvEdge = edge;
    return field;
  }

  #updateSndBuf(): void {
    const [, wmemDefault = 16384, wmemMax = 4194304] = this.tcp.sysctlTriple("net.ipv4.tcp_wmem");
    this.sndBufLimit = Math.min(wmemMax, Math.max(wmemDefault, 2 * this.#maxSndWnd));
  }

  // ---- timers ------------------------------------------------------------

  #armRtx(): void {
    this.#timerMode = "on";
    this.#rtx.arm(this.rto.rto);
  }

  #probeTimeout(): number {
    return Math.min(this.rto.rto * 2 ** this.#probes, RTO_MAX_MS);
  }

  #onRtxTimer(): void {
    const sysctl = this.tcp.ns.sysctl;
    if (this.#timerMode === "persist") {
      // Zero-window probe: an old sequence number that the peer must answer with its window.
      const waiting = seqDiff(seqAdd(this.#sendBase, this.sendQueue.length), this.sndNxt) > 0;
      if (!waiting || this.sndWnd > 0) {
        this.#timerMode = "on";
        this.#output();
        return;
      }
      this.#emit(seqAdd(this.sndUna, -1), TCP_ACK, 0, this.#segmentOptions(), undefined);
      this.#probes++;
      this.#rtx.arm(this.#probeTimeout());
      return;
    }
    switch (this.state) {
      case "SYN-SENT":
        if (this.retries >= sysctl.num("net.ipv4.tcp_syn_retries")) {
          this.#fail(this.#softError ?? "ETIMEDOUT");
          return;
        }
        this.#backoff();
        this.#sendSyn();
        this.#rtx.arm(this.rto.rto);
        return;
      case "SYN-RECV":
        if (this.retries >= (sysctl.has("net.ipv4.tcp_synack_retries") ? sysctl.num("net.ipv4.tcp_synack_retries") : SYNACK_RETRIES)) {
          if (this.listener) this.#done();
          else this.#fail(this.#softError ?? "ETIMEDOUT");
          return;
        }
        this.#backoff();
        this.#sendSynAck();
        this.#rtx.arm(this.rto.rto);
        return;
      case "CLOSED":
      case "TIME-WAIT":
        return;
      default:
        break;
    }
    if (this.sndUna === this.sndMax) return;
    if (this.retries >= sysctl.num("net.ipv4.tcp_retries2")) {
      this.#fail(this.#softError ?? "ETIMEDOUT");
      return;
    }
    // RFC 5681 §3.1 and RFC 6298 §5.4–5.6: collapse the window, back off, go back to SND.UNA.
    if (this.rto.backoffs === 0) {
      this.ssthresh = Math.max(Math.floor(seqDiff(this.sndMax, this.sndUna) / 2), 2 * this.mss);
    }
    this.cwnd = this.mss;
    this.#inRecovery = false;
    this.#dupAcks = 0;
    this.#recover = this.sndMax;
    this.#backoff();
    this.sndNxt = this.sndUna;
    this.#retransmitHead();
    this.#armRtx();
  }

  #backoff(): void {
    this.retries++;
    this.rto.backoff();
    this.#rttSeq = undefined;
  }

  #enterTimeWait(): void {
    this.state = "TIME-WAIT";
    this.#rtx.cancel();
    this.#delack.cancel();
    this.sendQueue.clear();
    this.#linger.arm(TIME_WAIT_MS);
    this.#wake();
  }

  /** The connection is gone: timers stop, the tables forget it. */
  #done(): void {
    this.state = "CLOSED";
    this.#rtx.cancel();
    this.#delack.cancel();
    this.#linger.cancel();
    this.#ooo.clear();
    this.tcp.unhash(this);
    this.listener?.forget(this);
    this.#wake();
  }

  #fail(errno: Errno): void {
    if (this.state === "SYN-SENT" || this.state === "SYN-RECV") this.tcp.stats.attemptFails++;
    this.error = errno;
    this.#done();
  }

  /** An ICMP error quoting one of our segments (`seq` is its sequence number). */
  icmpError(errno: Errno, seq: number): void {
    if (seqLt(seq, this.sndUna) || seqGt(seq, this.sndMax)) return;
    if (errno === "EMSGSIZE") return; // path MTU discovery is not modelled
    if (this.state === "SYN-SENT" || (this.state === "SYN-RECV" && !this.listener)) {
      this.#fail(errno); // a hard error while connecting (tcp_v4_err)
      return;
    }
    if (this.state === "SYN-RECV") {
      this.#done();
      return;
    }
    this.#softError = errno; // reported if the connection later times out
  }

  // ---- the application's side ---------------------------------------------

  /** Resolves at the next change the application may care about (data, space, state, error). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Whether the application may still queue data. */
  get writable(): boolean {
    return (this.state === "ESTAB" || this.state === "CLOSE-WAIT") && this.#finSeq === undefined && !this.orphan;
  }

  /** Room left in the send buffer. */
  get sendSpace(): number {
    return Math.max(0, this.sndBufLimit - this.sendQueue.length);
  }

  /** Queues a copy of `data` (the caller checked `writable` and `sendSpace`) and sends what the windows allow. */
  send(data: Uint8Array): void {
    if (data.length === 0) return;
    this.sendQueue.push(data.slice());
    this.#output();
  }

  /** Takes up to `max` bytes the application reads; may send a window update. */
  read(max?: number): Uint8Array {
    const out = this.recvQueue.shift(max);
    if (out.length > 0) {
      this.#copiedSeq = seqAdd(this.#copiedSeq, out.length);
      this.#rcvSpaceAdjust();
      this.#afterRead();
    }
    return out;
  }

  /** The receive buffer (sk_rcvbuf), as `ss -m` shows it as rb. */
  get rcvBuf(): number {
    return this.#rcvBuf;
  }

  /** tcp_init_buffer_space: the first measure of what the application reads starts at the initial window. */
  #initBufferSpace(): void {
    const rcvWnd = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
    this.#rcvqSpace = Math.min(this.#rcvSpace, rcvWnd, INITIAL_CWND * this.advMss);
    this.#rcvqSeq = this.#copiedSeq;
    this.#rcvqTime = this.#now();
  }

  /** tcp_rcv_rtt_update: a timestamp sample moves the estimate by an eighth; a window sample only lowers it. */
  #rcvRttUpdate(sample: number, winDep: boolean): void {
    if (this.#rcvRtt === 0) this.#rcvRtt = sample;
    else if (!winDep) this.#rcvRtt += (sample - this.#rcvRtt) / 8;
    else if (sample < this.#rcvRtt) this.#rcvRtt = sample;
  }

  /** tcp_rcv_rtt_measure: without timestamps, the time to receive a window's worth of data is one RTT. */
  #rcvRttMeasure(): void {
    const now = this.#now();
    if (this.#rcvRttTime !== undefined) {
      if (seqLt(this.rcvNxt, this.#rcvRttSeq)) return;
      this.#rcvRttUpdate(Math.max(now - this.#rcvRttTime, 0.001), true);
    }
    const rcvWnd = Math.max(0, seqDiff(this.#rcvAdvEdge, this.#lastAckSent));
    this.#rcvRttSeq = seqAdd(this.rcvNxt, rcvWnd);
    this.#rcvRttTime = now;
  }

  /** tcp_rcv_rtt_measure_ts: a full segment echoing a new timestamp of ours; millisecond ticks, so at least 1 ms. */
  #rcvRttMeasureTs(tsecr: number, len: number): void {
    if (tsecr === this.#rcvRttLastTsecr) return;
    this.#rcvRttLastTsecr = tsecr;
    if (len < this.#rcvMss) return;
    const delta = (this.#tsval() - tsecr) | 0;
    if (delta < 0 || delta > 0x7fff_ffff / 1000) return;
    this.#rcvRttUpdate(Math.max(delta, 1), false);
  }

  /**
   * tcp_rcv_space_adjust (dynamic right-sizing): once per receiver RTT, what
   * the application copied sets the buffer: twice that plus 16 segments,
   * more while the sender is still speeding up, at most tcp_rmem[2]; the
   * window clamp follows. Not when SO_RCVBUF is set or tcp_moderate_rcvbuf is 0.
   */
  #rcvSpaceAdjust(): void {
    const now = this.#now();
    if (this.#rcvRtt === 0 || now - this.#rcvqTime < this.#rcvRtt) return;
    const copied = seqDiff(this.#copiedSeq, this.#rcvqSeq);
    if (copied > this.#rcvqSpace) {
      if (!this.#rcvBufLocked && this.tcp.ns.sysctl.on("net.ipv4.tcp_moderate_rcvbuf")) {
        let rcvwin = 2 * copied + 16 * this.advMss;
        const space = Math.max(1, this.#rcvqSpace);
        rcvwin += 2 * Math.floor((rcvwin * (copied - space)) / space);
        const [, , rmemMax = 6291456] = this.tcp.sysctlTriple("net.ipv4.tcp_rmem");
        // tcp_space_from_win with tcp_adv_win_scale 1: the buffer is twice the window.
        const rcvbuf = Math.min(2 * rcvwin, rmemMax);
        if (rcvbuf > this.#rcvBuf) {
          this.#rcvBuf = rcvbuf;
          this.#rcvSpace = Math.max(this.#rcvSpace, Math.floor(rcvbuf / 2));
        }
      }
      this.#rcvqSpace = copied;
    }
    this.#rcvqSeq = this.#copiedSeq;
    this.#rcvqTime = now;
  }

  /** tcp_cleanup_rbuf: announce a window that reopened by half or more. */
  #afterRead(): void {
    if (this.state !== "ESTAB" && this.state !== "FIN-WAIT-1" && this.state !== "FIN-WAIT-2") return;
    const now = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
    if (2 * now > this.#rcvSpace) return;
    const next = this.#selectWindow();
    if (next > 0 && next >= 2 * now) this.#sendAck();
  }

  /** shutdown(SHUT_WR): our FIN goes after the queued data. */
  shutdownWrite(): void {
    switch (this.state) {
      case "SYN-SENT":
        this.#done();
        return;
      case "SYN-RECV":
      case "ESTAB":
        this.state = "FIN-WAIT-1";
        break;
      case "CLOSE-WAIT":
        this.state = "LAST-ACK";
        break;
      default:
        return;
    }
    this.#finSeq = seqAdd(this.#sendBase, this.sendQueue.length);
    this.#output();
  }

  /**
   * close(): the application lets go. Unread data makes it a reset (as
   * tcp_close does); otherwise the FIN handshake finishes without it.
   */
  close(): void {
    if (this.orphan) return;
    this.orphan = true;
    if (this.recvQueue.length > 0 && this.state !== "CLOSED" && this.state !== "TIME-WAIT") {
      this.abort();
      return;
    }
    switch (this.state) {
      case "SYN-SENT":
        this.#done();
        return;
      case "FIN-WAIT-2":
        this.#linger.arm(this.tcp.ns.sysctl.num("net.ipv4.tcp_fin_timeout") * 1000);
        return;
      default:
        this.shutdownWrite();
    }
  }

  /** Forgets a half-open connection without a word (its listener closed). */
  discard(): void {
    this.orphan = true;
    if (this.state !== "CLOSED") this.#done();
  }

  /** Aborts the connection with a RST (SO_LINGER 0). */
  abort(): void {
    this.orphan = true;
    const s = this.state;
    if (s === "CLOSED" || s === "TIME-WAIT" || s === "LISTEN") {
      if (s === "TIME-WAIT") this.#done();
      return;
    }
    if (s !== "SYN-SENT") this.#sendRst();
    this.#done();
  }

  /** The timer `ss -o` shows: kind, ms left, retransmissions. */
  get timer(): { kind: TcpTimerKind; expiresMs: number; retrans: number } {
    const now = this.#now();
    if (this.#rtx.armed) {
      return { kind: this.#timerMode, expiresMs: Math.max(0, this.#rtx.at! - now), retrans: this.retries || this.#probes };
    }
    if (this.#linger.armed) return { kind: "timewait", expiresMs: Math.max(0, this.#linger.at! - now), retrans: 0 };
    return { kind: "off", expiresMs: 0, retrans: 0 };
  }

  #now(): number {
    return this.tcp.ns.kernel.clock.now();
  }
}

function roundDown(n: number, unit: number): number {
  return n > unit ? n - (n % unit) : n;
}
