"""A grpcio peer for gochan-grpc's interop tests: gochan.Search with hand-encoded protobuf.

  python3 peer.py server
      serves on 127.0.0.1 (a free port), prints "PORT <n>", then one line per event:
      "CALL <query> budget_us=<n|none> id=<x-request-id>", "DONE <query>",
      "CANCELLED <query> after_ms=<n> budget_left_us=<n|none>".
  python3 peer.py client <host:port> <timeout_s|none> <query> <work_ms> [cancel_after_s]
      one call; prints "OK budget_us=<n|none> id=<id> hops=<a,b>" or "ERR <StatusCode name>".
"""
import sys
import threading
import time
from concurrent import futures

import grpc

METHOD = "/gochan.Search/Search"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def fields(buf):
    """Yields (field number, value): ints for varints, bytes for length-delimited."""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(buf, i)
        elif wire == 2:
            ln, i = read_varint(buf, i)
            v, i = bytes(buf[i : i + ln]), i + ln
        else:
            raise ValueError("unexpected wire type %d" % wire)
        yield num, v


def string_field(num, s):
    b = s.encode("utf-8")
    return varint(num << 3 | 2) + varint(len(b)) + b


def varint_field(num, n):
    return varint(num << 3) + varint(n)


def encode_request(query, work_ms):
    out = string_field(1, query)
    if work_ms:
        out += varint_field(2, work_ms)
    return out


def decode_request(buf):
    req = {"query": "", "work_ms": 0}
    for num, v in fields(buf):
        if num == 1:
            req["query"] = v.decode("utf-8")
        elif num == 2:
            req["work_ms"] = v
    return req


def encode_response(results, budget_us, request_id):
    out = b"".join(string_field(1, r) for r in results)
    if budget_us is not None:
        out += varint_field(2, budget_us)
    if request_id:
        out += string_field(3, request_id)
    return out


def decode_response(buf):
    resp = {"results": [], "budget_us": None, "request_id": "", "hops": []}
    for num, v in fields(buf):
        if num == 1:
            resp["results"].append(v.decode("utf-8"))
        elif num == 2:
            resp["budget_us"] = v
        elif num == 3:
            resp["request_id"] = v.decode("utf-8")
        elif num == 4:
            if isinstance(v, int):
                resp["hops"].append(v)
            else:  # packed
                j = 0
                while j < len(v):
                    n, j = read_varint(v, j)
                    resp["hops"].append(n)
    return resp


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def fmt_us(seconds):
    return "none" if seconds is None else str(int(seconds * 1e6))


def remaining_of(context):
    """None without a deadline (grpcio then reports a huge number of seconds)."""
    r = context.time_remaining()
    return None if r is None or r > 1e7 else r


def search(req, context):
    remaining = remaining_of(context)
    rid = dict(context.invocation_metadata()).get("x-request-id", "")
    say("CALL %s budget_us=%s id=%s" % (req["query"], fmt_us(remaining), rid))
    start = time.monotonic()
    ended = threading.Event()
    context.add_callback(ended.set)
    while time.monotonic() - start < req["work_ms"] / 1000.0:
        if ended.wait(0.005) or not context.is_active():
            say(
                "CANCELLED %s after_ms=%d budget_left_us=%s"
                % (req["query"], (time.monotonic() - start) * 1000, fmt_us(remaining_of(context)))
            )
            return b""
    say("DONE %s" % req["query"])
    budget = None if remaining is None else int(remaining * 1e6)
    return encode_response(["py:" + req["query"]], budget, rid)


def serve():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    handler = grpc.method_handlers_generic_handler(
        "gochan.Search",
        {
            "Search": grpc.unary_unary_rpc_method_handler(
                search, request_deserializer=decode_request, response_serializer=lambda b: b
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    say("PORT %d" % port)
    # Runs until the test kills it (or its stdin closes).
    sys.stdin.read()
    server.stop(0)


def client(addr, timeout, query, work_ms, cancel_after=None):
    timeout = None if timeout == "none" else float(timeout)
    with grpc.insecure_channel(addr) as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        call = ch.unary_unary(
            METHOD, request_serializer=lambda b: b, response_deserializer=decode_response
        )
        md = (("x-request-id", "py-" + query),)
        req = encode_request(query, int(work_ms))
        try:
            if cancel_after is None:
                resp = call(req, timeout=timeout, metadata=md)
            else:
                fut = call.future(req, timeout=timeout, metadata=md)
                time.sleep(float(cancel_after))
                fut.cancel()
                resp = fut.result()
        except grpc.FutureCancelledError:
            say("ERR CANCELLED")
            return
        except grpc.RpcError as e:
            say("ERR %s %s" % (e.code().name, e.details()))
            return
        say(
            "OK budget_us=%s id=%s hops=%s results=%s"
            % (
                "none" if resp["budget_us"] is None else resp["budget_us"],
                resp["request_id"],
                ",".join(str(h) for h in resp["hops"]),
                ",".join(resp["results"]),
            )
        )


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve()
    else:
        client(*sys.argv[2:])
