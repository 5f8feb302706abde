"""Replicas behind HAProxy with results in Redis (loopback, bounded, starts and stops all).

    python3 cluster_test.py REGAIN_BIN HAPROXY_CFG WORK_DIR

1. A single `regain serve` (disk store) processes the test image: the reference bytes.
2. redis-server + 3 replicas (--store redis://...) + haproxy (deploy/haproxy/regain.cfg).
3. 200 uploads through the balancer from 4 client threads, each result fetched through the
   balancer (round robin: mostly from another replica than the one that stored it); every
   byte must equal the single-process result. After 60 uploads one replica is SIGKILLed:
   requests that fail are retried by the client (502/503/504 or a dropped connection), and no
   acknowledged result may be lost or differ.
4. Redis is restarted: the replicas report unhealthy while it is down and recover by
   themselves (no restart); uploads succeed again.
5. Redis restarted between two requests: the next upload to a replica succeeds at once (its
   dead pooled connections are replaced, not reported).
6. Redis at maxmemory: 503 store_full (not a 500), then accepted again once there is room.
Prints the figures (uploads, retries, per-replica job counts, Redis memory per result) and
ends with "cluster: ok" or raises.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

REGAIN, CFG, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)
procs = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, name, env=None):
    log = open(os.path.join(WORK, name + ".log"), "wb")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def request(port, method, path, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_healthy(port, deadline_s=30):
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            if request(port, "GET", "/health", timeout=2)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def multipart(img):
    b = uuid.uuid4().hex
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"img\"; filename=\"a.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + img + f"\r\n--{b}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={b}"}


def process_once(port, img):
    """One upload and its result.jpg: (bytes, id) or raises with the status."""
    body, headers = multipart(img)
    status, data = request(port, "POST", "/process", body, headers)
    if status != 200:
        raise RuntimeError(f"POST {status}: {data[:200]!r}")
    j = json.loads(data)
    status, out = request(port, "GET", j["results"]["hdr"])
    if status != 200:
        raise RuntimeError(f"GET {status}: {out[:200]!r}")
    return out, j["id"]


def with_retries(fn, tries=60):
    """Client retry policy: transport errors, 502, 503, 504 are retried after a short pause."""
    for k in range(tries):
        try:
            return fn(), k
        except (OSError, http.client.HTTPException, RuntimeError) as e:
            msg = str(e)
            if isinstance(e, RuntimeError) and not any(s in msg for s in ("502", "503", "504")):
                raise
            time.sleep(0.2)
    raise RuntimeError("gave up after retries")


def main():
    subprocess.run([REGAIN, "samples", "--out", os.path.join(WORK, "samples"), "--width", "320", "--height", "240"],
                   check=True, capture_output=True)
    img = open(os.path.join(WORK, "samples", "sunset_sdr.jpg"), "rb").read()

    # 1. The single-process reference.
    p0 = free_port()
    single = start([REGAIN, "serve", "--port", str(p0), "--quiet"], "single")
    assert wait_healthy(p0), "single server did not start"
    expected, _ = process_once(p0, img)
    single.terminate()
    single.wait(timeout=10)

    # 2. The cluster.
    redis_port, lb = free_port(), free_port()
    ports = [free_port() for _ in range(3)]
    redis_cmd = ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--maxmemory", "256mb", "--maxmemory-policy", "noeviction", "--dir", WORK]
    redis = start(redis_cmd, "redis")
    store = f"redis://127.0.0.1:{redis_port}"
    replicas = [start([REGAIN, "serve", "--port", str(p), "--workers", "1", "--store", store, "--quiet"], f"r{i}")
                for i, p in enumerate(ports)]
    env = dict(os.environ, REGAIN_LB_BIND=f"127.0.0.1:{lb}", REGAIN_R1=f"127.0.0.1:{ports[0]}",
               REGAIN_R2=f"127.0.0.1:{ports[1]}", REGAIN_R3=f"127.0.0.1:{ports[2]}")
    start(["haproxy", "-db", "-f", CFG], "haproxy", env)
    for p in ports:
        assert wait_healthy(p), f"replica on {p} did not start"
    assert wait_healthy(lb), "haproxy did not start"
    h = json.loads(request(ports[0], "GET", "/health")[1])
    assert h["store"] == {"kind": "redis", "reachable": True, "detail": ""}, h["store"]
    used0 = redis_info(redis_port, "used_memory")

    # 3. 200 uploads through the balancer, one replica killed on the way.
    total, done, retries, acked = 200, [0], [0], []
    lock = threading.Lock()
    killed = []

    def client(n):
        for _ in range(n):
            (out, rid), k = with_retries(lambda: process_once(lb, img))
            with lock:
                retries[0] += k
                done[0] += 1
                acked.append((rid, out))
                if done[0] == 60 and not killed:
                    replicas[1].send_signal(signal.SIGKILL)
                    killed.append(done[0])
            if out != expected:
                raise AssertionError(f"result {rid} differs from the single-process run")

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(total // 4,)) for _ in range(4)]
    errors = []
    for t in threads:
        t.run = (lambda f: (lambda: _catch(f, errors)))(t.run)
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    assert done[0] == total, f"{done[0]} of {total} uploads finished"
    seconds = time.time() - t0
    # Every acknowledged result is still there, identical, from the balancer.
    for rid, _ in acked:
        (data, _), _k = with_retries(lambda: (request(lb, "GET", f"/result/{rid}/result.jpg")[1], None))
        assert data == expected, f"acknowledged result {rid} lost or changed"
    jobs = [json.loads(request(p, "GET", "/health")[1])["jobs_done"] for i, p in enumerate(ports) if i != 1]
    per_result = (redis_info(redis_port, "used_memory") - used0) / total
    print(f"cluster: {total} uploads through haproxy in {seconds:.1f} s, {retries[0]} client retries "
          f"(replica 2 SIGKILLed after {killed[0]}); jobs done by the surviving replicas: {jobs}; "
          f"every result identical to the single-process run ({len(expected)} bytes); "
          f"redis memory per stored result (5 files): {per_result / 1024:.1f} KiB")

    # 4. Redis restarts: replicas go unhealthy, then recover by themselves.
    redis.terminate()
    redis.wait(timeout=10)
    end = time.time() + 10
    while time.time() < end and request(ports[0], "GET", "/health")[0] != 503:
        time.sleep(0.1)
    status, body = request(ports[0], "GET", "/health")
    assert status == 503 and json.loads(body)["store"]["reachable"] is False, body
    status, body = request(lb, "GET", "/health", timeout=5)
    print(f"cluster: redis down -> replica /health 503, balancer /health {status}")
    start(redis_cmd, "redis2")
    assert wait_healthy(ports[0], 20), "replica did not recover after redis came back"
    (out, _), k = with_retries(lambda: process_once(lb, img))
    assert out == expected
    print(f"cluster: redis restarted -> replicas healthy again without restart, upload ok after {k} retries")

    # 5. A quick Redis restart between two requests: the replica's pooled connections are all
    # dead; the next request must still succeed at once (a dead pooled connection is
    # replaced, not reported).
    procs[-1].terminate()
    procs[-1].wait(timeout=10)
    start(redis_cmd, "redis3")
    end = time.time() + 10
    while time.time() < end and subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True,
                                                text=True).stdout.strip() != "PONG":
        time.sleep(0.05)
    out, _ = process_once(ports[2], img)  # no retries
    assert out == expected
    print("cluster: redis restarted between requests -> the next upload succeeded at once")

    # 6. A full Redis refuses new results with 503 store_full (never a 500), and recovers.
    subprocess.run(["redis-cli", "-p", str(redis_port), "config", "set", "maxmemory", "1"], check=True,
                   capture_output=True)
    body, headers = multipart(img)
    status, data = request(ports[2], "POST", "/process", body, headers)
    assert status == 503 and json.loads(data)["error"]["code"] == "store_full", (status, data[:200])
    subprocess.run(["redis-cli", "-p", str(redis_port), "config", "set", "maxmemory", "256mb"], check=True,
                   capture_output=True)
    assert process_once(ports[2], img)[0] == expected
    print("cluster: redis at maxmemory -> 503 store_full; accepted again once there is room")
    print("cluster: ok")


def _catch(f, errors):
    try:
        f()
    except BaseException as e:  # reported by the main thread
        errors.append(repr(e))


def redis_info(port, field):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":")[1])
    return 0


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
