#!/usr/bin/env python3
"""HTTP/2 conformance and abuse suite for a running mywebsite in direct-TLS mode.

Each case speaks raw RFC 9113 frames (hyperframe, hpack: the Python h2 project's framing and HPACK libraries)
over TLS with ALPN h2, checks what the server answers, and then checks that a normal GET on a new connection
still gets 200 within a second. Run by the end-to-end tests (Tests/EndToEndTests/HTTP2Tests.swift), which
start the server:

    conformance.py --port PORT --pid PID --large /static/large.bin --large-size BYTES [--send-timeout S]

Prints one line per case and a summary; exits 1 if any case fails.
"""

import argparse
import os
import select
import signal
import socket
import ssl
import struct
import sys
import time

from hpack import Decoder, Encoder
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
FRAME_SIZE_ERROR, REFUSED_STREAM, STREAM_CLOSED, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 0x6, 0x7, 0x5, 0x9, 0xB

ARGS = None


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Connection:
    """One TLS connection that negotiated h2, with a frame reader."""

    def __init__(self, preface=True, settings=None):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", ARGS.port), timeout=5)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        check(self.sock.selected_alpn_protocol() == "h2", "ALPN did not select h2")
        self.buffer = b""
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.next_stream = 1
        self.partial, self.done = {}, {}
        if preface:
            self.send_raw(PREFACE + SettingsFrame(0, settings=settings or {}).serialize())

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, *frames):
        self.send_raw(b"".join(f.serialize() for f in frames))

    def headers_block(self, path="/healthz", method="GET", extra=()):
        fields = [(":method", method), (":scheme", "https"), (":authority", "localhost"), (":path", path)]
        return self.encoder.encode(fields + list(extra))

    def request(self, path="/healthz", method="GET", extra=(), end_stream=True, stream=None):
        sid = stream or self.next_stream
        self.next_stream = max(self.next_stream, sid + 2)
        block = self.headers_block(path, method, extra)
        chunks = [block[i : i + 16384] for i in range(0, len(block), 16384)]
        flags = 0x1 if end_stream else 0
        # RFC 9113 §6.10: a block larger than one frame goes on in CONTINUATION frames.
        out = raw_frame(0x1, flags | (0x4 if len(chunks) == 1 else 0), sid, chunks[0])
        for n, chunk in enumerate(chunks[1:], start=2):
            out += raw_frame(0x9, 0x4 if n == len(chunks) else 0, sid, chunk)
        self.send_raw(out)
        return sid

    def read_frame(self, timeout=3.0):
        """The next frame, or None when the peer closed; raises Failure on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[:3], "big")
                if len(self.buffer) >= 9 + length:
                    frame, _ = Frame.parse_frame_header(memoryview(self.buffer[:9]))
                    frame.parse_body(memoryview(self.buffer[9 : 9 + length]))
                    self.buffer = self.buffer[9 + length :]
                    return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("timed out waiting for a frame")
            if self.sock.pending() == 0:
                ready, _, _ = select.select([self.sock], [], [], left)
                if not ready:
                    continue
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                return None
            if not chunk:
                return None
            self.buffer += chunk

    def frames_until(self, predicate, timeout=3.0):
        """Frames read until one satisfies `predicate` (returned last) or the connection closes."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self.read_frame(max(0.05, deadline - time.monotonic()))
            except Failure:
                return seen, None
            if frame is None:
                return seen, None
            seen.append(frame)
            if isinstance(frame, HeadersFrame):
                self.absorb(frame)
            if predicate(frame):
                return seen, frame

    def expect_goaway(self, code, timeout=3.0):
        """Reads until GOAWAY (checks its code) and then until the server closes the connection."""
        _, goaway = self.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout)
        check(goaway is not None, f"connection closed without GOAWAY (wanted code {code})")
        check(goaway.error_code == code, f"GOAWAY code {goaway.error_code}, wanted {code}")
        self.expect_closed(timeout)
        return goaway

    def expect_closed(self, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.read_frame(max(0.05, deadline - time.monotonic())) is None:
                return
        raise Failure("the server did not close the connection")

    def response(self, sid, timeout=3.0):
        """(status, headers dict, body bytes) for stream `sid`, opening windows as DATA arrives. Every HEADERS
        frame read on the way is decoded, whatever its stream, so the HPACK state stays in step."""
        deadline = time.monotonic() + timeout
        while sid not in self.done:
            frame = self.read_frame(max(0.05, deadline - time.monotonic()))
            got = len(self.partial.get(sid, [None, None, b""])[2])
            check(frame is not None, f"connection closed before stream {sid} ended ({got} body bytes)")
            if isinstance(frame, GoAwayFrame):
                raise Failure(f"GOAWAY {frame.error_code} while waiting for stream {sid}")
            if isinstance(frame, RstStreamFrame) and frame.stream_id == sid:
                raise Failure(f"stream {sid} reset with {frame.error_code}")
            self.absorb(frame)
        return self.done.pop(sid)

    def absorb(self, frame):
        """Records a HEADERS or DATA frame into its stream's response."""
        if not isinstance(frame, (HeadersFrame, DataFrame)):
            return
        status, headers, body = self.partial.setdefault(frame.stream_id, [None, {}, b""])
        if isinstance(frame, HeadersFrame):
            for name, value in self.decoder.decode(frame.data):
                name = name.decode() if isinstance(name, bytes) else name
                value = value.decode() if isinstance(value, bytes) else value
                if name == ":status":
                    status = int(value)
                else:
                    headers[name] = value
        else:
            body += frame.data
            if frame.flow_controlled_length:
                try:
                    self.send(
                        WindowUpdateFrame(0, window_increment=frame.flow_controlled_length),
                        WindowUpdateFrame(frame.stream_id, window_increment=frame.flow_controlled_length),
                    )
                except OSError:
                    pass  # the server may close once the last frame is out; what it sent is still read
        self.partial[frame.stream_id] = [status, headers, body]
        if "END_STREAM" in frame.flags:
            self.done[frame.stream_id] = tuple(self.partial.pop(frame.stream_id))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def normal_get_ok():
    """A fresh connection, GET /healthz: 200 within one second."""
    start = time.monotonic()
    c = Connection()
    try:
        status, _, _ = c.response(c.request("/healthz"), timeout=1.0)
    finally:
        c.close()
    check(status == 200, f"normal GET after the case: status {status}")
    check(time.monotonic() - start < 1.0, "normal GET after the case took over a second")


def rss_kib():
    if not ARGS.memory_checks:
        return 0
    with open(f"/proc/{ARGS.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


CASES = []


def case(section):
    def register(fn):
        CASES.append((section, fn))
        return fn

    return register


def raw_frame(type_, flags, stream, payload):
    return len(payload).to_bytes(3, "big") + bytes([type_, flags]) + struct.pack(">I", stream) + payload


# MARK: - Connection preface and SETTINGS (RFC 9113 §3.4, §6.5)


@case("preface")
def server_preface_is_settings_with_stream_limit():
    c = Connection()
    frame = c.read_frame()
    check(isinstance(frame, SettingsFrame) and "ACK" not in frame.flags, f"first frame {frame}")
    check(frame.settings.get(SettingsFrame.MAX_CONCURRENT_STREAMS) == 100, f"settings {frame.settings}")
    check(frame.settings.get(SettingsFrame.ENABLE_PUSH, 0) == 0, "server push offered")
    c.close()


@case("preface")
def settings_are_acknowledged():
    c = Connection()
    _, ack = c.frames_until(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags)
    check(ack is not None, "no SETTINGS ACK")
    c.close()


@case("preface")
def invalid_preface_gets_goaway_protocol_error():
    c = Connection(preface=False)
    c.send_raw(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" + b"x" * 64)
    c.expect_goaway(PROTOCOL_ERROR)


@case("preface")
def settings_with_bad_length_is_frame_size_error():
    c = Connection()
    c.send_raw(raw_frame(0x4, 0, 0, b"\x00\x03\x00\x00\x00"))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("preface")
def settings_ack_with_payload_is_frame_size_error():
    c = Connection()
    c.send_raw(raw_frame(0x4, 0x1, 0, b"\x00\x03\x00\x00\x00\x64"))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("preface")
def settings_on_a_stream_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x4, 0, 1, b""))
    c.expect_goaway(PROTOCOL_ERROR)


@case("preface")
def enable_push_above_one_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x4, 0, 0, struct.pack(">HI", 0x2, 2)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("preface")
def initial_window_above_maximum_is_flow_control_error():
    c = Connection()
    c.send_raw(raw_frame(0x4, 0, 0, struct.pack(">HI", 0x4, 2**31)))
    c.expect_goaway(FLOW_CONTROL_ERROR)


@case("preface")
def max_frame_size_below_minimum_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x4, 0, 0, struct.pack(">HI", 0x5, 16383)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("preface")
def unknown_setting_is_ignored():
    c = Connection()
    c.send_raw(raw_frame(0x4, 0, 0, struct.pack(">HI", 0xFF, 7)))
    status, _, _ = c.response(c.request())
    check(status == 200, f"status {status}")
    c.close()


# MARK: - Framing (RFC 9113 §4, §6)


@case("framing")
def frame_above_max_frame_size_is_frame_size_error():
    c = Connection()
    frame = HeadersFrame(1, c.headers_block() + b"\x00" * 17000)
    frame.flags.add("END_HEADERS")
    c.send(frame)
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("framing")
def data_on_stream_zero_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x0, 0, 0, b"hello"))
    c.expect_goaway(PROTOCOL_ERROR)


