"""The draw of docs/evaluation.md, "Session 15: asyncio, trio and anyio, fresh reading".

    python benchmarks/evaluation/async16_sample.py OUT_DIR

OUT_DIR holds one ``socklint check --format json`` result per package (run on
``.../pkgs/NAME-VERSION/``). Each SKL1xx finding goes to group A (SKL101-SKL104, SKL111,
SKL112 on a stream writer, transport, server, trio/anyio stream or listener, or a socket from
``loop.sock_accept``: the factory its trace names, or a ``start_server`` handler's writer), B
(SKL108) or other; "tests" is a path with a tests/examples folder or a test_* file. Group A is
capped at 4 findings per package and code (``random.Random(16)``), then 45 are drawn with the
same generator; the draw is written to sampleA.json and group B to allB.json in the current
folder, and listed.
"""
import collections
import glob
import json
import os
import random
import re
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "out"

A_FACTORIES = {
    "open_connection", "open_unix_connection", "create_connection", "create_unix_connection",
    "create_datagram_endpoint", "connect_accepted_socket", "start_tls", "start_server",
    "start_unix_server", "create_server", "create_unix_server", "sock_accept",
    "open_tcp_stream", "open_ssl_over_tcp_stream", "open_unix_socket", "connect_tcp",
    "connect_unix", "create_tcp_listener", "create_unix_listener", "open_tcp_listeners",
    "open_ssl_over_tcp_listeners", "create_udp_socket", "create_connected_udp_socket",
    "create_unix_datagram_socket", "create_connected_unix_datagram_socket",
}
A_CODES = {"SKL101", "SKL102", "SKL103", "SKL104", "SKL111", "SKL112"}


def factory(x):
    for s in x["trace"]:
        if "connection this handler owns" in s["note"]:
            return "handler"
        m = re.search(r"created by `(?:await )?([\w.]+)\(\)`", s["note"]) or re.search(r"from `([\w.]+)\(\)`", s["note"])
        if m:
            return m.group(1).rsplit(".", 1)[-1]
    m = re.search(r"from `([\w.]+)\(\)`", x["message"]) or re.search(r"made by `([\w.]+)\(\)`", x["message"])
    return m.group(1).rsplit(".", 1)[-1] if m else None


def pkg_of(rel):
    return rel.split("/", 1)[0]


def where(rel):
    parts = rel.lower().split("/")
    if any(p in ("tests", "test", "testing", "examples", "example", "demo", "demos") or p.startswith("test_") or p.endswith("_test.py") or p in ("conftest.py", "testutil.py", "test_server.py", "should_bug.py") for p in parts[1:]):
        return "tests/examples"
    return "library"


def load():
    out = []
    for f in sorted(glob.glob(os.path.join(OUT, "*.json"))):
        with open(f, encoding="utf-8") as fh:
            results = json.load(fh)
        for x in results:
            if not x["code"].startswith("SKL1"):
                continue
            rel = x["path"].split("pkgs/", 1)[1]
            fac = factory(x)
            if x["code"] == "SKL108":
                g = "B"
            elif x["code"] in A_CODES and (fac == "handler" or fac in A_FACTORIES):
                g = "A"
            else:
                g = "other"
            out.append({"group": g, "rel": rel, "line": x["line"], "code": x["code"], "factory": fac, "where": where(rel), "x": x})
    return out


def sample(items, cap=4, n=45, seed=16):
    rng = random.Random(seed)
    by = collections.defaultdict(list)
    for it in items:
        by[(pkg_of(it["rel"]), it["code"])].append(it)
    capped, dropped = [], []
    for k in sorted(by):
        v = by[k]
        if len(v) > cap:
            keep = rng.sample(v, cap)
            dropped += [i for i in v if i not in keep]
            v = [i for i in v if i in keep]
        capped += v
    if len(capped) > n:
        chosen = rng.sample(capped, n)
        chosen = [i for i in capped if i in chosen]
    else:
        chosen = capped
    return capped, dropped, chosen


if __name__ == "__main__":
    items = load()
    c = collections.Counter((i["group"], i["code"]) for i in items)
    print(sorted(c.items()))
    A = [i for i in items if i["group"] == "A"]
    B = [i for i in items if i["group"] == "B"]
    capped, dropped, chosen = sample(A)
    print(f"A found {len(A)}, after cap {len(capped)} (dropped {len(dropped)}), sample {len(chosen)}")
    print("A by where:", collections.Counter(i["where"] for i in A), "sample:", collections.Counter(i["where"] for i in chosen))
    def row(i):
        return {"rel": i["rel"], "line": i["line"], "code": i["code"], "factory": i["factory"], "where": i["where"], "message": i["x"]["message"], "trace": i["x"]["trace"]}

    with open("sampleA.json", "w", encoding="utf-8") as fh:
        json.dump([row(i) for i in chosen], fh, indent=1)
    with open("allB.json", "w", encoding="utf-8") as fh:
        json.dump([row(i) for i in B], fh, indent=1)
    for i in chosen:
        print("S", i["code"], f'{i["rel"]}:{i["line"]}', i["factory"], i["where"])
    for i in dropped:
        print("CAPPED", i["code"], f'{i["rel"]}:{i["line"]}')
    for i in A:
        if i not in chosen and i not in dropped:
            print("UNSAMPLED", i["code"], f'{i["rel"]}:{i["line"]}')
    for i in B:
        print("B", i["code"], f'{i["rel"]}:{i["line"]}', i["where"])
    for i in items:
        if i["group"] == "other":
            print("OTHER", i["code"], f'{i["rel"]}:{i["line"]}', i["factory"])