@case("framing")
def headers_on_stream_zero_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x1, 0x5, 0, c.headers_block()))
    c.expect_goaway(PROTOCOL_ERROR)


@case("framing")
def ping_is_answered_with_the_same_payload():
    c = Connection()
    c.send(PingFrame(0, opaque_data=b"mywebsit"))
    _, ack = c.frames_until(lambda f: isinstance(f, PingFrame) and "ACK" in f.flags)
    check(ack is not None and ack.opaque_data == b"mywebsit", "no matching PING ACK")
    c.close()


@case("framing")
def ping_with_bad_length_is_frame_size_error():
    c = Connection()
    c.send_raw(raw_frame(0x6, 0, 0, b"short"))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("framing")
def ping_on_a_stream_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x6, 0, 1, b"12345678"))
    c.expect_goaway(PROTOCOL_ERROR)


@case("framing")
def unknown_frame_type_is_ignored():
    c = Connection()
    c.send_raw(raw_frame(0xFA, 0, 0, b"ignore me"))
    status, _, _ = c.response(c.request())
    check(status == 200, f"status {status}")
    c.close()


@case("framing")
def rst_stream_with_bad_length_is_frame_size_error():
    c = Connection()
    sid = c.request(end_stream=False)
    c.send_raw(raw_frame(0x3, 0, sid, b"\x00\x00\x00"))
    c.expect_goaway(FRAME_SIZE_ERROR)


@case("framing")
def goaway_from_client_ends_the_connection():
    c = Connection()
    c.send(GoAwayFrame(0, last_stream_id=0, error_code=NO_ERROR))
    c.expect_closed()


# MARK: - Stream states (RFC 9113 §5.1)


@case("streams")
def many_streams_share_one_connection():
    c = Connection()
    sids = [c.request("/healthz") for _ in range(50)]
    for sid in sids:
        status, _, _ = c.response(sid)
        check(status == 200, f"stream {sid}: {status}")
    c.close()


@case("streams")
def even_stream_id_from_client_is_protocol_error():
    c = Connection()
    c.request(stream=2)
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams")
def data_on_idle_stream_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x0, 0x1, 1, b"x"))
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams")
def rst_stream_on_idle_stream_is_protocol_error():
    c = Connection()
    c.send(RstStreamFrame(1, error_code=0x8))
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams")
def window_update_on_idle_stream_is_protocol_error():
    c = Connection()
    c.send(WindowUpdateFrame(1, window_increment=100))
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams")
def data_after_end_stream_is_stream_closed():
    c = Connection()
    sid = c.request()
    c.send_raw(raw_frame(0x0, 0x1, sid, b"late"))
    seen, _ = c.frames_until(
        lambda f: (isinstance(f, RstStreamFrame) and f.stream_id == sid) or isinstance(f, GoAwayFrame)
    )
    last = seen[-1] if seen else None
    check(last is not None and last.error_code == STREAM_CLOSED, f"wanted STREAM_CLOSED, got {last}")
    c.close()


@case("streams")
def continuation_without_headers_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x9, 0x4, 1, c.headers_block()))
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams")
def other_frame_inside_a_header_block_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x1, 0x1, 1, c.headers_block()) + PingFrame(0, opaque_data=b"12345678").serialize())
    c.expect_goaway(PROTOCOL_ERROR)


@case("streams")
def streams_beyond_the_limit_are_refused():
    c = Connection()
    # Bodies that never end keep the streams open after their answer (half-closed on our side).
    sids = [c.request("/healthz", method="POST", end_stream=False) for _ in range(101)]
    seen, refused = c.frames_until(
        lambda f: (isinstance(f, RstStreamFrame) and f.stream_id == sids[-1]) or isinstance(f, GoAwayFrame),
        timeout=5,
    )
    check(refused is not None, "stream 101 was neither refused nor the connection ended")
    check(
        refused.error_code in (REFUSED_STREAM, PROTOCOL_ERROR),
        f"stream beyond the limit: code {refused.error_code}",
    )
    c.close()


@case("streams")
def client_reset_of_a_stream_leaves_the_connection_usable():
    c = Connection()
    sid = c.request("/en/", end_stream=True)
    c.send(RstStreamFrame(sid, error_code=0x8))
    status, _, _ = c.response(c.request("/healthz"))
    check(status == 200, f"status {status}")
    c.close()


# MARK: - HTTP semantics over HTTP/2 (RFC 9113 §8)


def stream_reset(c, sid, code=PROTOCOL_ERROR):
    seen, last = c.frames_until(
        lambda f: (isinstance(f, RstStreamFrame) and f.stream_id == sid) or isinstance(f, GoAwayFrame)
    )
    check(last is not None, "no RST_STREAM")
    check(isinstance(last, RstStreamFrame) and last.error_code == code, f"wanted RST_STREAM {code}, got {last}")


@case("semantics")
def uppercase_header_name_is_malformed():
    c = Connection()
    stream_reset(c, c.request(extra=[("User-Agent", "x")]))
    c.close()


@case("semantics")
def connection_specific_header_is_malformed():
    c = Connection()
    stream_reset(c, c.request(extra=[("connection", "keep-alive")]))
    c.close()


@case("semantics")
def missing_path_is_malformed():
    c = Connection()
    block = c.encoder.encode([(":method", "GET"), (":scheme", "https"), (":authority", "localhost")])
    c.send_raw(raw_frame(0x1, 0x5, 1, block))
    stream_reset(c, 1)
    c.close()


@case("semantics")
def pseudo_header_after_regular_is_malformed():
    c = Connection()
    block = c.encoder.encode(
        [(":method", "GET"), (":scheme", "https"), ("accept", "*/*"), (":path", "/"), (":authority", "x")]
    )
    c.send_raw(raw_frame(0x1, 0x5, 1, block))
    stream_reset(c, 1)
    c.close()


@case("semantics")
def head_has_length_and_no_body():
    c = Connection()
    status, headers, body = c.response(c.request(ARGS.large, method="HEAD"))
    check(status == 200 and body == b"", f"HEAD: {status}, {len(body)} body bytes")
    check(int(headers.get("content-length", "0")) > 0, "HEAD lost its content-length")
    c.close()


@case("semantics")
def post_is_method_not_allowed_with_allow():
    c = Connection()
    status, headers, _ = c.response(c.request("/en/", method="POST"))
    check(status == 405 and "GET" in headers.get("allow", ""), f"POST: {status} {headers}")
    c.close()


@case("semantics")
def range_request_gets_partial_content():
    c = Connection()
    status, headers, body = c.response(c.request(ARGS.large, extra=[("range", "bytes=10-19")]))
    check(status == 206 and len(body) == 10, f"range: {status}, {len(body)} bytes")
    check(headers.get("content-range") == f"bytes 10-19/{ARGS.large_size}", f"{headers.get('content-range')}")
    c.close()


@case("semantics")
def conditional_request_gets_not_modified():
    c = Connection()
    _, headers, _ = c.response(c.request("/en/"))
    status, _, body = c.response(c.request("/en/", extra=[("if-none-match", headers["etag"])]))
    check(status == 304 and body == b"", f"conditional: {status}")
    c.close()


@case("semantics")
def unknown_path_is_not_found():
    c = Connection()
    status, _, _ = c.response(c.request("/no/such/page"))
    check(status == 404, f"status {status}")
    c.close()


# MARK: - Flow control (RFC 9113 §5.2, §6.9)


@case("flow control")
def zero_initial_window_holds_data_until_window_update():
    c = Connection(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    sid = c.request("/en/")
    seen, _ = c.frames_until(lambda f: isinstance(f, DataFrame) and f.stream_id == sid, timeout=0.5)
    check(not any(isinstance(f, DataFrame) and f.data for f in seen), "DATA sent into a zero window")
    c.send(WindowUpdateFrame(sid, window_increment=1 << 20))
    status, _, body = c.response(sid)
    check(status == 200 and len(body) > 1000, f"after WINDOW_UPDATE: {status}, {len(body)} bytes")
    c.close()


@case("flow control")
def data_never_exceeds_the_stream_window():
    c = Connection(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 1000})
    sid = c.request("/en/")
    received = 0
    deadline = time.monotonic() + 0.7
    while time.monotonic() < deadline:
        try:
            frame = c.read_frame(0.1)
        except Failure:
            continue
        if isinstance(frame, DataFrame) and frame.stream_id == sid:
            received += frame.flow_controlled_length
    check(received == 1000, f"{received} bytes sent into a 1000-byte window")
    c.close()


@case("flow control")
def window_update_of_zero_is_protocol_error():
    c = Connection()
    c.send_raw(raw_frame(0x8, 0, 0, struct.pack(">I", 0)))
    c.expect_goaway(PROTOCOL_ERROR)


@case("flow control")
def connection_window_overflow_is_flow_control_error():
    c = Connection()
    c.send(WindowUpdateFrame(0, window_increment=2**31 - 1))
    c.expect_goaway(FLOW_CONTROL_ERROR)


@case("flow control")
def stream_window_overflow_resets_the_stream():
    c = Connection(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    sid = c.request("/en/")
    c.send(WindowUpdateFrame(sid, window_increment=2**31 - 1), WindowUpdateFrame(sid, window_increment=2**31 - 1))
    stream_reset(c, sid, FLOW_CONTROL_ERROR)
    c.close()


@case("flow control")
def zero_window_stall_is_closed_after_the_send_timeout():
    c = Connection(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    c.request(ARGS.large)
    start = time.monotonic()
    c.expect_goaway(NO_ERROR, timeout=ARGS.send_timeout + 5)
    waited = time.monotonic() - start
    check(waited >= ARGS.send_timeout - 0.5, f"closed after {waited:.1f} s, before the send timeout")


@case("flow control")
def slow_reader_of_a_large_file_is_not_buffered():
    before = rss_kib()
    c = Connection(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 2**31 - 1})
    c.send(WindowUpdateFrame(0, window_increment=2**31 - 1 - 65535))
    sid = c.request(ARGS.large)
    time.sleep(1.5)  # read nothing: the socket buffers fill, then the server must stop producing
    grown = rss_kib() - before
    check(grown < 8 * 1024, f"server RSS grew {grown} KiB while a client did not read a {ARGS.large_size}-byte file")
    status, _, body = c.response(sid, timeout=30)
    check(status == 200 and len(body) == ARGS.large_size, f"large file: {status}, {len(body)} bytes")
    c.close()


# MARK: - HPACK (RFC 7541)


@case("hpack")
def invalid_index_is_compression_error():
    c = Connection()
    c.send_raw(raw_frame(0x1, 0x5, 1, b"\xff\xff\xff\xff\x0f"))  # indexed field 2^28+: past every table
    c.expect_goaway(COMPRESSION_ERROR)


@case("hpack")
def table_size_update_above_settings_is_compression_error():
    c = Connection()
    c.send_raw(raw_frame(0x1, 0x5, 1, b"\x3f\xe1\xff\x03" + c.headers_block()))  # size update to 65536
    c.expect_goaway(COMPRESSION_ERROR)


@case("hpack")
def hpack_bomb_gets_431_and_costs_no_memory():
    before = rss_kib()
    c = Connection()
    # One 4000-byte entry in the dynamic table, then a block of one-byte references to it: ~16 KiB on the wire
    # that decodes to ~60 MiB of headers.
    encoder = Encoder()
    first = encoder.encode([(":method", "GET"), (":scheme", "https"), (":authority", "x"), (":path", "/healthz")])
    bomb = encoder.encode([("x-bomb", "a" * 4000)])
    block = first + bomb + b"\xbe" * (16000 - len(first) - len(bomb))  # 0xbe: dynamic table index 62
    c.send_raw(raw_frame(0x1, 0x5, 1, block))
    c.decoder = Decoder()
    status, _, _ = c.response(1)
    check(status == 431, f"HPACK bomb: status {status}")
    grown = rss_kib() - before
    check(grown < 16 * 1024, f"server RSS grew {grown} KiB on an HPACK bomb")
    c.close()


@case("hpack")
def header_list_above_the_limit_gets_431():
    c = Connection()
    sid = c.request("/healthz", extra=[(f"x-h{i}", "v" * 1000) for i in range(40)])
    status, _, _ = c.response(sid)
    check(status == 431, f"status {status}")
    c.close()


# MARK: - Floods (CVE-2019-9512…9518, CVE-2023-44487, CVE-2024-27316)


def flood(c, frames, batch=200):
    """Sends `frames` in batches until the server closes the connection; True if it did."""
    try:
        for i in range(0, len(frames), batch):
            c.send_raw(b"".join(frames[i : i + batch]))
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
        return True
    return False


@case("floods")
def rapid_reset_gets_goaway():
    c = Connection()
    frames = []
    encoder = c.encoder
    for n in range(3000):
        sid = 1 + 2 * n
        block = encoder.encode([(":method", "GET"), (":scheme", "https"), (":authority", "x"), (":path", "/en/")])
        frames.append(raw_frame(0x1, 0x5, sid, block) + RstStreamFrame(sid, error_code=0x8).serialize())
    flood(c, frames)
    _, goaway = c.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout=5)
    check(goaway is not None, "no GOAWAY after 3000 HEADERS+RST_STREAM")
    check(goaway.error_code in (ENHANCE_YOUR_CALM, INTERNAL_ERROR), f"rapid reset: GOAWAY {goaway.error_code}")
    c.expect_closed()


@case("floods")
def continuation_flood_gets_goaway():
    c = Connection()
    frames = [raw_frame(0x1, 0x1, 1, c.headers_block())]
    frames += [raw_frame(0x9, 0, 1, b"\x40\x01a\x01b") for _ in range(2000)]  # never END_HEADERS
    flood(c, frames)
    _, goaway = c.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout=5)
    check(goaway is not None, "no GOAWAY after 2000 CONTINUATION frames")
    check(goaway.error_code in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR, INTERNAL_ERROR), f"{goaway.error_code}")
    c.expect_closed()


@case("floods")
def empty_continuation_flood_gets_goaway():
    c = Connection()
    frames = [raw_frame(0x1, 0x1, 1, c.headers_block())] + [raw_frame(0x9, 0, 1, b"") for _ in range(5000)]
    flood(c, frames)
    _, goaway = c.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout=5)
    check(goaway is not None, "no GOAWAY after 5000 empty CONTINUATION frames")
    c.expect_closed()


def control_flood(frames, wanted=ENHANCE_YOUR_CALM):
    c = Connection()
    flood(c, frames)
    _, goaway = c.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout=5)
    check(goaway is not None, f"no GOAWAY after {len(frames)} frames")
    check(goaway.error_code == wanted, f"GOAWAY {goaway.error_code}, wanted {wanted}")
    c.expect_closed()


@case("floods")
def settings_flood_gets_goaway():
    control_flood([SettingsFrame(0).serialize()] * 20000)


@case("floods")
def ping_flood_gets_goaway():
    control_flood([PingFrame(0, opaque_data=b"floodpin").serialize()] * 20000)


@case("floods")
def window_update_flood_gets_goaway():
    control_flood([WindowUpdateFrame(0, window_increment=1).serialize()] * 20000)


@case("floods")
def priority_flood_gets_goaway():
    control_flood([PriorityFrame(1 + 2 * (n % 1000), depends_on=0, stream_weight=16).serialize() for n in range(20000)])


@case("floods")
def empty_data_flood_gets_goaway():
    c = Connection()
    sid = c.request("/healthz", method="POST", end_stream=False)
    flood(c, [raw_frame(0x0, 0, sid, b"")] * 20000)
    _, goaway = c.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout=5)
    check(goaway is not None and goaway.error_code == ENHANCE_YOUR_CALM, f"empty DATA flood: {goaway}")
    c.expect_closed()


@case("floods")
def many_connections_flooding_at_once_leave_the_server_serving():
    conns = [Connection() for _ in range(20)]
    for c in conns:
        flood(c, [PingFrame(0, opaque_data=b"12345678").serialize()] * 5000)
    for c in conns:
        c.close()


@case("floods")
def memory_comes_back_after_the_floods():
    time.sleep(0.5)
    grown = rss_kib() - BASELINE_RSS[0]
    check(grown < 48 * 1024, f"server RSS is {grown} KiB above where it was before the suite")


BASELINE_RSS = [0]


def reload_keeps_connections():
    """SIGHUP (certificates, templates and content reloaded) leaves an open h2 connection serving, and new
    connections handshake with the reloaded context."""
    c = Connection()
    status, _, _ = c.response(c.request("/healthz"))
    check(status == 200, f"before the reload: {status}")
    os.kill(ARGS.pid, signal.SIGHUP)
    time.sleep(1.5)
    for _ in range(3):
        status, _, _ = c.response(c.request("/healthz"))
        check(status == 200, f"same connection after the reload: {status}")
    c.close()
    normal_get_ok()


def graceful_shutdown():
    """SIGTERM while a large response is held back by a closed window: GOAWAY(NO_ERROR) naming that stream,
    the stream still completes once the window opens, then the server closes the connection."""
    c = Connection(settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    sid = c.request(ARGS.large)
    c.frames_until(lambda f: isinstance(f, HeadersFrame) and f.stream_id == sid)
    os.kill(ARGS.pid, signal.SIGTERM)
    _, goaway = c.frames_until(lambda f: isinstance(f, GoAwayFrame), timeout=5)
    check(goaway is not None, "no GOAWAY after SIGTERM")
    check(goaway.error_code == NO_ERROR, f"GOAWAY code {goaway.error_code}")
    check(goaway.last_stream_id == sid, f"GOAWAY last-stream-id {goaway.last_stream_id}, wanted {sid}")
    c.send(WindowUpdateFrame(0, window_increment=2**31 - 1 - 65535), WindowUpdateFrame(sid, window_increment=2**31 - 1))
    status, _, body = c.response(sid, timeout=30)
    check(status == 200 and len(body) == ARGS.large_size, f"after GOAWAY: {status}, {len(body)} bytes")
    c.close()  # every stream is done: the client closes, and the server, which waited for that, exits


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--large", required=True, help="path of a large static file")
    parser.add_argument("--large-size", type=int, required=True)
    parser.add_argument("--send-timeout", type=float, default=2.0)
    parser.add_argument("--only", default="")
    parser.add_argument(
        "--no-memory-checks", dest="memory_checks", action="store_false",
        help="skip the RSS bounds (a sanitizer's allocator keeps freed memory: RSS then says nothing of ours)",
    )
    parser.add_argument("--shutdown", action="store_true", help="only the SIGTERM case (the server exits)")
    parser.add_argument("--reload", action="store_true", help="only the SIGHUP case")
    ARGS = parser.parse_args()
    if ARGS.reload:
        try:
            reload_keeps_connections()
        except (Failure, OSError, ssl.SSLError) as error:
            print(f"FAIL  reload: reload_keeps_connections: {error}", flush=True)
            sys.exit(1)
        print("ok    reload: reload_keeps_connections", flush=True)
        return
    if ARGS.shutdown:
        try:
            graceful_shutdown()
        except (Failure, OSError, ssl.SSLError) as error:
            print(f"FAIL  shutdown: graceful_shutdown: {error}", flush=True)
            sys.exit(1)
        print("ok    shutdown: graceful_shutdown", flush=True)
        return
    normal_get_ok()
    BASELINE_RSS[0] = rss_kib()
    passed, failed = 0, []
    for section, fn in CASES:
        if ARGS.only and ARGS.only not in fn.__name__:
            continue
        name = f"{section}: {fn.__name__}"
        try:
            fn()
            normal_get_ok()
            passed += 1
            print(f"ok    {name}", flush=True)
        except (Failure, OSError, ssl.SSLError) as error:
            failed.append(name)
            print(f"FAIL  {name}: {error}", flush=True)
    print(f"{passed + len(failed)} cases, {passed} passed, {len(failed)} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
